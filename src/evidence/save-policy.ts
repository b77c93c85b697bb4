import { checkPolicyChange } from '../policy/store.ts';
import { PolicyError, type StoredPolicy } from '../policy/stored-policy.ts';
import { createPolicyRepository, type RecomputeJob } from '../storage/mastery/policy.repository.ts';
import { EvidenceError } from './errors.ts';
import { recomputeCourse, type RecomputeDeps } from './recompute-jobs.ts';

/**
 * Saves the district's (courseId null) or a course's policy part, after checking that it makes
 * a usable policy with the level above (and, for the district, with every course's override),
 * logs the change and starts the recomputation. `policy` null removes a course's override.
 * It lives with the evidence because a saved policy recomputes the stored results.
 */
export async function savePolicy(
  deps: RecomputeDeps,
  input: {
    tenantId: string;
    courseId: string | null;
    policy: unknown;
    actor: string;
  },
): Promise<{ job: RecomputeJob; finished: Promise<void> }> {
  const { db, now } = deps;
  const { tenantId, courseId } = input;
  let parsed: StoredPolicy | null;
  try {
    parsed = await checkPolicyChange(db, tenantId, courseId, input.policy);
  } catch (error) {
    if (error instanceof PolicyError) {
      throw new EvidenceError('invalid_policy', error.problems.join('; '), [], { cause: error });
    }
    throw error;
  }
  const saved = await db.transaction().execute((tx) =>
    createPolicyRepository(tx, now).save({
      tenantId,
      courseId,
      policy: parsed,
      actor: input.actor,
    }),
  );
  if (!saved)
    throw new EvidenceError('course_not_found', 'This course is not part of this district.');
  return recomputeCourse(deps, {
    tenantId,
    courseId,
    reason: courseId === null ? 'district policy changed' : 'course policy changed',
    requestedBy: input.actor,
  });
}
