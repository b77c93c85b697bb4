import type { Request } from 'express';

/**
 * Logins that cannot bind to the browser inside the LMS frame. Helpers of the login and launch
 * routes (lti.routes.ts).
 */

/** What starting a login again needs: the LMS's original login parameters. */
export interface RestartHints {
  readonly state: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly deploymentId: string | undefined;
  readonly targetLinkUri: string;
  readonly loginHint: string;
  readonly messageHint: string | undefined;
}

/**
 * Whether the browser loads this page as its window (top level), by Fetch Metadata
 * (`Sec-Fetch-Dest: document`; Chromium, Firefox and Safari 16.4+ send it). Without the header
 * the answer is "no": the caller keeps its frame behaviour.
 */
export function isTopLevelNavigation(req: Request): boolean {
  return req.get('sec-fetch-dest') === 'document';
}

/**
 * Moodle 4.1+ sends `lti_message_hint` as JSON `{"cmid": …, "launchid": …}` and forgets the launch
 * id once its authorization endpoint has used it (mod/lti/auth.php: `unset($SESSION->$launchid)`),
 * so the same hints cannot log in twice. Its own launch page (`mod/lti/launch.php?id=<cmid>`)
 * starts a fresh login for the same activity. Answers that page for a Moodle-shaped hint.
 */
export function moodleRelaunchUrl(
  issuer: string,
  messageHint: string | undefined,
): string | undefined {
  if (messageHint === undefined || !messageHint.startsWith('{')) return undefined;
  let hint: unknown;
  try {
    hint = JSON.parse(messageHint);
  } catch {
    return undefined;
  }
  if (typeof hint !== 'object' || hint === null) return undefined;
  const { cmid, launchid } = hint as { cmid?: unknown; launchid?: unknown };
  if (typeof launchid !== 'string') return undefined;
  const id = typeof cmid === 'number' ? String(cmid) : typeof cmid === 'string' ? cmid : '';
  if (!/^[1-9][0-9]{0,18}$/.test(id) || !URL.canParse(issuer)) return undefined;
  const wwwroot = new URL(issuer);
  if (wwwroot.protocol !== 'https:' && wwwroot.protocol !== 'http:') return undefined;
  const url = new URL(`${wwwroot.pathname.replace(/\/+$/, '')}/mod/lti/launch.php`, wwwroot);
  url.searchParams.set('id', id);
  return url.toString();
}

/**
 * Where the "open in a new window" button goes: the LMS's own launch page when its hints are
 * single-use (Moodle), else our login initiation with the LMS's original parameters. Either way
 * the LMS authenticates its user again at its authorization endpoint (and refuses a `login_hint`
 * that is not the signed-in user), so the button cannot sign anyone in as someone else; the new
 * login gets a new state and nonce, bound to the new window.
 */
export function restartUrl(publicUrl: string, loginPath: string, restart: RestartHints): string {
  const moodle = moodleRelaunchUrl(restart.issuer, restart.messageHint);
  if (moodle !== undefined) return moodle;
  const url = new URL(loginPath, publicUrl);
  const params: Record<string, string | undefined> = {
    iss: restart.issuer,
    login_hint: restart.loginHint,
    target_link_uri: restart.targetLinkUri,
    lti_message_hint: restart.messageHint,
    client_id: restart.clientId,
    lti_deployment_id: restart.deploymentId,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}
