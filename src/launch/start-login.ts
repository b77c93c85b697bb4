import { isLtiError, LtiError } from '../lti/errors.ts';
import { handleLogin, randomToken, type LoginResult, type LoginStateStore } from '../lti/login.ts';
import { createLoginRestartRepository } from '../storage/lti/login-restarts.repository.ts';
import { UnknownPlatformError } from '../storage/lti/login-states.repository.ts';
import type { LaunchDeps } from './deps.ts';
import { findPendingRegistration, type PendingRegistration } from './pending-registration.ts';

/**
 * How the browser is bound to the login it starts (the state is kept server-side):
 * - `platform-storage`: the LMS offers platform storage; the state goes there (and in the cookie);
 * - `window`: the tool's own window (top level); its sessionStorage keeps the state;
 * - `cookie`: a frame without platform storage; only the partitioned cookie binds it, and what
 *   starting the login again in a new window needs is kept, for a browser without that cookie.
 */
export type LoginBinding = 'platform-storage' | 'window' | 'cookie';

export type StartedLogin =
  | { readonly outcome: 'started'; readonly login: LoginResult; readonly binding: LoginBinding }
  /** Registered by Dynamic Registration, not approved yet: the LMS frame is told so. */
  | { readonly outcome: 'pending'; readonly pending: PendingRegistration };

/**
 * Third-party initiated login (LTI Core 1.3 §5.1.1), as named steps: start the login, or say that
 * the registration waits for approval; then choose how the browser is bound to it.
 */
export async function startLtiLogin(
  deps: LaunchDeps,
  input: { readonly params: Readonly<Record<string, unknown>>; readonly topLevel: boolean },
): Promise<StartedLogin> {
  let login: LoginResult;
  try {
    login = await handleLogin(input.params, {
      platforms: deps.platformLookup,
      states: loginStatesOf(deps),
      endpoints: deps.endpoints,
      now: deps.now,
      randomToken,
    });
  } catch (error) {
    const pending = await pendingInsteadOf(deps, error, input.params);
    if (pending === undefined) throw error;
    return { outcome: 'pending', pending };
  }
  const binding = chooseBinding(login, input.topLevel);
  if (binding === 'cookie') await rememberRestart(deps, login);
  return { outcome: 'started', login, binding };
}

/**
 * The platform lookup may answer from what it kept for a few seconds; a platform removed in that
 * time is caught when its login state is saved, and refused like any unknown issuer.
 */
function loginStatesOf(deps: LaunchDeps): LoginStateStore {
  return {
    save: async (loginState) => {
      try {
        await deps.loginStates.save(loginState);
      } catch (error) {
        if (!(error instanceof UnknownPlatformError)) throw error;
        throw new LtiError('unknown_issuer', {
          detail: `iss ${loginState.issuer} client_id ${loginState.clientId} (removed)`,
          cause: error,
        });
      }
    },
    take: (state) => deps.loginStates.take(state),
  };
}

/** An unknown issuer or client may be a registration waiting for approval. */
async function pendingInsteadOf(
  deps: LaunchDeps,
  error: unknown,
  params: Readonly<Record<string, unknown>>,
): Promise<PendingRegistration | undefined> {
  if (!isLtiError(error, 'unknown_issuer') && !isLtiError(error, 'unknown_client')) {
    return undefined;
  }
  return findPendingRegistration(deps, params);
}

/** Platform storage is the primary binding where the LMS offers it; the cookie is the fallback. */
function chooseBinding(login: LoginResult, topLevel: boolean): LoginBinding {
  if (login.storageTarget !== undefined) return 'platform-storage';
  return topLevel ? 'window' : 'cookie';
}

/** Keeps the LMS's hints, so the same login can start again in a new window. */
async function rememberRestart(deps: LaunchDeps, login: LoginResult): Promise<void> {
  await createLoginRestartRepository(deps.db, deps.now).save({
    state: login.state,
    loginHint: login.loginHint,
    messageHint: login.messageHint,
  });
}
