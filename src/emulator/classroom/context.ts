import type { CryptoKey, JWK } from 'jose';
import type { RandomBytes } from '../ids.ts';
import type { ClassroomState } from './state.ts';

export interface ClassroomEmulatorOptions {
  flavour: 'classroom';
  /** Public base URL, no trailing slash: OIDC issuer, Classroom API base and frame pages share it. */
  baseUrl: string;
  /** OIDC `iss` (discovery `issuer`). Default: baseUrl (Google's is https://accounts.google.com). */
  issuer?: string;
  now?: () => Date;
  randomBytes?: RandomBytes;
  /** Used by `signIn()` to drive the sign-in page over HTTP. */
  fetch?: typeof fetch;
  /** Used by the `delay` fault. */
  sleep?: (ms: number) => Promise<void>;
  /** id_token `exp - iat`. Default 3600 s (Google). */
  idTokenLifetimeSeconds?: number;
  /** Access token `expires_in`. Default 3599 s (Google). */
  accessTokenLifetimeSeconds?: number;
  /** Authorization code lifetime. Default 600 s. */
  codeLifetimeSeconds?: number;
  /** Largest page the list methods return whatever `pageSize` asks. Default 30. */
  maxPageSize?: number;
  /**
   * Google's sign-in pages refuse to be framed (X-Frame-Options: DENY), so an add-on must sign in
   * through a popup. Set true to allow framing anyway. Default false.
   */
  allowFramedSignIn?: boolean;
}

export interface ResolvedClassroomOptions {
  readonly baseUrl: string;
  readonly issuer: string;
  readonly now: () => Date;
  readonly randomBytes: RandomBytes;
  readonly fetch: typeof fetch;
  readonly sleep: (ms: number) => Promise<void>;
  readonly idTokenLifetimeSeconds: number;
  readonly accessTokenLifetimeSeconds: number;
  readonly codeLifetimeSeconds: number;
  readonly maxPageSize: number;
  readonly allowFramedSignIn: boolean;
}

/** Google's endpoint paths, all on the emulator's origin. */
export interface ClassroomUrls {
  readonly openidConfiguration: string;
  readonly authorize: string;
  readonly token: string;
  readonly jwks: string;
  readonly userinfo: string;
  readonly revoke: string;
  /** Classroom API base (https://classroom.googleapis.com in production); paths start with /v1/. */
  readonly apiBase: string;
  /** The emulated Classroom UI: an assignment page that frames the add-on. */
  item(courseId: string, itemId: string): string;
}

export interface ClassroomKeys {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface ClassroomContext {
  readonly state: ClassroomState;
  readonly options: ResolvedClassroomOptions;
  readonly urls: ClassroomUrls;
  readonly keys: ClassroomKeys;
}

export function buildClassroomUrls(baseUrl: string): ClassroomUrls {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    openidConfiguration: `${base}/.well-known/openid-configuration`,
    authorize: `${base}/o/oauth2/v2/auth`,
    token: `${base}/token`,
    jwks: `${base}/oauth2/v3/certs`,
    userinfo: `${base}/v1/userinfo`,
    revoke: `${base}/revoke`,
    apiBase: base,
    item: (courseId, itemId) =>
      `${base}/classroom/c/${encodeURIComponent(courseId)}/a/${encodeURIComponent(itemId)}`,
  };
}
