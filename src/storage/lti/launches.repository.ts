import { sql, type Kysely } from 'kysely';
import type { LaunchContext } from '../../lti/claims.ts';
import type { Database } from '../schema.ts';
import type { Course, ResourceLink } from './courses.repository.ts';
import type { User } from './people.repository.ts';
import { toSession, type Session } from './sessions.repository.ts';
import { lmsRolesFromLti } from '../../lms/lti/roles.ts';

/**
 * The write side of an accepted LTI launch: the nonce, the user, the course, the enrollment, the
 * resource link and the session, in one statement. Filtered by the tenant the deployment resolves
 * to (STYLE: tenancy).
 */

export interface LaunchRecord {
  readonly user: User;
  readonly course: Course | undefined;
  readonly resourceLink: ResourceLink | undefined;
}

/** A launch's id_token nonce, claimed for the token's whole lifetime (`used_nonces`). */
export interface LaunchNonce {
  readonly issuer: string;
  readonly nonce: string;
  readonly expiresAt: Date;
}

/** A session row prepared by the session repository (`sessions.prepare()`): only the token's hash. */
export interface PreparedSessionRow {
  readonly id: string;
  readonly csrfSecret: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export type AcceptedLaunch =
  /** The nonce was claimed before: nothing was written. */
  | { readonly outcome: 'nonce_replay' }
  /** `(issuer, client_id, deployment_id)` is not (or no longer) an active registered deployment. */
  | { readonly outcome: 'unknown_deployment' }
  /** The district deleted this person on request: only the nonce was recorded. */
  | { readonly outcome: 'person_deleted'; readonly deletedAt: Date }
  /** The course key belongs to another tenant: the nonce and user were recorded, no session. */
  | { readonly outcome: 'course_in_other_tenant' }
  | {
      readonly outcome: 'accepted';
      readonly tenantId: string;
      readonly deploymentRowId: string;
      readonly record: LaunchRecord;
      readonly session: Session;
    };

interface AcceptRow {
  claimed: boolean;
  deleted_at: Date | null;
  tenant_id: string | null;
  deployment_row_id: string | null;
  u_id: string | null;
  u_name: string | null;
  u_given_name: string | null;
  u_family_name: string | null;
  u_email: string | null;
  c_id: string | null;
  c_title: string | null;
  c_label: string | null;
  c_ags_line_items_url: string | null;
  c_ags_scopes: string[] | null;
  c_nrps_memberships_url: string | null;
  c_nrps_service_versions: string[] | null;
  r_id: string | null;
  r_title: string | null;
  r_line_item_url: string | null;
  r_created_via: 'launch' | 'deep_link' | null;
  s_id: string | null;
  s_user_id: string | null;
  s_course_id: string | null;
  s_roles: string[] | null;
  s_csrf_secret: string | null;
  s_created_at: Date | null;
  s_expires_at: Date | null;
  s_last_seen_at: Date | null;
}

/**
 * The launch's values, each cast so PostgreSQL knows its type wherever it appears. Written inline
 * (not as a CTE of parameters): the planner then sees constants, which plans faster.
 */
function launchValues(launch: LaunchContext, time: Date) {
  const context = launch.context;
  const link = context === undefined ? undefined : launch.resourceLink;
  return {
    issuer: sql`${launch.issuer}::text`,
    client_id: sql`${launch.clientId}::text`,
    deployment_id: sql`${launch.deploymentId}::text`,
    sub: sql`${launch.sub}::text`,
    name: sql`${launch.name ?? null}::text`,
    given_name: sql`${launch.givenName ?? null}::text`,
    family_name: sql`${launch.familyName ?? null}::text`,
    email: sql`${launch.email ?? null}::text`,
    roles: sql`${[...launch.roles]}::text[]`,
    // Sessions keep the LMS-neutral roles; enrollments keep the LTI roles as the LMS sent them.
    session_roles: sql`${lmsRolesFromLti(launch.roles)}::text[]`,
    context_id: sql`${context?.id ?? null}::text`,
    context_title: sql`${context?.title ?? null}::text`,
    context_label: sql`${context?.label ?? null}::text`,
    ags_line_items_url: sql`${launch.ags?.lineItemsUrl ?? null}::text`,
    ags_scopes: sql`${[...(launch.ags?.scopes ?? [])]}::text[]`,
    nrps_memberships_url: sql`${launch.nrps?.membershipsUrl ?? null}::text`,
    nrps_service_versions: sql`${[...(launch.nrps?.serviceVersions ?? [])]}::text[]`,
    resource_link_id: sql`${link?.id ?? null}::text`,
    resource_link_title: sql`${link?.title ?? null}::text`,
    line_item_url: sql`${launch.ags?.lineItemUrl ?? null}::text`,
    time: sql`${time}::timestamptz`,
  };
}

type LaunchValues = ReturnType<typeof launchValues>;

/**
 * n, g_all, x, g: claims the nonce, finds the deployment's district (active registrations only)
 * and leaves out a person deleted on request.
 */
function districtSteps(v: LaunchValues, nonce: LaunchNonce, personHash: string) {
  return sql`
    n AS (
      INSERT INTO used_nonces (issuer, nonce, expires_at)
      VALUES (${nonce.issuer}::text, ${nonce.nonce}::text, ${nonce.expiresAt}::timestamptz)
      ON CONFLICT (issuer, nonce) DO NOTHING
      RETURNING true AS claimed
    ),
    g_all AS (
      SELECT d.id AS deployment_row_id, d.tenant_id,
        coalesce(t.settings -> 'storeEmail' = 'true'::jsonb, false) AS store_email
      FROM n, deployments d
      JOIN platforms p ON p.id = d.platform_id
      JOIN tenants t ON t.id = d.tenant_id
      WHERE p.issuer = ${v.issuer} AND p.client_id = ${v.client_id} AND p.status = 'active'
        AND d.deployment_id = ${v.deployment_id}
    ),
    x AS (
      SELECT dr.deleted_at FROM deletion_records dr, g_all
      WHERE dr.tenant_id = g_all.tenant_id AND dr.person_hash = ${personHash}::text
    ),
    g AS (
      SELECT * FROM g_all WHERE NOT EXISTS (SELECT 1 FROM x)
    )
  `;
}

/** u_old, u_new, u: the user, rewritten only when the launch changes it. */
function userSteps(v: LaunchValues) {
  return sql`
    u_old AS (
      SELECT u.* FROM users u, g
      WHERE u.tenant_id = g.tenant_id AND u.issuer = ${v.issuer} AND u.sub = ${v.sub}
    ),
    u_new AS (
      INSERT INTO users
        (tenant_id, issuer, sub, name, given_name, family_name, email, created_at, updated_at)
      SELECT g.tenant_id, ${v.issuer}, ${v.sub}, ${v.name}, ${v.given_name}, ${v.family_name},
        CASE WHEN g.store_email THEN ${v.email} END, ${v.time}, ${v.time}
      FROM g
      WHERE NOT EXISTS (
        SELECT 1 FROM u_old
        WHERE (${v.name} IS NULL OR u_old.name = ${v.name})
          AND (${v.given_name} IS NULL OR u_old.given_name = ${v.given_name})
          AND (${v.family_name} IS NULL OR u_old.family_name = ${v.family_name})
          AND CASE WHEN g.store_email THEN ${v.email} IS NULL OR u_old.email = ${v.email}
            ELSE u_old.email IS NULL END
      )
      ON CONFLICT (tenant_id, issuer, sub) DO UPDATE SET
        name = coalesce(excluded.name, users.name),
        given_name = coalesce(excluded.given_name, users.given_name),
        family_name = coalesce(excluded.family_name, users.family_name),
        email = CASE WHEN (SELECT store_email FROM g) THEN coalesce(excluded.email, users.email) END,
        updated_at = excluded.updated_at
      RETURNING id, name, given_name, family_name, email
    ),
    u AS (
      SELECT * FROM u_new
      UNION ALL
      SELECT id, name, given_name, family_name, email FROM u_old
      WHERE NOT EXISTS (SELECT 1 FROM u_new)
    )
  `;
}

/** c_old, c_new, c, e: the course (rewritten only when changed) and the enrollment. */
function courseSteps(v: LaunchValues) {
  return sql`
    c_old AS (
      SELECT c.* FROM courses c, g
      WHERE c.deployment_row_id = g.deployment_row_id AND c.context_id = ${v.context_id}
        AND c.tenant_id = g.tenant_id
    ),
    c_new AS (
      INSERT INTO courses (tenant_id, deployment_row_id, context_id, title, label,
        ags_line_items_url, ags_scopes, nrps_memberships_url, nrps_service_versions, updated_at)
      SELECT g.tenant_id, g.deployment_row_id, ${v.context_id}, ${v.context_title}, ${v.context_label},
        ${v.ags_line_items_url}, ${v.ags_scopes}, ${v.nrps_memberships_url}, ${v.nrps_service_versions}, ${v.time}
      FROM g
      WHERE ${v.context_id} IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM c_old
        WHERE (${v.context_title} IS NULL OR c_old.title = ${v.context_title})
          AND (${v.context_label} IS NULL OR c_old.label = ${v.context_label})
          AND c_old.ags_line_items_url IS NOT DISTINCT FROM ${v.ags_line_items_url}
          AND c_old.ags_scopes = ${v.ags_scopes}
          AND c_old.nrps_memberships_url IS NOT DISTINCT FROM ${v.nrps_memberships_url}
          AND c_old.nrps_service_versions = ${v.nrps_service_versions}
      )
      ON CONFLICT (deployment_row_id, context_id) DO UPDATE SET
        title = coalesce(excluded.title, courses.title),
        label = coalesce(excluded.label, courses.label),
        ags_line_items_url = excluded.ags_line_items_url,
        ags_scopes = excluded.ags_scopes,
        nrps_memberships_url = excluded.nrps_memberships_url,
        nrps_service_versions = excluded.nrps_service_versions,
        updated_at = excluded.updated_at
      WHERE courses.tenant_id = excluded.tenant_id
      RETURNING id, title, label, ags_line_items_url, ags_scopes, nrps_memberships_url,
        nrps_service_versions
    ),
    c AS (
      SELECT * FROM c_new
      UNION ALL
      SELECT id, title, label, ags_line_items_url, ags_scopes, nrps_memberships_url,
        nrps_service_versions
      FROM c_old WHERE NOT EXISTS (SELECT 1 FROM c_new)
    ),
    e AS (
      INSERT INTO enrollments (tenant_id, course_id, user_id, roles, status, source, updated_at)
      SELECT g.tenant_id, c.id, u.id, ${v.roles}, 'active', 'launch', ${v.time}
      FROM g, c, u
      WHERE NOT EXISTS (
        SELECT 1 FROM enrollments old
        WHERE old.course_id = c.id AND old.user_id = u.id AND old.tenant_id = g.tenant_id
          AND old.roles = ${v.roles} AND old.status = 'active' AND old.source = 'launch'
      )
      ON CONFLICT (course_id, user_id) DO UPDATE SET
        roles = excluded.roles, status = excluded.status, source = excluded.source,
        updated_at = excluded.updated_at
      WHERE enrollments.tenant_id = excluded.tenant_id
    )
  `;
}

/** r_old, r_new, r, s: the resource link and the new session. */
function linkAndSessionSteps(v: LaunchValues, session: PreparedSessionRow) {
  return sql`
    r_old AS (
      SELECT r.* FROM resource_links r, c
      WHERE r.course_id = c.id AND r.resource_link_id = ${v.resource_link_id}
    ),
    r_new AS (
      INSERT INTO resource_links (tenant_id, course_id, resource_link_id, title, line_item_url,
        created_via, created_at, updated_at)
      SELECT g.tenant_id, c.id, ${v.resource_link_id}, ${v.resource_link_title}, ${v.line_item_url},
        'launch', ${v.time}, ${v.time}
      FROM g, c
      WHERE ${v.resource_link_id} IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM r_old
        WHERE (${v.resource_link_title} IS NULL OR r_old.title = ${v.resource_link_title})
          AND (${v.line_item_url} IS NULL OR r_old.line_item_url = ${v.line_item_url})
      )
      ON CONFLICT (course_id, resource_link_id) DO UPDATE SET
        title = coalesce(excluded.title, resource_links.title),
        line_item_url = coalesce(excluded.line_item_url, resource_links.line_item_url),
        updated_at = excluded.updated_at
      RETURNING id, title, line_item_url, created_via
    ),
    r AS (
      SELECT * FROM r_new
      UNION ALL
      SELECT id, title, line_item_url, created_via FROM r_old
      WHERE NOT EXISTS (SELECT 1 FROM r_new)
    ),
    s AS (
      INSERT INTO sessions (id, tenant_id, user_id, course_id, roles, csrf_secret, created_at,
        expires_at, last_seen_at)
      SELECT ${session.id}::text, g.tenant_id, u.id, c.id, ${v.session_roles}, ${session.csrfSecret}::text,
        ${session.createdAt}::timestamptz, ${session.expiresAt}::timestamptz,
        ${session.createdAt}::timestamptz
      FROM g CROSS JOIN u LEFT JOIN c ON true
      WHERE ${v.context_id} IS NULL OR c.id IS NOT NULL
      RETURNING *
    )
  `;
}

/** The one row the statement returns: what each step found or wrote. */
function acceptedRow() {
  return sql`
    SELECT
      EXISTS (SELECT 1 FROM n) AS claimed,
      (SELECT deleted_at FROM x LIMIT 1) AS deleted_at,
      g.tenant_id, g.deployment_row_id,
      u.id AS u_id, u.name AS u_name, u.given_name AS u_given_name,
      u.family_name AS u_family_name, u.email AS u_email,
      c.id AS c_id, c.title AS c_title, c.label AS c_label,
      c.ags_line_items_url AS c_ags_line_items_url, c.ags_scopes AS c_ags_scopes,
      c.nrps_memberships_url AS c_nrps_memberships_url,
      c.nrps_service_versions AS c_nrps_service_versions,
      r.id AS r_id, r.title AS r_title, r.line_item_url AS r_line_item_url,
      r.created_via AS r_created_via,
      s.id AS s_id, s.user_id AS s_user_id, s.course_id AS s_course_id, s.roles AS s_roles,
      s.csrf_secret AS s_csrf_secret, s.created_at AS s_created_at,
      s.expires_at AS s_expires_at, s.last_seen_at AS s_last_seen_at
    FROM (SELECT 1) AS one
    LEFT JOIN g ON true
    LEFT JOIN u ON true
    LEFT JOIN c ON true
    LEFT JOIN r ON true
    LEFT JOIN s ON true
  `;
}

/** The statement's row as the launch's outcome. */
function acceptedLaunchOf(
  row: AcceptRow | undefined,
  launch: LaunchContext,
  session: PreparedSessionRow,
): AcceptedLaunch {
  const context = launch.context;
  const link = context === undefined ? undefined : launch.resourceLink;
  if (row === undefined || !row.claimed) return { outcome: 'nonce_replay' };
  if (row.deleted_at !== null) {
    return { outcome: 'person_deleted', deletedAt: new Date(row.deleted_at) };
  }
  if (row.tenant_id === null || row.deployment_row_id === null || row.u_id === null) {
    return { outcome: 'unknown_deployment' };
  }
  if (row.s_id === null) return { outcome: 'course_in_other_tenant' };
  const tenantId = row.tenant_id;
  const deploymentRowId = row.deployment_row_id;
  const user: User = {
    id: row.u_id,
    tenantId,
    issuer: launch.issuer,
    sub: launch.sub,
    name: row.u_name ?? undefined,
    givenName: row.u_given_name ?? undefined,
    familyName: row.u_family_name ?? undefined,
    email: row.u_email ?? undefined,
  };
  const course: Course | undefined =
    row.c_id === null || context === undefined
      ? undefined
      : {
          id: row.c_id,
          tenantId,
          deploymentRowId,
          contextId: context.id,
          title: row.c_title ?? undefined,
          label: row.c_label ?? undefined,
          agsLineItemsUrl: row.c_ags_line_items_url ?? undefined,
          agsScopes: row.c_ags_scopes ?? [],
          nrpsMembershipsUrl: row.c_nrps_memberships_url ?? undefined,
          nrpsServiceVersions: row.c_nrps_service_versions ?? [],
        };
  const resourceLink: ResourceLink | undefined =
    row.r_id === null || course === undefined || link === undefined
      ? undefined
      : {
          id: row.r_id,
          courseId: course.id,
          resourceLinkId: link.id,
          title: row.r_title ?? undefined,
          lineItemUrl: row.r_line_item_url ?? undefined,
          createdVia: row.r_created_via ?? 'launch',
        };
  return {
    outcome: 'accepted',
    tenantId,
    deploymentRowId,
    record: { user, course, resourceLink },
    session: toSession({
      id: row.s_id,
      tenant_id: tenantId,
      user_id: row.s_user_id ?? row.u_id,
      course_id: row.s_course_id,
      roles: row.s_roles ?? [],
      csrf_secret: row.s_csrf_secret ?? '',
      created_at: new Date(row.s_created_at ?? session.createdAt),
      expires_at: new Date(row.s_expires_at ?? session.expiresAt),
      last_seen_at: new Date(row.s_last_seen_at ?? session.createdAt),
    }),
  };
}

export function createLaunchRepository(db: Kysely<Database>, now: () => Date) {
  return {
    /**
     * The whole write side of an accepted launch in ONE statement (one round trip, atomic): claims
     * the nonce, resolves the deployment to its district from active registrations (the database's
     * word, whatever a cache said), then records the user, course, enrollment and resource link and
     * creates the session. Nothing is written past the nonce unless the nonce was claimed here.
     *
     * Rows are read before they are written and rewritten only when the launch changes them, so a
     * class launching at once does not queue on its course's row lock; a row that is new or changed
     * is upserted with ON CONFLICT, so two first launches of one course both get its one row.
     * Names are kept when a launch omits them, email only when the tenant stores it, and the latest
     * AGS/NRPS endpoints win. A person the district deleted on request (a deletion record with
     * `personHash`) is not recorded again and gets no session.
     */
    async acceptLaunch(input: {
      launch: LaunchContext;
      nonce: LaunchNonce;
      session: PreparedSessionRow;
      /** The launching person's keyed hash (`deletionRecords.hashPerson(issuer, sub)`). */
      personHash: string;
    }): Promise<AcceptedLaunch> {
      const { launch, nonce, session } = input;
      const v = launchValues(launch, now());
      // The marker: this SQL text never varies (every value is a parameter), so it may be prepared
      // once per connection; planning this statement costs PostgreSQL more than running it.
      const result = await sql<AcceptRow>`/* prepared */
        WITH
        ${districtSteps(v, nonce, input.personHash)},
        ${userSteps(v)},
        ${courseSteps(v)},
        ${linkAndSessionSteps(v, session)}
        ${acceptedRow()}
      `.execute(db);
      return acceptedLaunchOf(result.rows[0], launch, session);
    },
  };
}

export type LaunchRepository = ReturnType<typeof createLaunchRepository>;
