import type { AreaDeps } from '../area-deps.ts';

/** The alignment area's services, built once per app. PLACEHOLDER: filled in by its issue's work. */
export function createAlignmentServices(_deps: AreaDeps) {
  return {};
}
