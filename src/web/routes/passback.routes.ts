import type { Router } from 'express';
import type { CoursePageDeps } from './course-layout.ts';

/** The passback pages of a launched course. PLACEHOLDER: filled in by its issue's work. */
export function passbackPages(_router: Router, _deps: CoursePageDeps): void {
  // No pages yet.
}
