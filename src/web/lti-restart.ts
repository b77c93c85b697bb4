import type { Request } from 'express';
import type { AppServices } from '../app-services.ts';
import type { Platform } from '../storage/lti/platforms.repository.ts';
import type { LoginRestart } from '../storage/lti/login-restarts.repository.ts';

/**
 * Logins that cannot bind to the browser inside the LMS frame, and platforms that cannot launch
 * yet. Helpers of the login and launch routes (lti.routes.ts).
 */

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
export function restartUrl(publicUrl: string, loginPath: string, restart: LoginRestart): string {
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

/** A registration of the login's issuer (and client id, when sent) that waits for approval. */
export async function findPendingPlatform(
  services: AppServices,
  params: Readonly<Record<string, unknown>>,
): Promise<Platform | undefined> {
  const issuer = params['iss'];
  const clientId = params['client_id'];
  if (typeof issuer !== 'string' || issuer === '') return undefined;
  if (typeof clientId === 'string' && clientId !== '') {
    const platform = await services.platforms.findByIssuerAndClient(issuer, clientId);
    return platform?.status === 'pending' ? platform : undefined;
  }
  const pending = (await services.platforms.list()).filter(
    (platform) => platform.issuer === issuer && platform.status === 'pending',
  );
  return pending.length === 1 ? pending[0] : undefined;
}

/** The origins a pending platform frames the tool from: what an approval would allow. */
export function frameOriginsOf(platform: Platform): string[] {
  const origins = new Set<string>();
  for (const url of [platform.issuer, platform.authLoginUrl, ...platform.frameOrigins]) {
    if (URL.canParse(url)) origins.add(new URL(url).origin);
  }
  return [...origins];
}

/**
 * Who approves a pending platform, in words: the district's Mastery Pathways administrator when the
 * registration already names its district, else the operator of this installation (there is no
 * operator-contact setting yet).
 */
export async function approverOf(
  services: AppServices,
  platform: Platform,
  publicUrl: string,
): Promise<string> {
  if (platform.defaultTenantId !== undefined) {
    const tenant = await services.tenants.findById(platform.defaultTenantId);
    if (tenant !== undefined) return `the Mastery Pathways administrator of ${tenant.name}`;
  }
  return `the operator of Mastery Pathways at ${new URL(publicUrl).host}`;
}
