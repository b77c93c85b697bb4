import type { Kysely, Transaction } from 'kysely';
import { isOnScale } from '../mastery/index.ts';
import { updateDesiredGrades } from '../passback/desired-grades.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';
import { resolvePolicy } from '../policy/resolve.ts';
import { storedPoliciesOf } from '../policy/store.ts';
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
import type { EvidenceSource } from '../storage/mastery/schema.ts';
import type { Database } from '../storage/schema.ts';
import { EvidenceError, shown, type EntryProblem } from './errors.ts';
import { pointsToScale } from './points.ts';
import { recomputeCells } from './recompute.ts';

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

const MAX_COMMENT = 5000;

/** What `writeEvidence` reads in one round trip before it checks the entries. */
type WriteContext = Awaited<
  ReturnType<ReturnType<typeof createCourseContextRepository>['writeContext']>
>;

/** An entry that passed every check, converted to the scale. */
interface PreparedEntry {
  readonly entry: EvidenceEntry;
  readonly assignment: AssignmentWithStandards | undefined;
  readonly score: number | null;
  readonly points: number | null;
  readonly pointsPossible: number | null;
  readonly excused: boolean;
  /** undefined: keep the stored comment (the grid does not show comments); null: clear it. */
  readonly comment: string | null | undefined;
}

/**
 * Validates every entry, records evidence and, in the caller's transaction, the mastery results
 * and desired grades (grade passback) that follow from it. Nothing is written when any entry is
 * invalid.
 *
 * Defaults: `assessedAt` = the stored one, else now; `dueAt` = the stored one, else the
 * assignment's due date; `gradedAt` = the stored one, else now when scored.
 */
export async function recordEvidenceIn(
  tx: Db,
  input: RecordEvidenceInput,
  now: () => Date,
): Promise<RecordEvidenceResult> {
  const result = await writeEvidence(tx, input, now);
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
 * `recordEvidenceIn` less the desired grades: validate, write, recompute (the benchmark times this
 * area's share with it). Round trips: one read of everything to check (course, policy,
 * learners, assignments, standards, the cells, locked), one statement per changed cell, one
 * read and one write for the recomputation.
 */
export async function writeEvidence(
  tx: Db,
  input: RecordEvidenceInput,
  now: () => Date,
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
  const prepared = prepareEntries(input.entries, context, policy);
  const { saved, unchanged, changedStudents, changedItems } = await saveEntries(
    tx,
    input,
    context,
    prepared,
    now,
  );
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

/** Checks every entry (all problems at once) and converts points to the scale. */
function prepareEntries(
  entries: readonly EvidenceEntry[],
  context: WriteContext,
  policy: CoursePolicy,
): PreparedEntry[] {
  const { scale } = policy;
  const learnerIds = context.learnerIds;
  const freeItems = context.existingItems;
  const assignmentById = new Map(context.assignments.map((a) => [a.id, a]));

  const problems: EntryProblem[] = [];
  const prepared: PreparedEntry[] = [];
  entries.forEach((entry, index) => {
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
      entry.comment === undefined ? undefined : entry.comment.trim() === '' ? null : entry.comment;
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
  return prepared;
}

/** Writes the entries that change something (history kept); counts what was saved and unchanged. */
async function saveEntries(
  tx: Db,
  input: RecordEvidenceInput,
  context: WriteContext,
  prepared: readonly PreparedEntry[],
  now: () => Date,
) {
  const { tenantId, courseId } = input;
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
    const complete = (row: EvidenceRow | undefined): EvidenceFields =>
      completeFields(prepare, row, at);
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
  return { saved, unchanged, changedStudents, changedItems };
}

/** The stored fields of a prepared entry over the cell's current row (if any). */
function completeFields(
  prepare: PreparedEntry,
  row: EvidenceRow | undefined,
  at: Date,
): EvidenceFields {
  const { entry, assignment } = prepare;
  const comment = prepare.comment === undefined ? (row?.comment ?? null) : prepare.comment;
  // A score equal to the stored one, given without points, keeps the stored points (an
  // LMS import's raw points survive a grid save of the same value).
  const keepPoints = prepare.points === null && row !== undefined && row.score === prepare.score;
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
}
