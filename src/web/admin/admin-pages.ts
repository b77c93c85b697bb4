import { Router } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import type { AdminDatabase } from '../../lti-admin/admin-area.ts';
import { createAdminPageContext, type ResolveAdminActor } from './admin-context.ts';
import { classroomAdminPages } from './classroom-pages.ts';
import { deploymentAdminPages } from './deployment-pages.ts';
import { districtAdminPages } from './district-pages.ts';
import { keyAdminPages } from './key-pages.ts';
import { platformAdminPages } from './platform-pages.ts';
import { policyAdminPages } from './policy-pages.ts';
import { standardsAdminPages } from './standards-pages.ts';

// The standards pages import the check from here.
export { checkCsrf } from '../middleware/csrf.ts';

/**
 * Who is using the admin pages. Reached two ways (an LTI launch with an Administrator role, or a
 * password sign-in), the pages themselves only see this.
 */
export interface AdminActor {
  /** Opaque id for audits and logs (`admin:<id>` or `lti:<user id>`), never a name. */
  readonly id: string;
  /** undefined: an operator, who manages every district. */
  readonly tenantId: string | undefined;
  readonly name: string;
  readonly roleLabel: string;
  /** Prefix of every admin link and form action: `/admin` or `/s/<token>/admin`. */
  readonly base: string;
  readonly csrf: string;
  /** Password sign-ins can sign out; launched admins leave through the LMS. */
  readonly canSignOut: boolean;
}

export interface AdminPagesDeps {
  readonly services: AppServices;
  readonly db: AdminDatabase;
  readonly logger: Logger;
  readonly publicUrl: string;
}

/**
 * The admin pages, for one actor resolved by `resolveActor` (which runs first and may throw 401/403
 * or redirect). Mounted twice: under `/admin` (password sign-in) and `/s/:sessionToken/admin`
 * (launched LMS administrators). One module per page group; each registers its named handlers.
 *
 * Tenant isolation: an operator sees every district; a district admin sees only platforms linked
 * to their district and only their district's deployments (`lti-admin/admin-area.ts`). Tool keys
 * are shared by all districts, so only operators rotate them.
 */
export function adminPages(deps: AdminPagesDeps, resolveActor: ResolveAdminActor): Router {
  const { context, resolveActorFirst } = createAdminPageContext(deps, resolveActor);
  const router = Router({ mergeParams: true });
  router.use(resolveActorFirst);
  platformAdminPages(router, context);
  deploymentAdminPages(router, context);
  keyAdminPages(router, context);
  standardsAdminPages(router, context);
  policyAdminPages(router, context);
  classroomAdminPages(router, context);
  districtAdminPages(router, context);
  return router;
}
