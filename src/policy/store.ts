import type { Kysely, Transaction } from 'kysely';
import {
  readCoursePolicyRows,
  readPolicyRows,
  type PolicyRow,
} from '../storage/mastery/policy.repository.ts';
import type { Database } from '../storage/schema.ts';
import type { CoursePolicy } from './course-policy.ts';
import { resolvePolicy } from './resolve.ts';
import { parseStoredPolicy, PolicyError, type StoredPolicy } from './stored-policy.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** The stored policy rows (district, and the course's when asked), parsed but not merged. */
export async function loadStoredPolicies(
  db: Db,
  tenantId: string,
  courseId: string | null,
): Promise<{ district: StoredPolicy | undefined; course: StoredPolicy | undefined }> {
  return storedPoliciesOf(await readPolicyRows(db, tenantId, courseId));
}

/** Parses policy rows read elsewhere (course_id null: the district's). */
export function storedPoliciesOf(rows: readonly PolicyRow[]): {
  district: StoredPolicy | undefined;
  course: StoredPolicy | undefined;
} {
  let district: StoredPolicy | undefined;
  let course: StoredPolicy | undefined;
  for (const row of rows) {
    const parsed = parseStoredPolicy(row.policy);
    if (row.course_id === null) district = parsed;
    else course = parsed;
  }
  return { district, course };
}

/**
 * The policy in force for a course (or, with `courseId` null, the district's): defaults, then the
 * district row, then the course row. Throws `PolicyError` when a stored row does not parse or the
 * merged policy is unusable (e.g. an n-times threshold off a newly edited scale).
 */
export async function loadCoursePolicy(
  db: Db,
  tenantId: string,
  courseId: string | null,
): Promise<CoursePolicy> {
  const { district, course } = await loadStoredPolicies(db, tenantId, courseId);
  return resolvePolicy(district ?? {}, course ?? {});
}

/**
 * Checks a submitted policy part before it is saved: it parses, and it makes a usable policy with
 * the level above (a course's part with the district's) or, for the district's part, with every
 * course's own part. Returns the parsed part (null removes a course's override); throws
 * `PolicyError` listing what is wrong.
 */
export async function checkPolicyChange(
  db: Db,
  tenantId: string,
  courseId: string | null,
  policy: unknown,
): Promise<StoredPolicy | null> {
  const parsed = policy === null ? null : parseStoredPolicy(policy);
  const stored = await loadStoredPolicies(db, tenantId, courseId);
  if (courseId !== null) {
    resolvePolicy(stored.district ?? {}, parsed ?? {});
    return parsed;
  }
  resolvePolicy(parsed ?? {});
  for (const course of await readCoursePolicyRows(db, tenantId)) {
    try {
      resolvePolicy(parsed ?? {}, parseStoredPolicy(course.policy));
    } catch (error) {
      if (error instanceof PolicyError) {
        throw new PolicyError(
          error.problems.map((p) => `a course’s own policy would no longer work: ${p}`),
          { cause: error },
        );
      }
      throw error;
    }
  }
  return parsed;
}
