import type { z } from 'zod';
import { LtiError } from './errors.ts';
import type { LmsHttpClient, LmsRequest, LmsResponse } from './http.ts';
import { parseLinkHeader } from './http.ts';
import type { TokenClient, TokenPlatform } from './token-client.ts';

/** Everything an LTI Advantage service client needs to call one platform for one course. */
export interface LtiServiceContext {
  readonly http: LmsHttpClient;
  readonly tokens: TokenClient;
  readonly platform: TokenPlatform;
  /** The scopes granted for this context (from the launch's AGS claim and NRPS). One token covers them all. */
  readonly scopes: readonly string[];
}

export function requireScope(
  context: LtiServiceContext,
  anyOf: readonly string[],
  what: string,
): void {
  if (!anyOf.some((scope) => context.scopes.includes(scope))) {
    throw new LtiError('service_not_available', {
      detail: `${what} needs one of ${anyOf.join(', ')}`,
    });
  }
}

export async function authorizedRequest(
  context: LtiServiceContext,
  request: LmsRequest & { readonly accept: string; readonly contentType?: string },
): Promise<LmsResponse> {
  const token = await context.tokens.getAccessToken(context.platform, context.scopes);
  const headers: Record<string, string> = {
    ...request.headers,
    Authorization: `Bearer ${token.accessToken}`,
    Accept: request.accept,
  };
  if (request.contentType !== undefined) headers['Content-Type'] = request.contentType;
  return context.http.request({ ...request, headers });
}

export function parseJsonBody<T>(response: LmsResponse, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch (error) {
    throw new LtiError('invalid_service_response', { detail: `${what}: not JSON`, cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new LtiError('invalid_service_response', {
      detail: `${what}: ${parsed.error.message}`,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/**
 * A safety stop, not a size limit: at Canvas's 50 members a page this is a roster of 500,000. A
 * platform that keeps sending `next` beyond it is looping, and the call fails with words saying so.
 */
export const MAX_PAGES = 10_000;

/**
 * Follows `Link: rel="next"` pages to the end. The next URL must stay on the first URL's origin: our
 * bearer token goes with every page, and a platform bug or a hostile response must not send it
 * elsewhere. A URL seen twice, or more than `maxPages` pages, stops with an error.
 */
export async function fetchAllPages<T>(
  context: LtiServiceContext,
  firstUrl: string,
  accept: string,
  readPage: (response: LmsResponse) => readonly T[],
  maxPages: number = MAX_PAGES,
): Promise<T[]> {
  const origin = new URL(firstUrl).origin;
  const items: T[] = [];
  const seen = new Set<string>();
  let url: string | undefined = firstUrl;
  while (url !== undefined) {
    if (seen.has(url)) {
      throw new LtiError('invalid_service_response', {
        detail: `the LMS sent the same page twice (a paging loop) at ${url}`,
      });
    }
    if (seen.size >= maxPages) {
      throw new LtiError('invalid_service_response', {
        detail: `the LMS sent more than ${maxPages} pages (stopped at ${url}); it may be looping`,
      });
    }
    seen.add(url);
    const response = await authorizedRequest(context, { url, accept });
    items.push(...readPage(response));
    const next = parseLinkHeader(response.headers.get('link'), url).get('next');
    if (next !== undefined && new URL(next).origin !== origin) {
      throw new LtiError('invalid_service_response', {
        detail: `next page on another origin: ${next}`,
      });
    }
    url = next;
  }
  return items;
}
