import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CaseServerError,
  fetchCasePackage,
  type CaseServerErrorCode,
  type CaseServerFetchOptions,
} from '../../../src/standards/case-server.ts';

const PACKAGE = readFileSync(
  new URL('../../fixtures/case/sbac/sbac-math-g3-claim1-target-h.json', import.meta.url),
  'utf8',
);
const PATH = '/ims/case/v1p0/CFPackages';

function route(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? '';
  const json = (status: number, body: string): void => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  };
  if (path === `${PATH}/good` || path === '/ims/case/v1p1/CFPackages/good') {
    json(200, PACKAGE);
    return;
  }
  if (path === `${PATH}/secure`) {
    if (request.headers.authorization === 'Bearer s3cret') json(200, PACKAGE);
    else json(401, '{"error":"unauthorized"}');
    return;
  }
  if (path === `${PATH}/html`) {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html>login</html>');
    return;
  }
  if (path === `${PATH}/other-json`) {
    json(200, '{"hello":"world"}');
    return;
  }
  if (path === `${PATH}/big`) {
    // No content-length: the limit must hold while streaming.
    response.writeHead(200, { 'content-type': 'application/json' });
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    const push = (): void => {
      while (sent < 64) {
        sent++;
        if (!response.write(chunk)) {
          response.once('drain', push);
          return;
        }
      }
      response.end();
    };
    push();
    return;
  }
  if (path === `${PATH}/moved`) {
    response.writeHead(302, { location: 'http://10.0.0.1/ims/case/v1p0/CFPackages/good' });
    response.end();
    return;
  }
  if (path === `${PATH}/slow`) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"CFDocument":'); // and never finishes
    return;
  }
  json(404, '{"error":"not found"}');
}

describe('CASE server client', () => {
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer(route);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });

  const options = (extra: Partial<CaseServerFetchOptions> = {}): CaseServerFetchOptions => ({
    fetch: (input, init) => fetch(input, init),
    resolve: () => Promise.resolve(['127.0.0.1']),
    maxBytes: 1024 * 1024,
    timeoutMs: 2000,
    allowLoopbackHttp: true,
    ...extra,
  });

  async function failure(url: string, opts = options()): Promise<CaseServerErrorCode> {
    try {
      await fetchCasePackage(url, opts);
    } catch (error) {
      if (error instanceof CaseServerError) return error.code;
      throw error;
    }
    throw new Error('expected a CaseServerError');
  }

  it('when a v1p0 or v1p1 package URL is fetched, then the parsed framework comes back', async () => {
    for (const url of [`${base}${PATH}/good`, `${base}/ims/case/v1p1/CFPackages/good`]) {
      const fetched = await fetchCasePackage(url, options());
      expect(fetched.result.ok).to.equal(true);
      if (fetched.result.ok) expect(fetched.result.framework.items.length).to.be.greaterThan(0);
    }
  });

  it('when the server needs a token, then 401 says so, and the bearer token is sent when given', async () => {
    expect(await failure(`${base}${PATH}/secure`)).to.equal('needs_token');
    const fetched = await fetchCasePackage(
      `${base}${PATH}/secure`,
      options({ bearerToken: 's3cret' }),
    );
    expect(fetched.result.ok).to.equal(true);
  });

  it('when the package is missing, too large, not JSON or not CASE, then each has its own error', async () => {
    expect(await failure(`${base}${PATH}/nope`)).to.equal('not_found');
    expect(await failure(`${base}${PATH}/big`)).to.equal('too_large');
    expect(await failure(`${base}${PATH}/html`)).to.equal('not_json');
    expect(await failure(`${base}${PATH}/other-json`)).to.equal('not_a_case_package');
  });

  it('when the server redirects, then the redirect is not followed', async () => {
    expect(await failure(`${base}${PATH}/moved`)).to.equal('redirect_refused');
  });

  it('when the server stops sending, then the fetch fails with a timeout', async () => {
    expect(await failure(`${base}${PATH}/slow`, options({ timeoutMs: 300 }))).to.equal('timeout');
  });

  it('when the URL is not a package URL, not https, or points at a private address, then nothing is fetched', async () => {
    let fetched = 0;
    const counting = options({
      fetch: (input, init) => {
        fetched++;
        return fetch(input, init);
      },
    });
    expect(await failure(`${base}/ims/case/v1p0/CFDocuments/good`, counting)).to.equal(
      'not_a_package_url',
    );
    expect(
      await failure(`${base}${PATH}/good`, { ...counting, allowLoopbackHttp: false }),
    ).to.equal('invalid_url');
    const publicHost = { ...counting, resolve: () => Promise.resolve(['93.184.216.34']) };
    expect(await failure(`http://case.example.org${PATH}/good`, publicHost)).to.equal(
      'invalid_url',
    );
    for (const address of ['10.1.2.3', '169.254.169.254', '192.168.1.10', 'fd00::1']) {
      const privateHost = { ...counting, resolve: () => Promise.resolve([address]) };
      expect(await failure(`https://case.internal${PATH}/good`, privateHost), address).to.equal(
        'address_rejected',
      );
    }
    expect(
      await failure(`https://[::1]${PATH}/good`, { ...counting, allowLoopbackHttp: false }),
    ).to.equal('address_rejected');
    expect(await failure('not a url', counting)).to.equal('invalid_url');
    expect(fetched).to.equal(0);
  });
});
