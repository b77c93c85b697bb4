import {
  createLoginRestartRepository,
  type LoginRestart,
} from '../storage/lti/login-restarts.repository.ts';
import type { LaunchDeps } from './deps.ts';

/** What the tool can still do for a launch that arrived without a browser binding. */
export type UnboundLaunch =
  /** The login put its state into the LMS's platform storage: a page fetches it from there. */
  | {
      readonly kind: 'platform-storage';
      readonly storageTarget: string;
      readonly platformOrigin: string;
    }
  /** The tool's own window: the login page kept the state in this tab's sessionStorage. */
  | { readonly kind: 'window' }
  /**
   * No cookie in the LMS frame (Safari, iPads) and no platform storage: the launch cannot be bound
   * here, but the same login can start again in the tool's own window.
   */
  | { readonly kind: 'restart'; readonly restart: LoginRestart };

/**
 * Finds how an unbound launch of `state` can still be bound, in the order the login bound it:
 * platform storage, the window's own storage, a new window. `undefined`: nothing to offer, and the
 * launch goes on to be refused by its checks.
 */
export async function findUnboundLaunchHelp(
  deps: Pick<LaunchDeps, 'db' | 'now' | 'loginStates'>,
  input: { readonly state: string; readonly topLevel: boolean },
): Promise<UnboundLaunch | undefined> {
  const storage = await deps.loginStates.peekStorage(input.state);
  if (storage !== undefined) {
    return {
      kind: 'platform-storage',
      storageTarget: storage.storageTarget,
      platformOrigin: new URL(storage.authorizationEndpoint).origin,
    };
  }
  if (input.topLevel) return { kind: 'window' };
  const restart = await createLoginRestartRepository(deps.db, deps.now).peek(input.state);
  return restart === undefined ? undefined : { kind: 'restart', restart };
}
