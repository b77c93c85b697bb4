import type { ResourceLink } from './types.ts';

/**
 * Moodle 4.1+'s `lti_message_hint`: JSON naming the activity (`cmid`, when the launch is one) and a
 * launch id kept in the user's session, which its authorization endpoint uses once
 * (mod/lti/locallib.php `lti_build_login_request`; mod/lti/auth.php `unset($SESSION->$launchid)`).
 * The emulator's resource link id stands for the course module id. See docs/lms/moodle.md.
 */
export function moodleMessageHint(link: ResourceLink | undefined, launchId: string): string {
  return JSON.stringify({
    ...(link === undefined ? {} : { cmid: Number(link.resourceLinkId) }),
    launchid: launchId,
  });
}

/** The launch id of a Moodle hint; undefined when the hint is not Moodle's JSON. */
export function moodleLaunchId(hint: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(hint);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { launchid } = parsed as { launchid?: unknown };
    return typeof launchid === 'string' && launchid !== '' ? launchid : undefined;
  } catch {
    return undefined;
  }
}

/** The cookie standing for Moodle's session: who is signed in to the emulated Moodle site. */
export const MOODLE_SESSION_COOKIE = 'MoodleSessionEmulator';
