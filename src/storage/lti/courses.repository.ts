import type { Kysely } from 'kysely';
import { isTestUser, lmsRole } from '../../lms/lti/roles.ts';
import type { LmsRole } from '../../lms/roles.ts';
import type { Member } from '../../lti/nrps.ts';
import { upsertEnrollment } from '../people-rows.ts';
import type { Database } from '../schema.ts';
import { PeopleStorageError, upsertUser } from './people.repository.ts';
import type { EnrollmentSource, EnrollmentStatus } from './schema.ts';

/**
 * Courses, their enrollments, rosters and resource links: district data. Every function takes the
 * tenant and every statement filters by it (STYLE: tenancy), so a wrong id from another district
 * finds nothing rather than leaking.
 */

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

export interface RosterEntry {
  readonly userId: string;
  readonly name: string | undefined;
  /** The role that matters in this course, by the LMS port's one rule. */
  readonly role: LmsRole;
  readonly active: boolean;
  /** The platform's test user (Canvas Student View: LTI system role TestUser). */
  readonly testUser: boolean;
}

export interface RosterSyncResult {
  readonly upserted: number;
  readonly markedInactive: number;
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

export const toCourse = (row: CourseRow): Course => ({
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

export function createCourseRepository(db: Kysely<Database>, now: () => Date) {
  return {
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

export type CourseRepository = ReturnType<typeof createCourseRepository>;
