import type { Router } from 'express';
import type { AdminPageContext } from './admin-context.ts';

/** The policy pages of the admin area. PLACEHOLDER: filled in by its issue's work. */
export function policyAdminPages(_router: Router, _ctx: AdminPageContext): void {
  // No pages yet.
}
