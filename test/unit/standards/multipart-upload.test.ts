import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { MAX_IMPORT_BYTES, readUpload } from '../../../src/web/admin/standards/upload.ts';

/** A request whose body is `body`, as the upload route receives it. */
function request(body: string | Buffer, contentType = 'multipart/form-data; boundary=XyZ') {
  const stream = new PassThrough();
  const req = Object.assign(stream, {
    headers: { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) },
  });
  stream.end(body);
  return req as unknown as IncomingMessage;
}

const part = (headers: string, value: string): string => `--XyZ\r\n${headers}\r\n\r\n${value}\r\n`;
const field = (name: string, value: string): string =>
  part(`Content-Disposition: form-data; name="${name}"`, value);
const file = (name: string, filename: string, value: string): string =>
  part(`Content-Disposition: form-data; name="${name}"; filename="${filename}"`, value);
const END = '--XyZ--\r\n';

const INCOMPLETE = 'The upload did not arrive complete. Choose the file again and import it.';

describe('standards import uploads (multipart/form-data read by busboy)', () => {
  it('when the form has text fields and one file, then both are read', async () => {
    const upload = await readUpload(
      request(field('_csrf', 'tok') + file('file', 'café.json', '{"x":1}') + END),
    );
    if (!upload.ok) throw new Error(upload.problem.message);
    expect(upload.fields).to.deep.equal({ _csrf: 'tok' });
    expect(upload.file?.filename).to.equal('café.json');
    expect(upload.file?.data.toString()).to.equal('{"x":1}');
  });

  it('when no file is chosen, then the upload has no file, or an empty one', async () => {
    // Browsers send an empty file input as `filename=""` of type application/octet-stream.
    const chosenNone = part(
      'Content-Disposition: form-data; name="file"; filename=""\r\nContent-Type: application/octet-stream',
      '',
    );
    for (const body of [chosenNone, file('file', '', ''), '']) {
      const upload = await readUpload(request(field('_csrf', 'tok') + body + END));
      if (!upload.ok) throw new Error(upload.problem.message);
      expect(upload.file?.data.length ?? 0).to.equal(0);
    }
  });

  it('when the body is not multipart or has no boundary, then 415 says to use the form', async () => {
    for (const contentType of ['application/json', 'multipart/form-data; charset=utf-8']) {
      const upload = await readUpload(request('{}', contentType));
      expect(upload.ok).to.equal(false);
      if (upload.ok) continue;
      expect(upload.status).to.equal(415);
      expect(upload.problem.message).to.contain('upload form on this page');
    }
  });

  it('when the body is cut off, malformed, or breaks the form (two files, another file field, a long field), then 400 says it did not arrive complete', async () => {
    const bodies = [
      field('_csrf', 'tok') +
        '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n{"x":',
      'hello world',
      file('file', 'a', 'a') + file('file', 'b', 'b') + END,
      file('doc', 'a', 'a') + END,
      field('title', 'x'.repeat(9000)) + END,
      Array.from({ length: 21 }, (_, i) => field(`f${i}`, 'x')).join('') + END,
    ];
    for (const body of bodies) {
      const upload = await readUpload(request(body));
      expect(upload.ok, body.slice(0, 60)).to.equal(false);
      if (upload.ok) continue;
      expect(upload.status).to.equal(400);
      expect(upload.problem).to.deep.equal({
        code: 'invalid_value',
        field: 'file',
        message: INCOMPLETE,
      });
    }
  });

  it('when the file is larger than the limit, then 413 names the limit', async () => {
    const head = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="h.json"\r\n\r\n',
    );
    const body = Buffer.concat([
      head,
      Buffer.alloc(MAX_IMPORT_BYTES + 1, 0x20),
      Buffer.from(`\r\n${END}`),
    ]);
    const upload = await readUpload(request(body));
    expect(upload.ok).to.equal(false);
    if (upload.ok) return;
    expect(upload.status).to.equal(413);
    expect(upload.problem.field).to.equal('file');
    expect(upload.problem.message).to.match(/the limit is 40\.0 MB/);
  });
});
