import type { IncomingMessage } from 'node:http';
import busboy, { type Busboy } from 'busboy';
import type { ImportError } from '../../../domain/standards-model.ts';
import { fileTooLarge } from '../../../standards/formats/problems.ts';
import { invalidValue } from '../../../standards/imports.ts';

/**
 * Uploads of the import form: plain `multipart/form-data` (it works without JavaScript), read by
 * busboy with limits: one file field named `file` of at most `MAX_IMPORT_BYTES`, at most 20 short
 * text fields (8 KB each). The whole upload is held in memory while it is parsed, so a few at a
 * time per instance (`createUploadGate`).
 */

/** Uploads and CASE server answers: a 20,000-item CASE package is about 30 MB. */
export const MAX_IMPORT_BYTES = 40 * 1024 * 1024;
/** A too-large upload is read to its end (so the browser sees the answer) up to this, then cut. */
const DRAIN_LIMIT_BYTES = 4 * MAX_IMPORT_BYTES;
/** Uploads read at the same time by one instance (each is held in memory while it is parsed). */
const MAX_CONCURRENT_UPLOADS = 2;
const MAX_FIELDS = 20;
const MAX_FIELD_BYTES = 8192;

export interface UploadedFile {
  readonly filename: string;
  readonly data: Buffer;
}

export type Upload =
  | {
      readonly ok: true;
      readonly fields: Readonly<Record<string, string>>;
      readonly file: UploadedFile | undefined;
    }
  | { readonly ok: false; readonly status: number; readonly problem: ImportError };

/** Counts uploads in progress on this instance (one gate per app, never module state). */
export interface UploadGate {
  /** Reads the upload, or answers undefined when too many are being read already. */
  read(req: IncomingMessage): Promise<Upload | undefined>;
}

export function createUploadGate(): UploadGate {
  let inProgress = 0;
  return {
    async read(req) {
      if (inProgress >= MAX_CONCURRENT_UPLOADS) return undefined;
      inProgress += 1;
      try {
        return await readUpload(req);
      } finally {
        inProgress -= 1;
      }
    },
  };
}

const NOT_MULTIPART = 'Send the file with the upload form on this page (multipart/form-data).';
const INCOMPLETE = 'The upload did not arrive complete. Choose the file again and import it.';

function refusal(status: number, problem: ImportError): Upload {
  return { ok: false, status, problem };
}

function tooLarge(bytes: number): Upload {
  return refusal(413, { ...fileTooLarge(bytes, MAX_IMPORT_BYTES), field: 'file' });
}

/** What the parser collected; `malformed` once the body breaks the form's shape or limits. */
interface Collected {
  readonly fields: Record<string, string>;
  file: { filename: string; chunks: Buffer[] } | undefined;
  fileTruncated: boolean;
  malformed: boolean;
}

/** Wires the parser's events into `collected`: one file named `file`, text fields within limits. */
function collect(parser: Busboy, collected: Collected): void {
  const malformed = (): void => {
    collected.malformed = true;
  };
  parser.on('field', (name, value, info) => {
    if (info.nameTruncated || info.valueTruncated) malformed();
    else collected.fields[name] = value;
  });
  parser.on('file', (name, stream, info) => {
    // A cut-off body fails the file's stream too: the parser's own error says so already.
    stream.on('error', malformed);
    if (name !== 'file' || collected.file !== undefined) {
      malformed();
      stream.resume();
      return;
    }
    // An empty file input (no file chosen) comes with `filename=""`, which reads as no name.
    const file = { filename: info.filename ?? '', chunks: [] as Buffer[] };
    collected.file = file;
    stream.on('data', (chunk: Buffer) => file.chunks.push(chunk));
    stream.on('limit', () => {
      collected.fileTruncated = true;
    });
  });
  parser.on('filesLimit', malformed);
  parser.on('fieldsLimit', malformed);
  parser.on('partsLimit', malformed);
  parser.on('error', malformed);
}

/** Resolves when the parser can take more (or is gone). */
function writable(parser: Busboy): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      parser.off('drain', done);
      parser.off('close', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('close', done);
  });
}

/**
 * Reads the body into the parser. A body past the drain limit is cut (the connection closes after
 * the answer); a body the parser refuses is still read to its end, so the person sees the answer.
 */
async function feed(
  req: IncomingMessage,
  parser: Busboy,
): Promise<{ total: number; cut: boolean }> {
  const closed = new Promise<void>((resolve) => parser.once('close', resolve));
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > DRAIN_LIMIT_BYTES) return { total, cut: true };
    if (parser.destroyed || parser.writableEnded) continue;
    if (!parser.write(chunk)) await writable(parser);
  }
  if (!parser.destroyed && !parser.writableEnded) parser.end();
  await closed;
  return { total, cut: false };
}

/** Reads the import form's upload: its text fields and its file, or why it cannot be used. */
export async function readUpload(req: IncomingMessage): Promise<Upload> {
  const contentType = req.headers['content-type'];
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) {
    return refusal(415, invalidValue('file', NOT_MULTIPART));
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  // Declared far beyond the limit: answer at once instead of reading it (the connection closes).
  if (Number.isFinite(declared) && declared > DRAIN_LIMIT_BYTES) return tooLarge(declared);
  let parser: Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      defParamCharset: 'utf8',
      limits: {
        files: 1,
        fileSize: MAX_IMPORT_BYTES,
        fields: MAX_FIELDS,
        fieldSize: MAX_FIELD_BYTES,
        parts: MAX_FIELDS + 2,
      },
    });
  } catch {
    // No boundary, or a content type busboy does not read.
    return refusal(415, invalidValue('file', NOT_MULTIPART));
  }
  const collected: Collected = {
    fields: {},
    file: undefined,
    fileTruncated: false,
    malformed: false,
  };
  collect(parser, collected);
  const read = await feed(req, parser);
  if (read.cut || collected.fileTruncated) {
    return tooLarge(Number.isFinite(declared) ? declared : read.total);
  }
  if (collected.malformed) return refusal(400, invalidValue('file', INCOMPLETE));
  const file = collected.file;
  return {
    ok: true,
    fields: collected.fields,
    file:
      file === undefined
        ? undefined
        : { filename: file.filename, data: Buffer.concat(file.chunks) },
  };
}
