/**
 * A minimal LTI tool for the emulator tests: its own RS256 key, a JWKS served over real HTTP on
 * 127.0.0.1, and helpers to sign what a tool signs (client assertions, Deep Linking responses).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import request from 'supertest';
import { ALL_SERVICE_SCOPES } from '../../../src/emulator/claims.ts';
import {
  createEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../../../src/emulator/emulator.ts';
import type { DemoSeed } from '../../../src/emulator/state.ts';
import type { Deployment, Flavour, Tool } from '../../../src/emulator/types.ts';

export const TOOL_ORIGIN = 'https://tool.example';
export const USER_AGENT = 'MasteryPathways-test/1.0';

export interface FakeTool {
  readonly jwksUrl: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  close(): Promise<void>;
}

export async function startFakeTool(): Promise<FakeTool> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    kid,
    privateKey,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => {
          if (e) reject(e);
          else resolve();
        });
      }),
  };
}

export interface Platform {
  readonly emulator: Emulator;
  readonly tool: Tool;
  readonly deployment: Deployment;
  readonly seed: DemoSeed;
}

export async function startPlatform(
  flavour: Flavour,
  fakeTool: FakeTool,
  options: Partial<EmulatorOptions> = {},
  toolOptions: { customParameters?: Record<string, string>; scopes?: string[] } = {},
): Promise<Platform> {
  const emulator = await createEmulator({
    flavour,
    baseUrl: `https://${flavour}.lms.example`,
    ...options,
  });
  const tool = emulator.state.registerTool({
    name: 'Mastery Pathways',
    toolJwksUrl: fakeTool.jwksUrl,
    oidcInitiationUrl: `${TOOL_ORIGIN}/lti/login`,
    targetLinkUri: `${TOOL_ORIGIN}/lti/launch`,
    redirectUris: [`${TOOL_ORIGIN}/lti/launch`],
    deepLinkingUrl: `${TOOL_ORIGIN}/lti/deep-link`,
    customParameters: toolOptions.customParameters ?? {},
    scopes: toolOptions.scopes ?? [...ALL_SERVICE_SCOPES],
  });
  const deployment = emulator.state.addDeployment(tool.clientId);
  const seed = emulator.state.seedDemoCourse();
  return { emulator, tool, deployment, seed };
}

/** The hidden fields of an auto-submitting form, HTML entities decoded. */
export function formFields(html: string): {
  action: string | undefined;
  fields: Record<string, string>;
} {
  const decode = (s: string): string =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\s*\/?>/g)) {
    fields[decode(m[1] ?? '')] = decode(m[2] ?? '');
  }
  const action = /id="lti-autosubmit"\s+action="([^"]*)"/.exec(html)?.[1];
  return { action: action === undefined ? undefined : decode(action), fields };
}

export function authParams(
  platform: Platform,
  loginParams: Record<string, string>,
  nonce: string = randomUUID(),
) {
  return {
    scope: 'openid',
    response_type: 'id_token',
    response_mode: 'form_post',
    prompt: 'none',
    client_id: platform.tool.clientId,
    redirect_uri: `${TOOL_ORIGIN}/lti/launch`,
    login_hint: loginParams['login_hint'] ?? '',
    lti_message_hint: loginParams['lti_message_hint'] ?? '',
    state: 'state-123',
    nonce,
  };
}

/** Launch end to end (login initiation → auth endpoint) and verify the id_token like a tool would. */
export async function launch(
  platform: Platform,
  input: Parameters<Emulator['beginLaunch']>[0],
): Promise<JWTPayload> {
  const { emulator } = platform;
  const initiation = emulator.beginLaunch(input);
  const response = await request(emulator.app)
    .post('/api/lti/authorize_redirect')
    .type('form')
    .send(authParams(platform, initiation.params, 'nonce-1'));
  if (response.status !== 200) throw new Error(`auth endpoint answered ${response.status}`);
  const idToken = formFields(response.text).fields['id_token'] ?? '';
  const jwks = await request(emulator.app).get('/api/lti/security/jwks');
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks.body as { keys: JWK[] }), {
    issuer: emulator.issuer,
    audience: platform.tool.clientId,
    algorithms: ['RS256'],
  });
  return payload;
}

export async function clientAssertion(
  fakeTool: FakeTool,
  clientId: string,
  audience: string,
  overrides: { jti?: string; expiresInSeconds?: number; key?: CryptoKey } = {},
): Promise<string> {
  return new SignJWT({ jti: overrides.jti ?? randomUUID() })
    .setProtectedHeader({ alg: 'RS256', kid: fakeTool.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${overrides.expiresInSeconds ?? 300}s`)
    .sign(overrides.key ?? fakeTool.privateKey);
}

export async function accessToken(
  platform: Platform,
  fakeTool: FakeTool,
  scopes = ALL_SERVICE_SCOPES,
) {
  const response = await request(platform.emulator.app)
    .post('/login/oauth2/token')
    .set('User-Agent', USER_AGENT)
    .type('form')
    .send({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(
        fakeTool,
        platform.tool.clientId,
        platform.emulator.urls.token,
      ),
      scope: scopes.join(' '),
    });
  if (response.status !== 200)
    throw new Error(`token endpoint answered ${response.status}: ${response.text}`);
  return (response.body as { access_token: string }).access_token;
}

/** The path (and query) of an absolute URL the emulator handed out, for supertest. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}
