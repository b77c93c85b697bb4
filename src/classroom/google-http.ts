import { LmsHttpError } from '../lti/errors.ts';
import { parseRetryAfter, readBodyLimited, withRetries, type FetchFunction } from '../lti/http.ts';

/**
 * Outbound calls to Google APIs, in the style of src/lti/http.ts (which has no PATCH): 429 (Google's
 * RESOURCE_EXHAUSTED quota answer) is always retried with exponential backoff and full jitter, 5xx
 * only for idempotent calls; failures become `LmsHttpError` (a `GoogleApiError`, with Google's error
 * body parsed in full), so the passback worker classifies them like any LMS's.
 */
export interface GoogleHttpOptions {
  readonly fetch: FetchFunction;
  readonly userAgent: string;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly now: () => Date;
  readonly timeoutMs?: number;
  readonly maxRetries?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Longest Retry-After waited inline; longer ones fail with `retryAfterMs` for the scheduler. */
  readonly maxRetryAfterMs?: number;
}

export interface GoogleRequest {
  readonly method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly accessToken: string;
  readonly json?: unknown;
  /** Default: every method but POST (a PATCH with an updateMask sets values: repeating is harmless). */
  readonly idempotent?: boolean;
}

export type GoogleHttp = (request: GoogleRequest) => Promise<unknown>;

const EXCERPT_CHARS = 500;
const MAX_BODY_BYTES = 5 * 1024 * 1024;

/**
 * What Google's error body says, read from the WHOLE body (an excerpt can cut `details` off):
 * `error.status` (google.rpc.Code name), `error.message`, the `@Reason` that starts the message
 * (Classroom "Handle API errors" guide: `@ClassroomApiDisabled `), and each `error.details[].reason`
 * (google.rpc.ErrorInfo: `SERVICE_DISABLED`, `ACCESS_TOKEN_SCOPE_INSUFFICIENT`, ...).
 */
export interface GoogleErrorBody {
  readonly code: number | undefined;
  readonly status: string | undefined;
  readonly message: string;
  /** `ClassroomApiDisabled` for a message starting "@ClassroomApiDisabled ". */
  readonly reason: string | undefined;
  readonly detailReasons: readonly string[];
}

export function parseGoogleErrorBody(text: string): GoogleErrorBody | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = body.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const field = (name: string): unknown => (error as Record<string, unknown>)[name];
  const message = typeof field('message') === 'string' ? (field('message') as string) : '';
  const details = Array.isArray(field('details')) ? (field('details') as unknown[]) : [];
  const detailReasons = details.flatMap((detail) =>
    typeof detail === 'object' &&
    detail !== null &&
    'reason' in detail &&
    typeof detail.reason === 'string'
      ? [detail.reason]
      : [],
  );
  const code = field('code');
  const status = field('status');
  return {
    code: typeof code === 'number' ? code : undefined,
    status: typeof status === 'string' ? status : undefined,
    message,
    // "Include a trailing space when checking for an error code" (errors guide): the reason ends
    // at the first space, or is the whole message.
    reason: /^@([A-Za-z]+)(?:\s|$)/.exec(message)?.[1],
    detailReasons,
  };
}

/** An LMS HTTP failure from Google, with its error body read in full. */
export class GoogleApiError extends LmsHttpError {
  readonly google: GoogleErrorBody | undefined;

  constructor(
    init: ConstructorParameters<typeof LmsHttpError>[0],
    google: GoogleErrorBody | undefined,
  ) {
    super(init);
    this.google = google;
  }
}

/** Google's error body of a failed call, if Google sent one. */
export function googleErrorOf(error: unknown): GoogleErrorBody | undefined {
  return error instanceof GoogleApiError ? error.google : undefined;
}

/** Google's canonical status name (`PERMISSION_DENIED`, …) from an error body, if there is one. */
export function googleStatus(error: LmsHttpError): string | undefined {
  const parsed = googleErrorOf(error);
  if (parsed?.status !== undefined) return parsed.status;
  const match = /"status"\s*:\s*"([A-Z_]+)"/.exec(error.bodyExcerpt);
  return match?.[1];
}

export function createGoogleHttp(options: GoogleHttpOptions): GoogleHttp {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxRetries = options.maxRetries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;

  async function attempt(request: GoogleRequest, method: string): Promise<unknown> {
    const headers = new Headers({
      Authorization: `Bearer ${request.accessToken}`,
      Accept: 'application/json',
      'User-Agent': options.userAgent,
    });
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
    if (request.json !== undefined) {
      headers.set('Content-Type', 'application/json');
      init.body = JSON.stringify(request.json);
    }
    let response: Response;
    try {
      response = await options.fetch(request.url, init);
    } catch (error) {
      const timeout =
        error instanceof DOMException &&
        (error.name === 'TimeoutError' || error.name === 'AbortError');
      return new LmsHttpError({
        kind: timeout ? 'timeout' : 'network',
        method,
        url: request.url,
        retryable: true,
        cause: error,
      });
    }
    const { text, truncated } = await readBodyLimited(response, MAX_BODY_BYTES);
    if (truncated) {
      return new LmsHttpError({
        kind: 'too_large',
        method,
        url: request.url,
        status: response.status,
        retryable: false,
      });
    }
    if (response.status >= 200 && response.status < 300) {
      if (text.trim() === '') return {};
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        return new LmsHttpError({
          kind: 'status',
          method,
          url: request.url,
          status: response.status,
          bodyExcerpt: text.slice(0, EXCERPT_CHARS),
          retryable: false,
          cause: error,
        });
      }
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), options.now());
    return new GoogleApiError(
      {
        kind: 'status',
        method,
        url: request.url,
        status: response.status,
        bodyExcerpt: text.slice(0, EXCERPT_CHARS),
        retryable: response.status === 429 || response.status >= 500,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      },
      parseGoogleErrorBody(text),
    );
  }

  return async (request) => {
    const method = request.method ?? 'GET';
    return withRetries(() => attempt(request, method), {
      idempotent: request.idempotent ?? method !== 'POST',
      maxRetries,
      baseDelayMs,
      maxDelayMs,
      maxRetryAfterMs,
      random: options.random,
      sleep: options.sleep,
    });
  };
}
