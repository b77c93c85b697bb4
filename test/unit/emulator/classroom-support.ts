import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createClassroomEmulator,
  type ClassroomEmulator,
  type ClassroomEmulatorOptions,
} from '../../../src/emulator/classroom/emulator.ts';
import type { ClassroomSeed } from '../../../src/emulator/classroom/state.ts';
import type { OAuthClient } from '../../../src/emulator/classroom/types.ts';

export const TOOL_ORIGIN = 'http://tool.example.test';
export const REDIRECT_URI = `${TOOL_ORIGIN}/classroom/oauth/callback`;

export const ADDON_SCOPES = [
  'openid',
  'email',
  'profile',
  'https://www.googleapis.com/auth/classroom.addons.teacher',
  'https://www.googleapis.com/auth/classroom.addons.student',
  'https://www.googleapis.com/auth/classroom.courses.readonly',
  'https://www.googleapis.com/auth/classroom.rosters.readonly',
  'https://www.googleapis.com/auth/classroom.profile.emails',
  'https://www.googleapis.com/auth/classroom.coursework.students',
];

export interface ClassroomWorld {
  readonly emulator: ClassroomEmulator;
  readonly baseUrl: string;
  readonly client: OAuthClient;
  /** A second Cloud project's client (for PERMISSION_DENIED paths). */
  readonly otherClient: OAuthClient;
  readonly seed: ClassroomSeed;
  close(): Promise<void>;
}

/** The emulator listening on a loopback port; its origin is its issuer and API base. */
export async function startClassroom(
  options: Partial<ClassroomEmulatorOptions> = {},
  seedOptions: Parameters<ClassroomEmulator['state']['seedCourse']>[0] = {},
): Promise<ClassroomWorld> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const emulator = await createClassroomEmulator({ ...options, flavour: 'classroom', baseUrl });
  server.on('request', emulator.app);
  const client = emulator.state.registerClient({
    name: 'Mastery Pathways',
    redirectUris: [REDIRECT_URI],
  });
  const otherClient = emulator.state.registerClient({
    name: 'Other add-on',
    redirectUris: [REDIRECT_URI],
  });
  emulator.state.registerAddOn({
    projectNumber: client.projectNumber,
    attachmentSetupUri: `${TOOL_ORIGIN}/classroom/addon/discovery`,
    name: 'Mastery Pathways',
  });
  const seed = emulator.state.seedCourse(seedOptions);
  return {
    emulator,
    baseUrl,
    client,
    otherClient,
    seed,
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

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizationUrl(
  world: ClassroomWorld,
  params: Record<string, string> = {},
  client: OAuthClient = world.client,
): string {
  const url = new URL(world.emulator.urls.authorize);
  const all: Record<string, string> = {
    client_id: client.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: ADDON_SCOPES.join(' '),
    state: 'st-1',
    nonce: 'n-1',
    access_type: 'offline',
    prompt: 'consent',
    ...params,
  };
  for (const [key, value] of Object.entries(all)) url.searchParams.set(key, value);
  return url.toString();
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in: number;
  scope: string;
  token_type: string;
}

export async function postToken(
  world: ClassroomWorld,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(world.emulator.urls.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Sign `userId` in through the authorization endpoint and exchange the code (PKCE S256). */
export async function signInTokens(
  world: ClassroomWorld,
  userId: string,
  options: { scopes?: string[]; client?: OAuthClient } = {},
): Promise<TokenResponse> {
  const client = options.client ?? world.client;
  const pkce = pkcePair();
  const callback = await world.emulator.signIn(
    authorizationUrl(
      world,
      {
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        ...(options.scopes ? { scope: options.scopes.join(' ') } : {}),
      },
      client,
    ),
    userId,
  );
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.toString()}`);
  const { status, body } = await postToken(world, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: pkce.verifier,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  if (status !== 200) throw new Error(`token endpoint answered ${status}`);
  return body as unknown as TokenResponse;
}

/** A Classroom API call with a bearer token; returns status, headers and JSON body. */
export async function api(
  world: ClassroomWorld,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  accessToken: string | undefined,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${world.baseUrl}${path}`, {
    method,
    headers: {
      ...(accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Record<string, unknown>,
  };
}
