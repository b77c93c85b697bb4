import type { Request, RequestHandler } from 'express';
import type { Tenant } from '../../storage/lti/tenants.repository.ts';
import type { AdminActor, AdminPagesDeps } from './admin-pages.ts';

/** Navigation keys of the admin area. */
export type AdminNavKey =
  | 'overview'
  | 'platforms'
  | 'deployments'
  | 'keys'
  | 'standards'
  | 'policy'
  | 'classroom'
  | 'district';

/**
 * What an admin page module gets from the admin router: the actor (a launched district admin or a
 * password sign-in; operators have no tenant), the layout model, CSRF and operator guards.
 * Every query a module runs is scoped to a tenant the actor may see (`visibleTenants`).
 */
export interface AdminPageContext {
  readonly deps: AdminPagesDeps;
  readonly actorOf: (req: Request) => AdminActor;
  readonly layout: (
    actor: AdminActor,
    current: AdminNavKey,
    title: string,
  ) => Record<string, unknown>;
  /** Checks the form's `_csrf` (use after a body parser). */
  readonly csrf: RequestHandler;
  readonly operatorOnly: RequestHandler;
  /** Districts the actor may manage: one for a district admin, all for an operator. */
  readonly visibleTenants: (actor: AdminActor) => Promise<Tenant[]>;
}
