import type { PlatformProfile } from './platform.ts';
import { GENERIC } from './generic.ts';

/**
 * Moodle 4.x (docs/lms/moodle.md): a full LTI Advantage platform, so the generic path with no
 * vendor code; its short role and context-type forms are read by `src/lti/claims.ts`.
 */
export const MOODLE: PlatformProfile = Object.freeze({ ...GENERIC, flavour: 'moodle' });
