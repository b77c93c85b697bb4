import type { ClassroomState } from './state.ts';

/**
 * What each user granted each OAuth client at Google's consent screen, and the test hooks around
 * it. Google shows the consent screen only when the request asks for a scope the user has not
 * granted yet, or with `prompt=consent`; each non-Sign-In scope has its own checkbox (granular
 * permissions), so a user may grant less than was asked. A refresh token comes only with an
 * authorization whose consent screen was shown (`access_type=offline`).
 *
 * Evidence: developers.google.com/identity/protocols/oauth2/web-server (`prompt`,
 * `include_granted_scopes`, refresh tokens) and
 * developers.google.com/identity/protocols/oauth2/resources/granular-permissions.
 */

/** Sign-In scopes: consented to as a whole, never a checkbox of their own. */
export const SIGN_IN_SCOPES: readonly string[] = [
  'openid',
  'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile',
];

export interface ConsentScreen {
  readonly userId: string;
  readonly clientId: string;
  /** The scopes offered with a checkbox. */
  readonly offered: readonly string[];
}

export class GoogleConsents {
  /** `${userId}|${clientId}` → granted scopes. Valid only while `state.consents` has the key. */
  private readonly grants = new Map<string, Set<string>>();
  /** Every consent screen shown, oldest first (tests assert "at most once"). */
  readonly screens: ConsentScreen[] = [];
  /** Authorization codes whose consent screen was shown: only these earn a refresh token. */
  readonly consentedCodes = new Set<string>();
  /**
   * Test hook: scopes the next consent screens leave unticked (as a user who unticks boxes). Each
   * entry applies to one screen, in order.
   */
  readonly pendingDeclines: string[][] = [];
  /**
   * Test hook: refresh grants answer with a new refresh token and no `scope` field (a token
   * rotation as some Google clients report it; Google's documented answer keeps the token).
   */
  rotateRefreshTokens = false;

  private readonly state: ClassroomState;

  constructor(state: ClassroomState) {
    this.state = state;
  }

  private key(userId: string, clientId: string): string {
    return `${userId}|${clientId}`;
  }

  /** What the user has granted the client (empty once access was removed). */
  granted(userId: string, clientId: string): ReadonlySet<string> {
    const key = this.key(userId, clientId);
    if (!this.state.consents.has(key)) return new Set();
    return this.grants.get(key) ?? new Set();
  }

  /** Whether every requested scope is already granted. */
  covers(userId: string, clientId: string, scopes: readonly string[]): boolean {
    const granted = this.granted(userId, clientId);
    return scopes.every((scope) => granted.has(scope));
  }

  /** Records a consent: the ticked scopes (plus Sign-In scopes) join what was granted before. */
  grant(userId: string, clientId: string, scopes: readonly string[]): ReadonlySet<string> {
    const key = this.key(userId, clientId);
    const merged = new Set(this.granted(userId, clientId));
    for (const scope of scopes) merged.add(scope);
    this.grants.set(key, merged);
    this.state.consents.add(key);
    return merged;
  }

  /** Counts a consent screen shown to a user. */
  shown(screen: ConsentScreen): void {
    this.screens.push(screen);
  }

  /** How many consent screens a user saw (for every client, or one). */
  screensFor(userId: string, clientId?: string): number {
    return this.screens.filter(
      (s) => s.userId === userId && (clientId === undefined || s.clientId === clientId),
    ).length;
  }

  /** The next consent screen leaves these scopes unticked. */
  declineNext(scopes: readonly string[]): void {
    this.pendingDeclines.push([...scopes]);
  }

  takeDeclines(): readonly string[] {
    return this.pendingDeclines.shift() ?? [];
  }
}

/**
 * Whether the user has authorized any OAuth client of the add-on's Cloud project: Classroom sends
 * `login_hint` only after the user's first sign-in to the add-on (sign-in journey guide).
 */
export function hasAuthorizedProject(
  state: ClassroomState,
  userId: string,
  projectNumber: string,
): boolean {
  for (const key of state.consents) {
    const [user, clientId] = key.split('|');
    if (user !== userId || clientId === undefined) continue;
    if (state.clients.get(clientId)?.projectNumber === projectNumber) return true;
  }
  return false;
}
