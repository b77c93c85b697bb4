import { sql, type Kysely } from 'kysely';
import type { LaunchContext } from '../../lti/claims.ts';
import { lmsRole, type LmsRole } from '../../lti/lms-port.ts';
import type { Member } from '../../lti/nrps.ts';
import type { Database } from '../schema.ts';
import type { EnrollmentSource, EnrollmentStatus } from './schema.ts';

/**
 * Users, courses, enrollments and resource links: district data. Every function takes the tenant
 * and every statement filters by it (STYLE: tenancy), so a wrong id from another district finds
 * nothing rather than leaking.
 */

export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly issuer: string;
  readonly sub: string;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
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

async function upsertEnrollment(
  db: Executor,
  tenantId: string,
  courseId: string,
  userId: string,
  roles: readonly string[],
  status: EnrollmentStatus,
  source: EnrollmentSource,
  now: Date,
): Promise<void> {
  await db
    .insertInto('enrollments')
    .values({
      tenant_id: tenantId,
      course_id: courseId,
      user_id: userId,
      roles: [...roles],
      status,
      source,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .columns(['course_id', 'user_id'])
        .doUpdateSet({ roles: [...roles], status, source, updated_at: now })
        .where('enrollments.tenant_id', '=', tenantId),
    )
    .execute();
}

export function createPeopleRepository(db: Kysely<Database>, now: () => Date) {
  return {
    /**
     * Records a verified launch in one transaction: the user, the course (with its AGS/NRPS
     * endpoints for background jobs), an active enrollment and the resource link. The deployment
     * row must already be resolved to this tenant by the allow-list.
     */
    async recordLaunch(input: {
      tenantId: string;
      deploymentRowId: string;
      launch: LaunchContext;
      storeEmail: boolean;
    }): Promise<LaunchRecord> {
      const { launch, tenantId } = input;
      const time = now();
      return db.transaction().execute(async (tx) => {
        // The course row inherits the tenant; a deployment of another tenant must never be used.
        const deployment = await tx
          .selectFrom('deployments')
          .select('id')
          .where('id', '=', input.deploymentRowId)
          .where('tenant_id', '=', tenantId)
          .executeTakeFirst();
        if (deployment === undefined) {
          throw new PeopleStorageError(
            'deployment_not_in_tenant',
            'the deployment of this launch does not belong to this tenant',
          );
        }
        const user = await upsertUser(
          tx,
          tenantId,
          {
            issuer: launch.issuer,
            sub: launch.sub,
            name: launch.name,
            givenName: launch.givenName,
            familyName: launch.familyName,
            email: launch.email,
          },
          input.storeEmail,
          time,
        );
        if (launch.context === undefined)
          return { user, course: undefined, resourceLink: undefined };
        const courseRow = await tx
          .insertInto('courses')
          .values({
            tenant_id: tenantId,
            deployment_row_id: input.deploymentRowId,
            context_id: launch.context.id,
            title: launch.context.title ?? null,
            label: launch.context.label ?? null,
            ags_line_items_url: launch.ags?.lineItemsUrl ?? null,
            ags_scopes: [...(launch.ags?.scopes ?? [])],
            nrps_memberships_url: launch.nrps?.membershipsUrl ?? null,
            nrps_service_versions: [...(launch.nrps?.serviceVersions ?? [])],
            updated_at: time,
          })
          .onConflict((oc) =>
            oc
              .columns(['deployment_row_id', 'context_id'])
              .doUpdateSet({
                title: sql`coalesce(excluded.title, courses.title)`,
                label: sql`coalesce(excluded.label, courses.label)`,
                // The latest launch is the platform's current word on its service endpoints.
                ags_line_items_url: sql`excluded.ags_line_items_url`,
                ags_scopes: sql`excluded.ags_scopes`,
                nrps_memberships_url: sql`excluded.nrps_memberships_url`,
                nrps_service_versions: sql`excluded.nrps_service_versions`,
                updated_at: time,
              })
              .where('courses.tenant_id', '=', tenantId),
          )
          .returningAll()
          .executeTakeFirst();
        if (courseRow === undefined) {
          throw new PeopleStorageError(
            'deployment_not_in_tenant',
            'the course of this launch belongs to another tenant',
          );
        }
        const course = toCourse(courseRow);
        await upsertEnrollment(
          tx,
          tenantId,
          course.id,
          user.id,
          launch.roles,
          'active',
          'launch',
          time,
        );
        let resourceLink: ResourceLink | undefined;
        if (launch.resourceLink !== undefined) {
          const linkRow = await tx
            .insertInto('resource_links')
            .values({
              tenant_id: tenantId,
              course_id: course.id,
              resource_link_id: launch.resourceLink.id,
              title: launch.resourceLink.title ?? null,
              line_item_url: launch.ags?.lineItemUrl ?? null,
              created_via: 'launch',
              created_at: time,
              updated_at: time,
            })
            .onConflict((oc) =>
              oc.columns(['course_id', 'resource_link_id']).doUpdateSet({
                title: sql`coalesce(excluded.title, resource_links.title)`,
                line_item_url: sql`coalesce(excluded.line_item_url, resource_links.line_item_url)`,
                updated_at: time,
              }),
            )
            .returningAll()
            .executeTakeFirstOrThrow();
          resourceLink = {
            id: linkRow.id,
            courseId: linkRow.course_id,
            resourceLinkId: linkRow.resource_link_id,
            title: linkRow.title ?? undefined,
            lineItemUrl: linkRow.line_item_url ?? undefined,
            createdVia: linkRow.created_via,
          };
        }
        return { user, course, resourceLink };
      });
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
      return rows.map((row) => ({
        id: row.id,
        courseId: row.course_id,
        resourceLinkId: row.resource_link_id,
        title: row.title ?? undefined,
        lineItemUrl: row.line_item_url ?? undefined,
        createdVia: row.created_via,
      }));
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
            input.courseId,
            user.id,
            member.roles,
            member.status === 'Active' ? 'active' : 'inactive',
            'roster',
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
