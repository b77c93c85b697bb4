import { LmsHttpError } from './errors.ts';

export type FetchFunction = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface LmsHttpClientOptions {
  readonly fetch: FetchFunction;
  /** Canvas rejects API calls without a User-Agent, so one is always sent. */
  readonly userAgent: string;
  readonly timeoutMs?: number;
  /** Retries after the first attempt. */
  readonly maxRetries?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Longest Retry-After we wait inline; longer requests fail with `retryAfterMs` for a scheduler. */
  readonly maxRetryAfterMs?: number;
  /** Largest response body we read. */
  readonly maxBodyBytes?: number;
  /**
   * How long to wait after a throttling answer that names no wait (Canvas's 403 "Rate Limit
   * Exceeded" carries no Retry-After). Default 2 s: Canvas's bucket leaks 10 units a second.
   */
  readonly throttleDelayMs?: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for full jitter. */
  readonly random: () => number;
  readonly now: () => Date;
}

export interface LmsRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * Whether repeating the request is harmless. 429 and Canvas's throttling 403 are always retried (the
   * LMS did not process it); 5xx,
   * network errors and timeouts only when the request is idempotent, because a POST that created a line
   * item before the connection dropped would otherwise create a second gradebook column.
   * Default: true for GET, PUT and DELETE, false for POST.
   */
  readonly idempotent?: boolean;
  /** Overrides the client's `maxRetries` for this call (e.g. 0 for a JWKS fetch during a launch). */
  readonly maxRetries?: number;
}

export interface LmsResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly url: string;
}

export interface LmsHttpClient {
  /** Resolves with 2xx responses only; everything else becomes an `LmsHttpError`. */
  request(request: LmsRequest): Promise<LmsResponse>;
}

const EXCERPT_CHARS = 500;

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}

/**
 * Whether an answer is the LMS asking us to slow down: 429, or Canvas's throttle, a 403 whose body
 * says "403 Forbidden (Rate Limit Exceeded)" or whose `X-Rate-Limit-Remaining` is 0 (Canvas
 * `app/middleware/request_throttle.rb`, `rate_limit_exceeded`). Any other 403 is a real refusal.
 */
export function isThrottleAnswer(status: number, headers: Headers, body: string): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  if (/rate limit exceeded/i.test(body)) return true;
  const remaining = headers.get('x-rate-limit-remaining')?.trim();
  return remaining !== undefined && remaining !== '' && Number(remaining) <= 0;
}

/** An error from a throttling answer (429, or Canvas's 403 "Rate Limit Exceeded"). */
export function isThrottled(error: LmsHttpError): boolean {
  return error.status === 429 || (error.status === 403 && error.retryable);
}

/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** When and how long an outbound call is retried (see `withRetries`). */
export interface RetryPolicy {
  /** A repeat changes nothing (every method but POST, unless the caller says otherwise). */
  readonly idempotent: boolean;
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Longest Retry-After waited inline; longer ones fail with `retryAfterMs` for the scheduler. */
  readonly maxRetryAfterMs: number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds or a retry is not allowed: a retryable failure is tried again
 * when it is a 429 or the call is idempotent, up to `maxRetries` times, waiting the answer's
 * Retry-After (failing at once when that is longer than `maxRetryAfterMs`) or else an exponential
 * backoff with full jitter. The last failure is thrown.
 */
export async function withRetries<T>(
  attempt: () => Promise<T | LmsHttpError>,
  policy: RetryPolicy,
): Promise<T> {
  for (let retry = 0; ; retry += 1) {
    const outcome = await attempt();
    if (!(outcome instanceof LmsHttpError)) return outcome;
    // A throttled request was refused before the LMS processed it: repeating it is always safe.
    const mayRetry =
      outcome.retryable && (isThrottled(outcome) || policy.idempotent) && retry < policy.maxRetries;
    if (!mayRetry) throw outcome;
    let delay = backoffDelayMs(retry, policy.baseDelayMs, policy.maxDelayMs, policy.random);
    if (outcome.retryAfterMs !== undefined) {
      if (outcome.retryAfterMs > policy.maxRetryAfterMs) throw outcome;
      delay = outcome.retryAfterMs;
    }
    await policy.sleep(delay);
  }
}

/** Reads at most `maxBytes` of a body, stopping the download beyond that. */
export async function readBodyLimited(
  response: Response,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  if (response.body === null) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return { text: new TextDecoder().decode(concat(chunks)), truncated: true };
    }
    chunks.push(value);
  }
  return { text: new TextDecoder().decode(concat(chunks)), truncated: false };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')
  );
}

export function createLmsHttpClient(options: LmsHttpClientOptions): LmsHttpClient {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const maxBodyBytes = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const throttleDelayMs = options.throttleDelayMs ?? 2_000;

  async function attempt(request: LmsRequest, method: string): Promise<LmsResponse | LmsHttpError> {
    const headers = new Headers(request.headers);
    headers.set('User-Agent', options.userAgent);
    try {
      const init: RequestInit = {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'follow',
      };
      if (request.body !== undefined) init.body = request.body;
      const response = await options.fetch(request.url, init);
      const { text, truncated } = await readBodyLimited(response, maxBodyBytes);
      if (truncated) {
        return new LmsHttpError({
          kind: 'too_large',
          method,
          url: request.url,
          status: response.status,
          bodyExcerpt: text.slice(0, EXCERPT_CHARS),
          retryable: false,
        });
      }
      if (response.status >= 200 && response.status < 300) {
        return { status: response.status, headers: response.headers, body: text, url: request.url };
      }
      const throttled = isThrottleAnswer(response.status, response.headers, text);
      const retryable = throttled || response.status >= 500;
      const retryAfterMs =
        parseRetryAfter(response.headers.get('retry-after'), options.now()) ??
        (throttled && response.status === 403 ? throttleDelayMs : undefined);
      return new LmsHttpError({
        kind: 'status',
        method,
        url: request.url,
        status: response.status,
        bodyExcerpt: text.slice(0, EXCERPT_CHARS),
        retryable,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    } catch (error) {
      return new LmsHttpError({
        kind: isTimeout(error) ? 'timeout' : 'network',
        method,
        url: request.url,
        retryable: true,
        cause: error,
      });
    }
  }

  return {
    async request(request) {
      const method = request.method ?? 'GET';
      return withRetries(() => attempt(request, method), {
        idempotent: request.idempotent ?? method !== 'POST',
        maxRetries: request.maxRetries ?? options.maxRetries ?? 3,
        baseDelayMs,
        maxDelayMs,
        maxRetryAfterMs,
        random: options.random,
        sleep: options.sleep,
      });
    },
  };
}

/** Parses an RFC 8288 `Link` header into rel → URL (resolved against the request URL). */
export function parseLinkHeader(value: string | null, baseUrl: string): Map<string, string> {
  const links = new Map<string, string>();
  if (value === null) return links;
  for (const match of value.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const target = match[1];
    const params = match[2] ?? '';
    if (target === undefined) continue;
    const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(params)?.[1];
    if (rel === undefined) continue;
    for (const name of rel.trim().split(/\s+/)) {
      if (!links.has(name)) links.set(name, new URL(target, baseUrl).toString());
    }
  }
  return links;
}
