import { isIP } from 'node:net';
import { AppError } from '../errors.ts';
import {
  isLoopbackAddress,
  isNonPublicAddress,
  type Resolver,
} from '../lti/dynamic-registration.ts';
import { readBodyLimited, type FetchFunction } from '../lti/http.ts';
import { parseCasePackage } from './formats/case-import.ts';
import type { ImportError, ImportErrorCode, ImportResult } from '../domain/standards-model.ts';

/**
 * Fetches a CFPackage from a CASE server (1EdTech CASE 1.0/1.1 REST: `GET /ims/case/v1p0/CFPackages/{id}`).
 *
 * The URL comes from an admin's form, so fetching it is an SSRF risk: https only (plain http only to
 * loopback, and only with `allowLoopbackHttp`, for tests and local servers), no private, link-local or
 * other non-public addresses, no redirects (one could lead to a private address), and the body is
 * read with a size limit while it streams. Same DNS-rebinding limit as LTI dynamic registration: the
 * address is checked before the fetch, which resolves again.
 */

export type CaseServerErrorCode =
  | 'invalid_url'
  | 'not_a_package_url'
  | 'address_rejected'
  | 'redirect_refused'
  | 'needs_token'
  | 'forbidden'
  | 'not_found'
  | 'server_error'
  | 'timeout'
  | 'network_error'
  | 'too_large'
  | 'not_json'
  | 'not_a_case_package';

/**
 * Why a CASE server address or its answer cannot be imported, written for the admin who typed the
 * address (400: the import form shows it again). `upstreamStatus` is the CASE server's HTTP status.
 */
export class CaseServerError extends AppError {
  declare readonly code: CaseServerErrorCode;
  readonly upstreamStatus: number | undefined;

  constructor(
    code: CaseServerErrorCode,
    message: string,
    upstreamStatus?: number,
    cause?: unknown,
  ) {
    super(400, code, message, { cause });
    this.upstreamStatus = upstreamStatus;
  }
}

/** A CASE server failure as a problem of the import's `url` field (import form and history). */
export function caseServerProblem(error: CaseServerError): ImportError {
  const codes: Partial<Record<CaseServerErrorCode, ImportErrorCode>> = {
    too_large: 'file_too_large',
    not_json: 'invalid_json',
    not_a_case_package: 'not_a_case_package',
  };
  return { code: codes[error.code] ?? 'invalid_value', field: 'url', message: error.message };
}

export interface CaseServerFetchOptions {
  readonly fetch: FetchFunction;
  /** DNS lookup (all addresses of a host name), injected so tests need no network. */
  readonly resolve: Resolver;
  readonly bearerToken?: string;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly allowLoopbackHttp?: boolean;
  readonly userAgent?: string;
}

export interface FetchedCasePackage {
  readonly url: string;
  /** The parse of the package: an import takes it as is (its errors become the import report). */
  readonly result: ImportResult;
}

const PACKAGE_PATH = /\/ims\/case\/v1p[01]\/CFPackages\/[^/]+\/?$/;

