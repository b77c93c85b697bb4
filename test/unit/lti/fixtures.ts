import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import { LTI_CLAIM } from '../../../src/lti/claims.ts';
import { createLmsHttpClient } from '../../../src/lti/http.ts';
import type { LmsHttpClient } from '../../../src/lti/http.ts';
import type { DeploymentLookup, NonceStore } from '../../../src/lti/launch.ts';
import type {
  LoginState,
  LoginStateStore,
  PlatformLookup,
  PlatformRegistration,
} from '../../../src/lti/login.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface LocalServer {
  readonly url: string;
  readonly requests: {
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
    body: string;
  }[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, port 0. */
export async function startServer(initial?: Handler): Promise<LocalServer> {
  let handler: Handler =
    initial ??
    ((_req, res) => {
      res.writeHead(404).end();
    });
  const requests: LocalServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body));
}

export interface PlatformKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function platformKey(kid: string): Promise<PlatformKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

export function testHttp(
  overrides: Partial<Parameters<typeof createLmsHttpClient>[0]> = {},
): LmsHttpClient {
  return createLmsHttpClient({
    fetch,
    userAgent: 'MasteryPathways-Test/1.0',
    sleep: async () => {},
    random: () => 0.5,
    now: () => new Date(),
    timeoutMs: 5000,
    ...overrides,
  });
}

/** A clock the test moves by hand. */
export function manualClock(start = new Date('2026-11-27T04:00:00Z')): {
  now: () => Date;
  advance: (ms: number) => void;
} {
  let time = start.getTime();
  return {
    now: () => new Date(time),
    advance: (ms) => {
      time += ms;
    },
  };
}

export class MemoryLoginStates implements LoginStateStore {
  readonly saved = new Map<string, LoginState>();
  save(state: LoginState): Promise<void> {
    this.saved.set(state.state, state);
    return Promise.resolve();
  }
  take(state: string): Promise<LoginState | undefined> {
    const found = this.saved.get(state);
    this.saved.delete(state);
    return Promise.resolve(found);
  }
}

export class MemoryNonces implements NonceStore {
  readonly claimed = new Map<string, Date>();
  claim(issuer: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const key = `${issuer} ${nonce}`;
    if (this.claimed.has(key)) return Promise.resolve(false);
    this.claimed.set(key, expiresAt);
    return Promise.resolve(true);
  }
}

export class MemoryPlatforms implements PlatformLookup {
  readonly registrations: PlatformRegistration[];
  constructor(registrations: PlatformRegistration[]) {
    this.registrations = registrations;
  }
  findByIssuer(issuer: string): Promise<readonly PlatformRegistration[]> {
    return Promise.resolve(
      this.registrations.filter((registration) => registration.issuer === issuer),
    );
  }
}

export class MemoryDeployments implements DeploymentLookup {
  readonly allowed: Set<string>;
  constructor(allowed: string[]) {
    this.allowed = new Set(allowed);
  }
  isAllowed(_issuer: string, _clientId: string, deploymentId: string): Promise<boolean> {
    return Promise.resolve(this.allowed.has(deploymentId));
  }
}

export function resourceLinkClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    sub: 'user-1',
    name: 'Ada Lovelace',
    given_name: 'Ada',
    family_name: 'Lovelace',
    [LTI_CLAIM.messageType]: 'LtiResourceLinkRequest',
    [LTI_CLAIM.version]: '1.3.0',
    [LTI_CLAIM.deploymentId]: 'deployment-1',
    [LTI_CLAIM.targetLinkUri]: 'https://tool.example/lti/launch',
    [LTI_CLAIM.resourceLink]: { id: 'rl-1', title: 'Fractions' },
    [LTI_CLAIM.roles]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor'],
    [LTI_CLAIM.context]: {
      id: 'course-1',
      title: 'Grade 5 Math',
      label: 'M5',
      type: ['CourseSection'],
    },
    [LTI_CLAIM.custom]: { unit: '3' },
    ...overrides,
  };
}

export async function sign(
  payload: JWTPayload,
  key: PlatformKey,
  options: { issuer: string; audience: string | string[]; iat: number; exp: number; kid?: string },
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(options.iat)
    .setExpirationTime(options.exp)
    .sign(key.privateKey);
}
