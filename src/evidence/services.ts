import type { AreaDeps } from '../area-deps.ts';

/** The evidence area's services, built once per app. PLACEHOLDER: filled in by its issue's work. */
export function createMasteryServices(_deps: AreaDeps) {
  return {};
}
