import type { Router } from 'express';
import type { AdminPageContext } from './admin-context.ts';

/** The classroom pages of the admin area. PLACEHOLDER: filled in by its issue's work. */
export function classroomAdminPages(_router: Router, _ctx: AdminPageContext): void {
  // No pages yet.
}
