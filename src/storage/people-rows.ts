import { sql, type Kysely } from 'kysely';
import type { EnrollmentSource, EnrollmentStatus } from './lti/schema.ts';
import type { Database } from './schema.ts';

/**
 * The course and enrollment upserts that both an LTI launch (lti/people.repository.ts) and a
 * Google Classroom sign-in (classroom/classroom.repository.ts) make, so the two keep one set of
 * rules. Both statements filter by tenant (STYLE: tenancy). The LTI launch's single-statement path
 * (`acceptLaunch`, a named prepared statement) keeps its own SQL and is not built here.
 */

/** What a launch knows of its course. */
export interface CourseFields {
  readonly deploymentRowId: string;
  readonly contextId: string;
  readonly title: string | undefined;
  readonly label: string | undefined;
  readonly agsLineItemsUrl: string | undefined;
  readonly nrpsMembershipsUrl: string | undefined;
  /**
   * The AGS scopes and NRPS versions the platform granted. Undefined when the source has no such
   * notion (Google Classroom): the row is created with empty lists and an existing row keeps its own.
   */
  readonly agsScopes: readonly string[] | undefined;
  readonly nrpsServiceVersions: readonly string[] | undefined;
}

/**
 * The upsert of a course row keyed by `(deployment, context)`, left for the caller to choose what
 * it returns. A key that belongs to another tenant is not updated, so it returns no row.
 */
export function upsertCourseRow(
  db: Kysely<Database>,
  tenantId: string,
  course: CourseFields,
  time: Date,
) {
  return db
    .insertInto('courses')
    .values({
      tenant_id: tenantId,
      deployment_row_id: course.deploymentRowId,
      context_id: course.contextId,
      title: course.title ?? null,
      label: course.label ?? null,
      ags_line_items_url: course.agsLineItemsUrl ?? null,
      ags_scopes: [...(course.agsScopes ?? [])],
      nrps_memberships_url: course.nrpsMembershipsUrl ?? null,
      nrps_service_versions: [...(course.nrpsServiceVersions ?? [])],
      updated_at: time,
    })
    .onConflict((oc) =>
      oc
        .columns(['deployment_row_id', 'context_id'])
        .doUpdateSet({
          // A platform may omit the title or label: keep what we knew rather than erase it.
          title: sql`coalesce(excluded.title, courses.title)`,
          label: sql`coalesce(excluded.label, courses.label)`,
          // The latest launch is the platform's current word on its service endpoints.
          ags_line_items_url: sql`excluded.ags_line_items_url`,
          ...(course.agsScopes === undefined ? {} : { ags_scopes: sql`excluded.ags_scopes` }),
          nrps_memberships_url: sql`excluded.nrps_memberships_url`,
          ...(course.nrpsServiceVersions === undefined
            ? {}
            : { nrps_service_versions: sql`excluded.nrps_service_versions` }),
          updated_at: time,
        })
        .where('courses.tenant_id', '=', tenantId),
    );
}

export interface EnrollmentFields {
  readonly courseId: string;
  readonly userId: string;
  readonly roles: readonly string[];
  readonly status: EnrollmentStatus;
  readonly source: EnrollmentSource;
  /**
   * Whether an existing enrollment takes this source. An LTI launch or roster sync relabels it;
   * a Classroom sign-in has always left the source an enrollment already had.
   */
  readonly replaceSource: boolean;
}

/** Creates or updates one enrollment; one in another tenant is left untouched. */
export async function upsertEnrollment(
  db: Kysely<Database>,
  tenantId: string,
  enrollment: EnrollmentFields,
  time: Date,
): Promise<void> {
  const { roles, status, source } = enrollment;
  await db
    .insertInto('enrollments')
    .values({
      tenant_id: tenantId,
      course_id: enrollment.courseId,
      user_id: enrollment.userId,
      roles: [...roles],
      status,
      source,
      updated_at: time,
    })
    .onConflict((oc) =>
      oc
        .columns(['course_id', 'user_id'])
        .doUpdateSet({
          roles: [...roles],
          status,
          ...(enrollment.replaceSource ? { source } : {}),
          updated_at: time,
        })
        .where('enrollments.tenant_id', '=', tenantId),
    )
    .execute();
}
