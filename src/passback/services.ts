import type { AreaDeps } from '../area-deps.ts';

/** The passback area's services, built once per app. PLACEHOLDER: filled in by its issue's work. */
export function createPassbackServices(_deps: AreaDeps) {
  return {};
}
