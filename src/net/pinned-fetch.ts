import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { isLoopbackAddress, isNonPublicAddress } from '../lti/dynamic-registration.ts';
import type { FetchFunction } from '../lti/http.ts';

/**
 * A `fetch` for URLs that people type (Dynamic Registration's openid-configuration, a CASE server):
 * the address is checked at CONNECT time, inside the DNS lookup the socket itself uses, so a host
 * name that resolves to a public address when checked and to 10.0.0.1 a moment later (DNS
 * rebinding) still cannot reach a private address. Callers validate the URL first for a friendly
 * message; this is the guarantee.
 *
 * Redirects are never followed (`redirect` is always manual): a redirect could lead anywhere.
 */
export interface PinnedFetchOptions {
  /** Loopback addresses are allowed (local development and tests); other private ranges never. */
  readonly allowLoopback: boolean;
  /** All addresses of a host name; defaults to the system resolver. Tests inject one. */
  readonly resolve?: (hostname: string) => Promise<readonly LookupAddress[]>;
}

export class BlockedAddressError extends Error {
  readonly code = 'address_blocked';
  constructor(hostname: string, address: string) {
    super(`${hostname} resolves to ${address}, a private or local address; refused`);
    this.name = 'BlockedAddressError';
  }
}

function systemResolve(hostname: string): Promise<readonly LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, order: 'verbatim' }, (error, addresses) => {
      if (error) reject(error);
      else resolve(addresses);
    });
  });
}

function allowed(address: string, allowLoopback: boolean): boolean {
  return (allowLoopback && isLoopbackAddress(address)) || !isNonPublicAddress(address);
}

function headersFrom(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

export function createPinnedFetch(options: PinnedFetchOptions): FetchFunction {
  const resolveAll = options.resolve ?? systemResolve;

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolveAll(hostname).then(
      (addresses) => {
        const wanted =
          lookupOptions.family === 4 || lookupOptions.family === 6
            ? addresses.filter((a) => a.family === lookupOptions.family)
            : addresses;
        const blocked = wanted.find((a) => !allowed(a.address, options.allowLoopback));
        if (blocked !== undefined) {
          callback(new BlockedAddressError(hostname, blocked.address), '', 4);
          return;
        }
        const first = wanted[0];
        if (first === undefined) {
          const error: NodeJS.ErrnoException = new Error(`${hostname} does not resolve`);
          error.code = 'ENOTFOUND';
          callback(error, '', 4);
          return;
        }
        if (lookupOptions.all === true) {
          (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, [
            ...wanted,
          ]);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        callback(error as NodeJS.ErrnoException, '', 4);
      },
    );
  };

  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        reject(new TypeError(`unsupported scheme ${url.protocol}`));
        return;
      }
      // An address literal never goes through `lookup`: check it here.
      const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
      if (isIP(literal) !== 0 && !allowed(literal, options.allowLoopback)) {
        reject(new BlockedAddressError(literal, literal));
        return;
      }
      const headers = new Headers(init.headers);
      const body = typeof init.body === 'string' ? init.body : undefined;
      if (init.body !== undefined && init.body !== null && body === undefined) {
        reject(new TypeError('pinned fetch sends string bodies only'));
        return;
      }
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(headers.entries()),
        lookup,
        signal: init.signal ?? undefined,
      });
      request.on('error', reject);
      request.on('response', (incoming) => {
        const status = incoming.statusCode ?? 502;
        const noBody = status === 204 || status === 304 || (init.method ?? 'GET') === 'HEAD';
        const response = new Response(
          noBody ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>),
          {
            status,
            statusText: incoming.statusMessage ?? '',
            headers: headersFrom(incoming.headers),
          },
        );
        if (noBody) incoming.resume();
        Object.defineProperty(response, 'url', { value: url.toString() });
        resolve(response);
      });
      request.end(body);
    });
}
