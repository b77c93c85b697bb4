import { CANVAS } from './canvas.ts';
import { CLASSROOM } from './classroom.ts';
import { GENERIC } from './generic.ts';
import { MOODLE } from './moodle.ts';
import type { PlatformPacing, PlatformProfile } from './platform.ts';
import { SCHOOLOGY } from './schoology.ts';

export type { LmsRefusal, PlatformPacing, PlatformProfile } from './platform.ts';

/** Every flavour's profile: a new platform is one file and one line here. */
export const PLATFORMS = Object.freeze({
  canvas: CANVAS,
  schoology: SCHOOLOGY,
  moodle: MOODLE,
  generic: GENERIC,
  classroom: CLASSROOM,
} as const satisfies Record<string, PlatformProfile>);

/** The flavours a platform registration may have (`platforms.flavour`, and its CHECK constraint). */
export type PlatformFlavour = keyof typeof PLATFORMS;

export function platformProfile(flavour: PlatformFlavour): PlatformProfile {
  return PLATFORMS[flavour];
}

/** Per-flavour pacing defaults; flavours not listed use the worker's configured rate. */
export const PLATFORM_PACING: Readonly<Partial<Record<PlatformFlavour, PlatformPacing>>> =
  Object.freeze(
    Object.fromEntries(
      Object.values(PLATFORMS).flatMap((profile) =>
        profile.pacing === undefined ? [] : [[profile.flavour, profile.pacing]],
      ),
    ),
  );
