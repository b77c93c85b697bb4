import type { Request, RequestHandler, Response } from 'express';
import type { AdminAreaDeps, Tenant } from '../../lti-admin/admin-area.ts';
import { listVisibleTenants } from '../../lti-admin/admin-area.ts';
import { HttpError } from '../errors.ts';
import { csrfGuard } from '../middleware/csrf.ts';
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
  /** What the admin use cases (`lti-admin/admin-area.ts`) take. */
  readonly area: AdminAreaDeps;
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

/** Finds who is acting; answers the request itself (and returns undefined) to send them away. */
export type ResolveAdminActor = (req: Request, res: Response) => Promise<AdminActor | undefined>;

const NAV: readonly { path: string; label: string; key: AdminNavKey }[] = [
  { path: '', label: 'Overview', key: 'overview' },
  { path: '/platforms', label: 'Platforms', key: 'platforms' },
  { path: '/deployments', label: 'Deployments', key: 'deployments' },
  { path: '/standards', label: 'Standards', key: 'standards' },
  { path: '/policy', label: 'Mastery policy', key: 'policy' },
  { path: '/classroom', label: 'Google Classroom', key: 'classroom' },
  { path: '/district', label: 'District settings', key: 'district' },
  { path: '/keys', label: 'Tool keys', key: 'keys' },
];

/** The layout model of every admin page: navigation, who is signed in, the form secret. */
export function adminLayout(actor: AdminActor, current: AdminNavKey, title: string) {
  return {
    layout: 'tool',
    title,
    nav: NAV.map((item) => ({
      href: `${actor.base}${item.path}`,
      label: item.label,
      current: item.key === current,
    })),
    viewer: { name: actor.name, roleLabel: actor.roleLabel },
    base: actor.base,
    csrf: actor.csrf,
    canSignOut: actor.canSignOut,
    isOperator: actor.tenantId === undefined,
  };
}

/**
 * The context of one admin router and the middleware that resolves its actor first (it may throw
 * 401/403 or redirect). The actor is kept per request in a WeakMap of this router: no module state.
 */
export function createAdminPageContext(
  deps: AdminPagesDeps,
  resolveActor: ResolveAdminActor,
): { context: AdminPageContext; resolveActorFirst: RequestHandler } {
  const actors = new WeakMap<Request, AdminActor>();
  const actorOf = (req: Request): AdminActor => {
    const found = actors.get(req);
    if (found === undefined) throw new Error('admin actor missing');
    return found;
  };
  const resolveActorFirst: RequestHandler = async function resolveAdminActor(req, res, next) {
    const actor = await resolveActor(req, res);
    if (actor === undefined) return; // the resolver answered (e.g. a redirect to sign in)
    actors.set(req, actor);
    // Admin pages are personal and may carry a session token in the URL.
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  };
  const operatorOnly: RequestHandler = function requireOperator(req, _res, next) {
    if (actorOf(req).tenantId !== undefined) {
      throw new HttpError(
        403,
        'forbidden',
        'Only the tool operator can do this; it affects every district.',
      );
    }
    next();
  };
  const area: AdminAreaDeps = { ...deps.services, db: deps.db, logger: deps.logger };
  const context: AdminPageContext = {
    deps,
    area,
    actorOf,
    layout: adminLayout,
    csrf: csrfGuard((req) => actorOf(req).csrf),
    operatorOnly,
    visibleTenants: (actor) => listVisibleTenants(area, actor),
  };
  return { context, resolveActorFirst };
}
