import { sql, type Kysely } from 'kysely';
import type { LaunchContext } from '../../lti/claims.ts';
import { isTestUser, lmsRole, lmsRolesFromLti } from '../../lms/lti/roles.ts';
import type { LmsRole } from '../../lms/roles.ts';
import type { Member } from '../../lti/nrps.ts';
import { upsertEnrollment } from '../people-rows.ts';
import type { Database } from '../schema.ts';
import type { EnrollmentSource, EnrollmentStatus } from './schema.ts';
import { toSession, type Session } from './sessions.repository.ts';

/**
 * Users, courses, enrollments and resource links: district data. Every function takes the tenant
 * and every statement filters by it (STYLE: tenancy), so a wrong id from another district finds
 * nothing rather than leaking.
 */

export interface User extends PersonFields {
  readonly id: string;
  readonly tenantId: string;
}

export interface Course {
  readonly id: string;
  readonly tenantId: string;
  readonly deploymentRowId: string;
  readonly contextId: string;
  readonly title: string | undefined;
  readonly label: string | undefined;
  readonly agsLineItemsUrl: string | undefined;
  readonly agsScopes: readonly string[];
  readonly nrpsMembershipsUrl: string | undefined;
  readonly nrpsServiceVersions: readonly string[];
}

export interface Enrollment {
  readonly courseId: string;
  readonly userId: string;
  readonly roles: readonly string[];
  readonly status: EnrollmentStatus;
  readonly source: EnrollmentSource;
}

export interface ResourceLink {
  readonly id: string;
  readonly courseId: string;
  readonly resourceLinkId: string;
  readonly title: string | undefined;
  readonly lineItemUrl: string | undefined;
  readonly createdVia: 'launch' | 'deep_link';
}

/** The people fields a launch or a roster carries; email only when the tenant stores email. */
export interface PersonFields {
  readonly issuer: string;
  readonly sub: string;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
}

export interface RosterEntry {
  readonly userId: string;
  readonly name: string | undefined;
  /** The role that matters in this course, by the LMS port's one rule. */
  readonly role: LmsRole;
  readonly active: boolean;
  /** The platform's test user (Canvas Student View: LTI system role TestUser). */
  readonly testUser: boolean;
}

export interface LaunchRecord {
  readonly user: User;
  readonly course: Course | undefined;
  readonly resourceLink: ResourceLink | undefined;
}

export interface RosterSyncResult {
  readonly upserted: number;
  readonly markedInactive: number;
}

interface UserRow {
  id: string;
  tenant_id: string;
  issuer: string;
  sub: string;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  email: string | null;
}

interface CourseRow {
  id: string;
  tenant_id: string;
  deployment_row_id: string;
  context_id: string;
  title: string | null;
  label: string | null;
  ags_line_items_url: string | null;
  ags_scopes: string[];
  nrps_memberships_url: string | null;
  nrps_service_versions: string[];
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  tenantId: row.tenant_id,
  issuer: row.issuer,
  sub: row.sub,
  name: row.name ?? undefined,
  givenName: row.given_name ?? undefined,
  familyName: row.family_name ?? undefined,
  email: row.email ?? undefined,
});

const toCourse = (row: CourseRow): Course => ({
  id: row.id,
  tenantId: row.tenant_id,
  deploymentRowId: row.deployment_row_id,
  contextId: row.context_id,
  title: row.title ?? undefined,
  label: row.label ?? undefined,
  agsLineItemsUrl: row.ags_line_items_url ?? undefined,
  agsScopes: row.ags_scopes,
  nrpsMembershipsUrl: row.nrps_memberships_url ?? undefined,
  nrpsServiceVersions: row.nrps_service_versions,
});

const toResourceLink = (row: {
  id: string;
  course_id: string;
  resource_link_id: string;
  title: string | null;
  line_item_url: string | null;
  created_via: 'launch' | 'deep_link';
}): ResourceLink => ({
  id: row.id,
  courseId: row.course_id,
  resourceLinkId: row.resource_link_id,
  title: row.title ?? undefined,
  lineItemUrl: row.line_item_url ?? undefined,
  createdVia: row.created_via,
});

type Executor = Kysely<Database>;

export type PeopleStorageErrorCode = 'deployment_not_in_tenant' | 'course_not_found';

/** A tenant-scoped call named a row of another tenant (or none): nothing was written. */
export class PeopleStorageError extends Error {
  readonly code: PeopleStorageErrorCode;

  constructor(code: PeopleStorageErrorCode, message: string) {
    super(message);
    this.name = 'PeopleStorageError';
    this.code = code;
  }
}