export async function checkCasePackageUrl(
  raw: string,
  options: Pick<CaseServerFetchOptions, 'resolve' | 'allowLoopbackHttp'>,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CaseServerError('invalid_url', `"${raw}" is not a web address.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new CaseServerError(
      'invalid_url',
      'Put the access token in the token field, not in the address.',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CaseServerError(
      'invalid_url',
      `Only https addresses can be used, not ${url.protocol}`,
    );
  }
  if (!PACKAGE_PATH.test(url.pathname)) {
    throw new CaseServerError(
      'not_a_package_url',
      'The address must be a CASE package address ending in /ims/case/v1p0/CFPackages/{identifier} (or v1p1). Your CASE publisher lists it for each framework.',
    );
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: readonly string[];
  try {
    addresses = isIP(hostname) === 0 ? await options.resolve(hostname) : [hostname];
  } catch (error) {
    throw new CaseServerError(
      'network_error',
      `The server name ${hostname} could not be found.`,
      undefined,
      error,
    );
  }
  if (addresses.length === 0) {
    throw new CaseServerError('network_error', `The server name ${hostname} could not be found.`);
  }
  const loopbackAllowed = options.allowLoopbackHttp === true && addresses.every(isLoopbackAddress);
  if (url.protocol === 'http:' && !loopbackAllowed) {
    throw new CaseServerError(
      'invalid_url',
      'Only https addresses can be used (the address starts with http:).',
    );
  }
  if (!loopbackAllowed && addresses.some(isNonPublicAddress)) {
    throw new CaseServerError(
      'address_rejected',
      `${hostname} is a private or local address; only public CASE servers can be used.`,
    );
  }
  return url;
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')
  );
}

function statusError(status: number, hasToken: boolean): CaseServerError {
  if (status === 401) {
    return new CaseServerError(
      'needs_token',
      hasToken
        ? 'The CASE server refused the access token (401). Check that it is current.'
        : 'The CASE server needs an access token (401). Ask the publisher for one and enter it.',
      status,
    );
  }
  if (status === 403) {
    return new CaseServerError(
      'forbidden',
      'The CASE server does not allow access to this framework (403).',
      status,
    );
  }
  if (status === 404 || status === 410) {
    return new CaseServerError(
      'not_found',
      'The CASE server has no framework at this address (404). Check the identifier.',
      status,
    );
  }
  return new CaseServerError(
    'server_error',
    `The CASE server answered with an error (HTTP ${status}). Try again later.`,
    status,
  );
}

export async function fetchCasePackage(
  raw: string,
  options: CaseServerFetchOptions,
): Promise<FetchedCasePackage> {
  const url = await checkCasePackageUrl(raw, options);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.bearerToken !== undefined && options.bearerToken !== '') {
    headers.authorization = `Bearer ${options.bearerToken}`;
  }
  if (options.userAgent !== undefined) headers['user-agent'] = options.userAgent;
  // One signal covers the headers and the whole body: a server that trickles bytes still times out.
  const signal = AbortSignal.timeout(options.timeoutMs);
  let text: string;
  try {
    const response = await options.fetch(url, { headers, redirect: 'manual', signal });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new CaseServerError(
        'redirect_refused',
        'The CASE server redirected to another address; enter the final address of the package instead.',
        response.status,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw statusError(response.status, headers.authorization !== undefined);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      await response.body?.cancel();
      throw tooLarge(options.maxBytes);
    }
    const body = await readBodyLimited(response, options.maxBytes);
    if (body.truncated) throw tooLarge(options.maxBytes);
    text = body.text;
  } catch (error) {
    if (error instanceof CaseServerError) throw error;
    if (isTimeout(error) || signal.aborted) {
      throw new CaseServerError(
        'timeout',
        `The CASE server did not answer within ${Math.round(options.timeoutMs / 1000)} seconds.`,
        undefined,
        error,
      );
    }
    throw new CaseServerError(
      'network_error',
      'The CASE server could not be reached.',
      undefined,
      error,
    );
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new CaseServerError(
      'not_json',
      'The CASE server did not answer with JSON; check that the address is the package address, not a web page.',
      undefined,
      error,
    );
  }
  const result = parseCasePackage(text, { maxBytes: options.maxBytes });
  if (!result.ok && result.errors.some((e) => e.code === 'not_a_case_package')) {
    throw new CaseServerError(
      'not_a_case_package',
      'The answer is JSON but not a CASE package (no CFDocument with CFItems).',
    );
  }
  return { url: url.toString(), result };
}

function tooLarge(maxBytes: number): CaseServerError {
  return new CaseServerError(
    'too_large',
    `The package is larger than ${(maxBytes / 1_048_576).toFixed(1)} MB, the import limit.`,
  );
}
