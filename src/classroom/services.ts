import type { AreaDeps } from '../area-deps.ts';

/** The classroom area's services, built once per app. PLACEHOLDER: filled in by its issue's work. */
export function createClassroomServices(_deps: AreaDeps) {
  return {};
}