async function upsertUser(
  db: Executor,
  tenantId: string,
  person: PersonFields,
  storeEmail: boolean,
  now: Date,
): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      tenant_id: tenantId,
      issuer: person.issuer,
      sub: person.sub,
      name: person.name ?? null,
      given_name: person.givenName ?? null,
      family_name: person.familyName ?? null,
      email: storeEmail ? (person.email ?? null) : null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'issuer', 'sub']).doUpdateSet({
        // A platform may omit names (privacy settings): keep what we knew rather than erase it.
        name: sql`coalesce(excluded.name, users.name)`,
        given_name: sql`coalesce(excluded.given_name, users.given_name)`,
        family_name: sql`coalesce(excluded.family_name, users.family_name)`,
        // Turning email off clears it at the next update.
        email: storeEmail ? sql`coalesce(excluded.email, users.email)` : null,
        updated_at: now,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
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

export function createPeopleRepository(db: Kysely<Database>, now: () => Date) {
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
      const time = now();
      const context = launch.context;
      const link = context === undefined ? undefined : launch.resourceLink;
      // The launch's values, each cast so PostgreSQL knows its type wherever it appears. Written
      // inline (not as a CTE of parameters): the planner then sees constants, which plans faster.
      const v = {
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
      // The marker: this SQL text never varies (every value is a parameter), so it may be prepared
      // once per connection; planning this statement costs PostgreSQL more than running it.
      const result = await sql<AcceptRow>`/* prepared */
        WITH
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
          WHERE dr.tenant_id = g_all.tenant_id AND dr.person_hash = ${input.personHash}::text
        ),
        g AS (
          SELECT * FROM g_all WHERE NOT EXISTS (SELECT 1 FROM x)
        ),
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
        ),
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
        ),
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
      `.execute(db);
      const row = result.rows[0];
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
    },

    async upsertUser(tenantId: string, person: PersonFields, storeEmail: boolean): Promise<User> {
      return upsertUser(db, tenantId, person, storeEmail, now());
    },

    async findUser(tenantId: string, issuer: string, sub: string): Promise<User | undefined> {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('issuer', '=', issuer)
        .where('sub', '=', sub)
        .executeTakeFirst();
      return row === undefined ? undefined : toUser(row);
    },

    async findUserById(tenantId: string, userId: string): Promise<User | undefined> {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', userId)
        .executeTakeFirst();
      return row === undefined ? undefined : toUser(row);
    },

    async findCourseById(tenantId: string, courseId: string): Promise<Course | undefined> {
      const row = await db
        .selectFrom('courses')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', courseId)
        .executeTakeFirst();
      return row === undefined ? undefined : toCourse(row);
    },

    async listCourses(tenantId: string): Promise<Course[]> {
      const rows = await db
        .selectFrom('courses')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('context_id')
        .execute();
      return rows.map(toCourse);
    },

    /**
     * The course roster for display: each enrolled person's name and the role that matters for
     * the product (teacher, student, …), active people first, then by family name.
     */
    async listRoster(tenantId: string, courseId: string): Promise<RosterEntry[]> {
      const rows = await db
        .selectFrom('enrollments as e')
        .innerJoin('users as u', (join) =>
          join.onRef('u.id', '=', 'e.user_id').onRef('u.tenant_id', '=', 'e.tenant_id'),
        )
        .select(['u.id', 'u.name', 'u.family_name', 'u.given_name', 'e.roles', 'e.status'])
        .where('e.tenant_id', '=', tenantId)
        .where('e.course_id', '=', courseId)
        .execute();
      return rows
        .map((row) => ({
          userId: row.id,
          name: row.name ?? undefined,
          sortKey:
            `${row.family_name ?? ''} ${row.given_name ?? ''} ${row.name ?? ''}`.toLowerCase(),
          role: lmsRole(row.roles),
          active: row.status === 'active',
          testUser: isTestUser(row.roles),
        }))
        .sort((a, b) => Number(b.active) - Number(a.active) || a.sortKey.localeCompare(b.sortKey))
        .map(({ sortKey: _sortKey, ...entry }) => entry);
    },

    async listEnrollments(tenantId: string, courseId: string): Promise<Enrollment[]> {
      const rows = await db
        .selectFrom('enrollments')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('course_id', '=', courseId)
        .orderBy('user_id')
        .execute();
      return rows.map((row) => ({
        courseId: row.course_id,
        userId: row.user_id,
        roles: row.roles,
        status: row.status,
        source: row.source,
      }));
    },

    async listResourceLinks(tenantId: string, courseId: string): Promise<ResourceLink[]> {
      const rows = await db
        .selectFrom('resource_links')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('course_id', '=', courseId)
        .orderBy('resource_link_id')
        .execute();
      return rows.map(toResourceLink);
    },

    /**
     * Applies a roster (NRPS members, already normalized) to a course in one transaction: members
     * are upserted (Active → active, Inactive/Deleted → inactive), and enrollments of people missing
     * from the roster are marked inactive, never deleted (their evidence stays attributable).
     */
    async syncRoster(input: {
      tenantId: string;
      courseId: string;
      issuer: string;
      members: readonly Member[];
      storeEmail: boolean;
    }): Promise<RosterSyncResult> {
      const time = now();
      return db.transaction().execute(async (tx) => {
        const course = await tx
          .selectFrom('courses')
          .select('id')
          .where('tenant_id', '=', input.tenantId)
          .where('id', '=', input.courseId)
          .executeTakeFirst();
        if (course === undefined) {
          throw new PeopleStorageError('course_not_found', 'course not found for this tenant');
        }
        const seen: string[] = [];
        for (const member of input.members) {
          const user = await upsertUser(
            tx,
            input.tenantId,
            {
              issuer: input.issuer,
              sub: member.userId,
              name: member.name,
              givenName: member.givenName,
              familyName: member.familyName,
              email: member.email,
            },
            input.storeEmail,
            time,
          );
          seen.push(user.id);
          await upsertEnrollment(
            tx,
            input.tenantId,
            {
              courseId: input.courseId,
              userId: user.id,
              roles: member.roles,
              status: member.status === 'Active' ? 'active' : 'inactive',
              source: 'roster',
              replaceSource: true,
            },
            time,
          );
        }
        let missing = tx
          .updateTable('enrollments')
          .set({ status: 'inactive', updated_at: time })
          .where('tenant_id', '=', input.tenantId)
          .where('course_id', '=', input.courseId)
          .where('status', '=', 'active');
        if (seen.length > 0) missing = missing.where('user_id', 'not in', seen);
        const result = await missing.executeTakeFirst();
        return { upserted: seen.length, markedInactive: Number(result.numUpdatedRows) };
      });
    },
  };
}

export type PeopleRepository = ReturnType<typeof createPeopleRepository>;
