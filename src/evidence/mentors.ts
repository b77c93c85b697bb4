import type { Kysely } from 'kysely';
import { createCourseContextRepository } from '../storage/mastery/course-context.repository.ts';
import { createPolicyRepository } from '../storage/mastery/policy.repository.ts';
import type { Database } from '../storage/schema.ts';

/**
 * Records which students a mentor may see in a course, from the launch's
 * `https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor` (user subs of the same
 * issuer). Replaces the mentor's previous scope. The views match the subs with the district's
 * users when a page is shown, so a student the tool meets later (their own launch, a roster
 * sync) appears without the mentor launching again; no row is made for a student the tool has
 * not met. Returns how many of the named students the tool knows now.
 */
export async function linkMentor(
  deps: { readonly db: Kysely<Database>; readonly now: () => Date },
  input: {
    tenantId: string;
    courseId: string;
    mentorId: string;
    issuer: string;
    studentSubs: readonly string[];
  },
): Promise<number> {
  const { db, now } = deps;
  const subs = [...new Set(input.studentSubs)].slice(0, 500);
  return db.transaction().execute(async (tx) => {
    const policies = createPolicyRepository(tx, now);
    await policies.replaceMentorScope({
      tenantId: input.tenantId,
      courseId: input.courseId,
      mentorId: input.mentorId,
      issuer: input.issuer,
      studentSubs: subs,
    });
    const users = await createCourseContextRepository(tx).usersBySub(
      input.tenantId,
      input.issuer,
      subs,
    );
    const studentIds = users.map((u) => u.id).filter((id) => id !== input.mentorId);
    await policies.replaceMentorLinks({
      tenantId: input.tenantId,
      courseId: input.courseId,
      mentorId: input.mentorId,
      studentIds,
    });
    return studentIds.length;
  });
}
