import type { Kysely, Transaction } from 'kysely';
import type { AreaDeps } from '../area-deps.ts';
import { findLevel, isOnScale, MasteryError } from '../mastery/index.ts';
import { updateDesiredGrades } from '../passback/desired-grades.ts';
import {
  createCourseContextRepository,
  type AssignmentWithStandards,
} from '../storage/mastery/course-context.repository.ts';
import {
  createEvidenceRepository,
  evidenceUnchanged,
  type EvidenceFields,
  type EvidenceRow,
} from '../storage/mastery/evidence.repository.ts';
import { createPolicyRepository, type RecomputeJob } from '../storage/mastery/policy.repository.ts';
import { createMasteryResultsRepository } from '../storage/mastery/results.repository.ts';
import type { EvidenceSource } from '../storage/mastery/schema.ts';
import { createMasteryViewsRepository } from '../storage/mastery/views.repository.ts';
import type { Database } from '../storage/schema.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';
import { pointsToScale } from './points.ts';
import { resolvePolicy } from '../policy/resolve.ts';
import {
  checkPolicyChange,
  loadCoursePolicy,
  loadStoredPolicies,
  storedPoliciesOf,
} from '../policy/store.ts';
import { PolicyError, type StoredPolicy } from '../policy/stored-policy.ts';
import { recomputeCells } from './recompute.ts';
import { isUuid } from '../ids.ts';

type Db = Kysely<Database> | Transaction<Database>;

/** One cell of evidence as a caller gives it. Dates default as documented on `recordEvidence`. */
export interface EvidenceEntry {
  readonly studentId: string;
  readonly itemId: string;
  readonly assignmentId?: string | undefined;
  /** On the proficiency scale. `null`/absent with no points, not excused, no comment: withdraw. */
  readonly score?: number | null | undefined;
  readonly points?: number | undefined;
  readonly pointsPossible?: number | undefined;
  readonly excused?: boolean | undefined;
  readonly comment?: string | undefined;
  readonly assessedAt?: Date | undefined;
  readonly dueAt?: Date | undefined;
  readonly gradedAt?: Date | undefined;
  /** The student's submission time, where the source knows it (Canvas orders by it). */
  readonly submittedAt?: Date | undefined;
}

export interface RecordEvidenceInput {
  readonly tenantId: string;
  readonly courseId: string;
  /** Opaque id of who recorded it (a user id, "csv-import:<user id>"), never a name. */
  readonly actor: string;
  readonly source: EvidenceSource;
  readonly entries: readonly EvidenceEntry[];
}

export interface RecordEvidenceResult {
  readonly saved: number;
  readonly unchanged: number;
  readonly changedStudents: readonly string[];
}

/** What is wrong with one entry: its index in `entries`, the field, words for people. */
export interface EntryProblem {
  readonly index: number;
  readonly field: 'studentId' | 'itemId' | 'assignmentId' | 'score' | 'points' | 'comment';
  readonly message: string;
}

export type EvidenceErrorCode =
  'course_not_found' | 'invalid_entries' | 'invalid_override' | 'invalid_policy' | 'not_found';

export class EvidenceError extends Error {
  override readonly name = 'EvidenceError';
  readonly code: EvidenceErrorCode;
  readonly problems: readonly EntryProblem[];

