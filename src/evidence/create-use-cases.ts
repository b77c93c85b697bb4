import type { Kysely, Transaction } from 'kysely';
import type { AreaDeps } from '../area-deps.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';
import { loadCoursePolicy, loadStoredPolicies } from '../policy/store.ts';
import { createCourseContextRepository } from '../storage/mastery/course-context.repository.ts';
import { createEvidenceRepository } from '../storage/mastery/evidence.repository.ts';
import { createPolicyRepository } from '../storage/mastery/policy.repository.ts';
import { createMasteryResultsRepository } from '../storage/mastery/results.repository.ts';
import { createMasteryViewsRepository } from '../storage/mastery/views.repository.ts';
import type { Database } from '../storage/schema.ts';
import { isUuid } from '../ids.ts';
import { linkMentor } from './mentors.ts';
import { changeOverride, type OverrideTarget, type OverrideValue } from './overrides.ts';
import {
  recordEvidenceIn,
  writeEvidence,
  type RecordEvidenceInput,
  type RecordEvidenceResult,
} from './record.ts';
import {
  recomputeCourse,
  resumeInterruptedRecomputes,
  type RecomputeDeps,
} from './recompute-jobs.ts';
import { RECOMPUTE_JOB_KIND, recomputeJobHandler } from './recompute.ts';
import { savePolicy } from './save-policy.ts';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * The evidence area's use cases: recording evidence (teacher grid, LMS results, CSV), policies,
 * overrides, mentor links and recomputation. Every write of evidence or an override, the mastery
 * results it changes and the desired grades (grade passback) commit in ONE transaction.
 */
export function createEvidenceUseCases(deps: Pick<AreaDeps, 'db' | 'now' | 'logger' | 'jobs'>) {
  const { db, now } = deps;
  deps.jobs.register(RECOMPUTE_JOB_KIND, recomputeJobHandler({ db, now, logger: deps.logger }));
  const jobs: RecomputeDeps = { db, now, logger: deps.logger, jobs: deps.jobs };
  return {
    /** `recordEvidenceIn` in a transaction of its own. */
    recordEvidence: (input: RecordEvidenceInput): Promise<RecordEvidenceResult> =>
      db.transaction().execute((tx) => recordEvidenceIn(tx, input, now)),
    /** The same as `recordEvidence`, inside a caller's transaction (imports, tests). */
    recordEvidenceIn: (tx: Db, input: RecordEvidenceInput): Promise<RecordEvidenceResult> =>
      recordEvidenceIn(tx, input, now),
    /**
     * `recordEvidenceIn` WITHOUT the desired-grade update: for benchmarks that time this area's
     * share of a write apart from grade passback. The app always uses `recordEvidence(In)`.
     */
    writeEvidenceWithoutGradesIn: (tx: Db, input: RecordEvidenceInput) =>
      writeEvidence(tx, input, now),
    loadCoursePolicy: (tenantId: string, courseId: string | null): Promise<CoursePolicy> =>
      loadCoursePolicy(db, tenantId, courseId),
    /** The stored district and course policy parts (for the policy pages). */
    storedPolicies: (tenantId: string, courseId: string | null) =>
      loadStoredPolicies(db, tenantId, courseId),
    savePolicy: (input: Parameters<typeof savePolicy>[1]) => savePolicy(jobs, input),
    policyChanges: (tenantId: string, courseId: string | null) =>
      createPolicyRepository(db, now).changes(tenantId, courseId),
    setOverride: (input: OverrideTarget & OverrideValue) =>
      changeOverride(
        { db, now },
        { ...input, set: { levelId: input.levelId, value: input.value, reason: input.reason } },
      ),
    clearOverride: (input: OverrideTarget) => changeOverride({ db, now }, input),
    recomputeCourse: (input: Parameters<typeof recomputeCourse>[1]) => recomputeCourse(jobs, input),
    /** Reruns recomputations left unfinished with no job in the runner (at start-up). */
    resumeInterruptedJobs: (): Promise<number> => resumeInterruptedRecomputes(jobs),
    job: (tenantId: string, jobId: string) =>
      createPolicyRepository(db, now).findJob(tenantId, jobId),
    latestJob: (tenantId: string, courseId: string | null) =>
      createPolicyRepository(db, now).latestJob(tenantId, courseId),
    /** One student's current evidence in a course (newest first, with assignment titles). */
    evidenceForStudent: (tenantId: string, courseId: string, studentId: string) =>
      isUuid(studentId)
        ? createEvidenceRepository(db, now).listForStudent(tenantId, courseId, studentId)
        : Promise.resolve([]),
    /** An evidence record (current state) with its prior versions, oldest first. */
    historyOf: async (tenantId: string, evidenceId: string) => {
      if (!isUuid(evidenceId)) return undefined;
      const repo = createEvidenceRepository(db, now);
      const current = await repo.findById(tenantId, evidenceId);
      if (current === undefined) return undefined;
      return { current, versions: await repo.history(tenantId, evidenceId) };
    },
    /** The stored result of one cell (override page), if any. */
    currentResult: (tenantId: string, courseId: string, studentId: string, itemId: string) =>
      isUuid(studentId) && isUuid(itemId)
        ? createMasteryResultsRepository(db, now).findResult(tenantId, courseId, studentId, itemId)
        : Promise.resolve(undefined),
    /** The course's learners and assignments with their aligned standards (entry grid, imports). */
    courseContext: createCourseContextRepository(db),
    linkMentor: (input: Parameters<typeof linkMentor>[1]) => linkMentor({ db, now }, input),
    /** The students a mentor is linked to in a course (views: mentor may see only these). */
    mentorStudentIds: (tenantId: string, courseId: string, mentorId: string) =>
      createMasteryViewsRepository(db).mentorStudentIds(tenantId, courseId, mentorId),
  };
}

export type EvidenceUseCases = ReturnType<typeof createEvidenceUseCases>;
