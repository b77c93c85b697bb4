import type { PlatformProfile } from './platform.ts';
import { GENERIC } from './generic.ts';

/**
 * Schoology (docs/lms/schoology.md): plain AGS/NRPS with its own limits, which the adapter's
 * paging already follows (NRPS pages of at most 100, `Link: rel="next"`). Re-posting an unchanged
 * score clears a teacher's Missing flag: the passback worker posts only changed values anyway.
 */
export const SCHOOLOGY: PlatformProfile = Object.freeze({ ...GENERIC, flavour: 'schoology' });