  constructor(
    code: EvidenceErrorCode,
    message: string,
    problems: readonly EntryProblem[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.problems = problems;
  }
}

/** Students per transaction of a full recomputation (each batch also updates desired grades). */
export const RECOMPUTE_BATCH = 100;

const MAX_COMMENT = 5000;

/** A score a teacher reads: 3 → "3", 2.5 → "2.5". */
const shown = (n: number): string => String(Math.round(n * 10_000) / 10_000);

/**
 * The evidence area: recording evidence (teacher grid, LMS results, CSV), policies, overrides and
 * recomputation. Every write of evidence or an override, the mastery results it changes and the
 * desired grades (grade passback) commit in ONE transaction.
 */
export function createMasteryServices(deps: AreaDeps) {
  const { db, now } = deps;

  async function requireCourse(tx: Db, tenantId: string, courseId: string): Promise<void> {
    if (!(await createCourseContextRepository(tx).courseExists(tenantId, courseId))) {
      throw new EvidenceError('course_not_found', 'This course is not part of this district.');
    }
  }

  /**
   * Validates every entry (all problems at once), converts points to the scale, writes what
   * changed (history kept), recomputes the touched cells and their roll-ups, and updates desired
   * grades, all in one transaction. Nothing is written when any entry is invalid.
   *
   * Defaults: `assessedAt` = the stored one, else now; `dueAt` = the stored one, else the
   * assignment's due date; `gradedAt` = the stored one, else now when scored.
   */
  async function recordEvidence(input: RecordEvidenceInput): Promise<RecordEvidenceResult> {
    return db.transaction().execute((tx) => recordIn(tx, input));
  }

  async function recordIn(tx: Db, input: RecordEvidenceInput): Promise<RecordEvidenceResult> {
    const result = await writeEvidence(tx, input);
    if (result.changedStudents.length > 0) {
      await updateDesiredGrades(
        tx,
        {
          tenantId: input.tenantId,
          courseId: input.courseId,
          studentIds: result.changedStudents,
          policy: result.policy,
        },
        now(),
      );
    }
    return {
      saved: result.saved,
      unchanged: result.unchanged,
      changedStudents: result.changedStudents,
    };
  }

  /**
   * `recordIn` less the desired grades: validate, write, recompute (the benchmark times this
   * area's share with it). Round trips: one read of everything to check (course, policy,
   * learners, assignments, standards, the cells, locked), one statement per changed cell, one
   * read and one write for the recomputation.
   */
  async function writeEvidence(
    tx: Db,
    input: RecordEvidenceInput,
  ): Promise<RecordEvidenceResult & { policy: CoursePolicy }> {
    const { tenantId, courseId } = input;
    const studentIds = [...new Set(input.entries.map((entry) => entry.studentId))];
    const assignmentIds = [
      ...new Set(
        input.entries.flatMap((entry) =>
          entry.assignmentId === undefined ? [] : [entry.assignmentId],
        ),
      ),
    ];
    const freeItemIds = [
      ...new Set(input.entries.filter((e) => e.assignmentId === undefined).map((e) => e.itemId)),
    ];
    const context = await createCourseContextRepository(tx).writeContext(tenantId, courseId, {
      studentIds,
      assignmentIds,
      freeItemIds,
    });
    if (!context.courseExists) {
      throw new EvidenceError('course_not_found', 'This course is not part of this district.');
    }
    const stored = storedPoliciesOf(context.policies);
    const policy = resolvePolicy(stored.district ?? {}, stored.course ?? {});
    const { scale } = policy;
    const learnerIds = context.learnerIds;
    const freeItems = context.existingItems;
    const assignmentById = new Map(context.assignments.map((a) => [a.id, a]));

    const problems: EntryProblem[] = [];
    const prepared: {
      entry: EvidenceEntry;
      assignment: AssignmentWithStandards | undefined;
      score: number | null;
      points: number | null;
      pointsPossible: number | null;
      excused: boolean;
      comment: string | null | undefined;
    }[] = [];
    input.entries.forEach((entry, index) => {
      const problem = (field: EntryProblem['field'], message: string) =>
        problems.push({ index, field, message });
      const before = problems.length;
      if (!learnerIds.has(entry.studentId)) {
        problem('studentId', 'This student is not enrolled in this course.');
      }
      let assignment: AssignmentWithStandards | undefined;
      let pointsPossible: number | null = null;
      if (entry.assignmentId !== undefined) {
        assignment = assignmentById.get(entry.assignmentId);
        if (assignment === undefined) {
          problem('assignmentId', 'This assignment is not part of this course.');
        } else {
          const aligned = assignment.standards.find((s) => s.itemId === entry.itemId);
          if (aligned === undefined) {
            problem('itemId', `This standard is not aligned to “${assignment.title}”.`);
          } else {
            pointsPossible = aligned.points ?? assignment.scoreMaximum;
          }
        }
      } else if (!freeItems.has(entry.itemId)) {
        problem('itemId', 'This standard is not one of the district’s standards.');
      }
      let score = entry.score ?? null;
      let points: number | null = null;
      if (entry.points !== undefined) {
        const possible = entry.pointsPossible ?? pointsPossible;
        if (!Number.isFinite(entry.points) || entry.points < 0) {
          problem('points', 'Points must be a number of 0 or more.');
        } else if (possible === null || !(possible > 0)) {
          problem(
            'points',
            'Points cannot be converted: neither the entry nor the alignment says how many points are possible.',
          );
        } else {
          points = entry.points;
          pointsPossible = possible;
          score = pointsToScale(entry.points, possible, scale);
        }
      } else {
        pointsPossible = null;
      }
      if (score !== null && !isOnScale(score, scale)) {
        problem(
          'score',
          `${shown(score)} is not on the scale: enter a number from ${shown(scale.min)} to ${shown(scale.max)}.`,
        );
      }
      // undefined: keep the stored comment (the grid does not show comments).
      const comment =
        entry.comment === undefined
          ? undefined
          : entry.comment.trim() === ''
            ? null
            : entry.comment;
      if (comment !== undefined && comment !== null && comment.length > MAX_COMMENT) {
        problem('comment', `A comment can hold at most ${MAX_COMMENT} characters.`);
      }
      if (problems.length > before) return;
      const excused = entry.excused ?? false;
      prepared.push({
        entry,
        assignment,
        score,
        points,
        pointsPossible: points === null ? null : pointsPossible,
        excused,
        comment,
      });
    });
    if (problems.length > 0) {
      throw new EvidenceError(
        'invalid_entries',
        `${problems.length === 1 ? 'One entry needs' : `${problems.length} entries need`} correcting; nothing was saved.`,
        problems,
      );
    }

    const evidence = createEvidenceRepository(tx, now);
    const existing = new Map<string, EvidenceRow>();
    for (const row of context.cells) {
      existing.set(`${row.assignment_id ?? ''}|${row.student_id}|${row.item_id}`, row);
    }

    let saved = 0;
    let unchanged = 0;
    const changedStudents = new Set<string>();
    const changedItems = new Set<string>();
    const at = now();
    for (const prepare of prepared) {
      const { entry, assignment } = prepare;
      let prior =
        assignment === undefined
          ? undefined
          : existing.get(`${assignment.id}|${entry.studentId}|${entry.itemId}`);
      const complete = (row: EvidenceRow | undefined): EvidenceFields => {
        const comment = prepare.comment === undefined ? (row?.comment ?? null) : prepare.comment;
        // A score equal to the stored one, given without points, keeps the stored points (an
        // LMS import's raw points survive a grid save of the same value).
        const keepPoints =
          prepare.points === null && row !== undefined && row.score === prepare.score;
        const points = keepPoints ? row.points : prepare.points;
        const score = prepare.score;
        return {
          score,
          points,
          pointsPossible: keepPoints ? row.points_possible : prepare.pointsPossible,
          excused: prepare.excused,
          comment,
          deleted: score === null && points === null && !prepare.excused && comment === null,
          assessedAt: entry.assessedAt ?? row?.assessed_at ?? at,
          dueAt: entry.dueAt ?? row?.due_at ?? assignment?.dueAt ?? null,
          gradedAt: entry.gradedAt ?? row?.graded_at ?? (score === null ? null : at),
          submittedAt: entry.submittedAt ?? row?.submitted_at ?? null,
        };
      };
      if (prior === undefined) {
        if (complete(undefined).deleted) continue; // Clearing a cell that never held anything.
        const inserted = await evidence.insert({
          ...complete(undefined),
          tenantId,
          courseId,
          studentId: entry.studentId,
          itemId: entry.itemId,
          assignmentId: assignment?.id ?? null,
          source: input.source,
          recordedBy: input.actor,
        });
        if (inserted !== undefined) {
          saved += 1;
          changedStudents.add(entry.studentId);
          changedItems.add(entry.itemId);
          continue;
        }
        // Another request inserted this cell a moment ago: update it like any existing one.
        const raced = await evidence.findAssignmentCells(tenantId, assignment?.id ?? '', [
          entry.studentId,
        ]);
        prior = raced.find((row) => row.item_id === entry.itemId);
        if (prior === undefined) throw new Error('evidence cell vanished during insert');
      }
      const next = complete(prior);
      if (evidenceUnchanged(prior, next)) {
        unchanged += 1;
        continue;
      }
      await evidence.update(prior, next, input.source, input.actor);
      saved += 1;
      changedStudents.add(entry.studentId);
      changedItems.add(entry.itemId);
    }

    if (changedStudents.size > 0) {
      await recomputeCells(
        tx,
        policy,
        { tenantId, courseId, studentIds: [...changedStudents], itemIds: [...changedItems] },
        now,
      );
    }
    return { saved, unchanged, changedStudents: [...changedStudents], policy };
  }

  async function changeOverride(input: {
    tenantId: string;
    courseId: string;
    studentId: string;
    itemId: string;
    actor: string;
    set?: { levelId?: string | undefined; value?: number | undefined; reason: string } | undefined;
  }): Promise<void> {
    const { tenantId, courseId, studentId, itemId } = input;
    await db.transaction().execute(async (tx) => {
      await requireCourse(tx, tenantId, courseId);
      const context = createCourseContextRepository(tx);
      const [learners, item] = await Promise.all([
        context.learners(tenantId, courseId, [studentId]),
        context.item(tenantId, itemId),
      ]);
      if (learners.length === 0 || item === undefined) {
        throw new EvidenceError(
          'not_found',
          'This student or standard is not part of this course.',
        );
      }
      const policy = await loadCoursePolicy(tx, tenantId, courseId);
      const results = createMasteryResultsRepository(tx, now);
      if (input.set === undefined) {
        await results.clearOverride(tenantId, courseId, studentId, itemId);
      } else {
        const reason = input.set.reason.trim();
        if (reason === '') {
          throw new EvidenceError('invalid_override', 'Give a reason for the override.');
        }
        if (reason.length > 2000) {
          throw new EvidenceError('invalid_override', 'A reason can hold at most 2000 characters.');
        }
        let value: number;
        try {
          if (input.set.levelId !== undefined) {
            value = findLevel(input.set.levelId, policy.scale).value;
          } else if (input.set.value !== undefined && isOnScale(input.set.value, policy.scale)) {
            value = input.set.value;
          } else {
            throw new EvidenceError(
              'invalid_override',
              `Choose a level, or a value from ${shown(policy.scale.min)} to ${shown(policy.scale.max)}.`,
            );
          }
        } catch (error) {
          if (error instanceof MasteryError) {
            throw new EvidenceError('invalid_override', 'Choose one of the scale’s levels.', [], {
              cause: error,
            });
          }
          throw error;
        }
        await results.setOverride({
          tenantId,
          courseId,
          studentId,
          itemId,
          value,
          reason,
          setBy: input.actor,
        });
      }
      await recomputeCells(
        tx,
        policy,
        { tenantId, courseId, studentIds: [studentId], itemIds: [itemId] },
        now,
      );
      await updateDesiredGrades(tx, { tenantId, courseId, studentIds: [studentId], policy }, now());
    });
  }

  /** Runs a job's batches; each batch is its own transaction (results + desired grades + progress). */
  async function runJob(job: RecomputeJob): Promise<void> {
    const policies = createPolicyRepository(db, now);
    try {
      const courseIds =
        job.courseId === null ? await policies.courseIds(job.tenantId) : [job.courseId];
      await policies.startJob(
        job.tenantId,
        job.id,
        await policies.studentCount(job.tenantId, job.courseId),
      );
      for (const courseId of courseIds) {
        const students = await createMasteryResultsRepository(db, now).studentsToRecompute(
          job.tenantId,
          courseId,
        );
        for (let start = 0; start < students.length; start += RECOMPUTE_BATCH) {
          const batch = students.slice(start, start + RECOMPUTE_BATCH);
          await db.transaction().execute(async (tx) => {
            const policy = await loadCoursePolicy(tx, job.tenantId, courseId);
            await recomputeCells(
              tx,
              policy,
              { tenantId: job.tenantId, courseId, studentIds: batch },
              now,
            );
            await updateDesiredGrades(
              tx,
              { tenantId: job.tenantId, courseId, studentIds: batch, policy },
              now(),
            );
            await createPolicyRepository(tx, now).addProgress(job.tenantId, job.id, batch.length);
          });
        }
      }
      await policies.finishJob(job.tenantId, job.id, null);
    } catch (error) {
      // The detail (database or internal text) goes to the operators' log; people read what to do.
      deps.logger?.error(
        { err: error, tenantId: job.tenantId, courseId: job.courseId, jobId: job.id },
        'mastery recompute failed',
      );
      await policies.finishJob(
        job.tenantId,
        job.id,
        `The recalculation stopped because of an unexpected error (reference ${job.id}). The stored evidence is unchanged. Save the policy again to retry; if it fails again, tell your district administrator the reference.`,
      );
    }
  }

  /**
   * Queues a recomputation of one course (or, with courseId null, every course of the district)
   * from the stored evidence and starts it in the background. `finished` settles when it is done
   * (it never rejects: a failure is recorded on the job).
   */
  async function recomputeCourse(input: {
    tenantId: string;
    courseId: string | null;
    reason: string;
    requestedBy: string;
  }): Promise<{ job: RecomputeJob; finished: Promise<void> }> {
    if (input.courseId !== null) await requireCourse(db, input.tenantId, input.courseId);
    const policies = createPolicyRepository(db, now);
    const job = await policies.createJob({ ...input, total: 0 });
    const finished = runJob(job);
    return { job, finished };
  }

  /**
   * Saves the district's (courseId null) or a course's policy part, after checking that it makes
   * a usable policy with the level above (and, for the district, with every course's override),
   * logs the change and starts the recomputation. `policy` null removes a course's override.
   */
  async function savePolicy(input: {
    tenantId: string;
    courseId: string | null;
    policy: unknown;
    actor: string;
  }): Promise<{ job: RecomputeJob; finished: Promise<void> }> {
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
    return recomputeCourse({
      tenantId,
      courseId,
      reason: courseId === null ? 'district policy changed' : 'course policy changed',
      requestedBy: input.actor,
    });
  }

  return {
    recordEvidence,
    /** The same as `recordEvidence`, inside a caller's transaction (imports, tests). */
    recordEvidenceIn: recordIn,
    /**
     * `recordEvidenceIn` WITHOUT the desired-grade update: for benchmarks that time this area's
     * share of a write apart from grade passback. The app always uses `recordEvidence(In)`.
     */
    writeEvidenceWithoutGradesIn: writeEvidence,
    loadCoursePolicy: (tenantId: string, courseId: string | null): Promise<CoursePolicy> =>
      loadCoursePolicy(db, tenantId, courseId),
    /** The stored district and course policy parts (for the policy pages). */
    storedPolicies: (tenantId: string, courseId: string | null) =>
      loadStoredPolicies(db, tenantId, courseId),
    savePolicy,
    policyChanges: (tenantId: string, courseId: string | null) =>
      createPolicyRepository(db, now).changes(tenantId, courseId),
    setOverride: (input: {
      tenantId: string;
      courseId: string;
      studentId: string;
      itemId: string;
      actor: string;
      levelId?: string | undefined;
      value?: number | undefined;
      reason: string;
    }) =>
      changeOverride({
        ...input,
        set: { levelId: input.levelId, value: input.value, reason: input.reason },
      }),
    clearOverride: (input: {
      tenantId: string;
      courseId: string;
      studentId: string;
      itemId: string;
      actor: string;
    }) => changeOverride(input),
    recomputeCourse,
    /**
     * Reruns recomputations a stopped process left unfinished (call once at start-up, after
     * migrations). Resolves when they are done; failures are recorded on each job.
     */
    resumeInterruptedJobs: async (): Promise<number> => {
      const jobs = await createPolicyRepository(db, now).interruptedJobs();
      for (const job of jobs) await runJob(job);
      return jobs.length;
    },
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
    /**
     * Records which students a mentor may see in a course, from the launch's
     * `https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor` (user subs of the same
     * issuer). Replaces the mentor's previous scope. The views match the subs with the district's
     * users when a page is shown, so a student the tool meets later (their own launch, a roster
     * sync) appears without the mentor launching again; no row is made for a student the tool has
     * not met. Returns how many of the named students the tool knows now.
     */
    linkMentor: async (input: {
      tenantId: string;
      courseId: string;
      mentorId: string;
      issuer: string;
      studentSubs: readonly string[];
    }): Promise<number> => {
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
    },
    /** The students a mentor is linked to in a course (views: mentor may see only these). */
    mentorStudentIds: (tenantId: string, courseId: string, mentorId: string) =>
      createMasteryViewsRepository(db).mentorStudentIds(tenantId, courseId, mentorId),
  };
}

export type MasteryServices = ReturnType<typeof createMasteryServices>;
