import type { Kysely } from 'kysely';
import {
  assignmentResourceId,
  createCourseAssignmentRepository,
  inAssignmentTransaction,
  type Alignment,
  type AlignmentInput,
  type Assignment,
  type CourseAssignmentRepository,
} from '../storage/courses/assignments.repository.ts';

// Where the tool's own columns name their assignment: a convention of the stored rows.
export {
  ASSIGNMENT_RESOURCE_PREFIX,
  assignmentIdFromResourceId,
  assignmentResourceId,
} from '../storage/courses/assignments.repository.ts';
import type { Database } from '../storage/schema.ts';
import { AlignmentError, assignmentNotFound } from './errors.ts';
import { isUuid } from '../ids.ts';

export const MAX_ALIGNMENTS = 100;

export interface AlignmentView {
  readonly assignmentId: string;
  readonly itemId: string;
  readonly weight: number;
  readonly points: number | undefined;
  readonly rubricCriterion: string | undefined;
}

function checkAlignments(alignments: readonly AlignmentInput[]): void {
  const fields: Record<string, string> = {};
  if (alignments.length > MAX_ALIGNMENTS) {
    fields.form = `An assignment can be tagged to at most ${MAX_ALIGNMENTS} standards.`;
  }
  const seen = new Set<string>();
  for (const alignment of alignments) {
    const id = alignment.itemId;
    if (!isUuid(id)) fields.form = 'A chosen standard is not one of the district’s standards.';
    if (seen.has(id)) fields.form = 'A standard is listed twice; keep it once.';
    seen.add(id);
    if (!Number.isFinite(alignment.weight) || alignment.weight <= 0 || alignment.weight > 1000) {
      fields[`weight_${id}`] = 'Weight must be a number more than 0 and at most 1000.';
    }
    if (
      alignment.points !== undefined &&
      (!Number.isFinite(alignment.points) || alignment.points <= 0 || alignment.points > 10000)
    ) {
      fields[`points_${id}`] = 'Points must be more than 0 and at most 10000, or left empty.';
    }
    if (alignment.rubricCriterion !== undefined && alignment.rubricCriterion.length > 500) {
      fields[`rubric_${id}`] = 'Keep the rubric criterion under 500 characters.';
    }
  }
  if (Object.keys(fields).length > 0) {
    throw new AlignmentError(
      'invalid_input',
      'Some alignments could not be saved; nothing was changed.',
      {
        fields,
      },
    );
  }
}

/** What the assignment use cases are built from: explicit, so each one is a plain function. */
interface AssignmentDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly repository: CourseAssignmentRepository;
}

export interface NewTeacherAssignment {
  tenantId: string;
  courseId: string;
  title: string;
  description: string | undefined;
  scoreMaximum: number | undefined;
  actor: string;
}

export interface NewDeepLinkAssignment {
  tenantId: string;
  courseId: string;
  id: string;
  title: string;
  scoreMaximum: number | undefined;
  tag: string | undefined;
  withColumn: boolean;
  itemIds: readonly string[];
  actor: string;
}

const STANDARDS_UNAVAILABLE =
  'A chosen standard is not one of the district’s current standards (it may have been archived). Search for it again.';

function toView(alignment: Alignment): AlignmentView {
  return {
    assignmentId: alignment.assignmentId,
    itemId: alignment.itemId,
    weight: alignment.weight,
    points: alignment.points,
    rubricCriterion: alignment.rubricCriterion,
  };
}

async function requireAssignment(
  { repository }: AssignmentDeps,
  tenantId: string,
  courseId: string,
  assignmentId: string,
): Promise<Assignment> {
  const assignment = await repository.find(tenantId, courseId, assignmentId);
  if (assignment === undefined) throw assignmentNotFound();
  return assignment;
}

/** Every alignment of the course's current assignments, for evidence and mastery. */
async function alignmentsForCourse(
  { repository }: AssignmentDeps,
  tenantId: string,
  courseId: string,
  options: { readonly includeArchived?: boolean },
): Promise<AlignmentView[]> {
  const [assignments, alignments] = await Promise.all([
    repository.list(tenantId, courseId, { includeArchived: options.includeArchived ?? false }),
    repository.listAlignments(tenantId, courseId),
  ]);
  const current = new Set(assignments.map((a) => a.id));
  return alignments.filter((a) => current.has(a.assignmentId)).map(toView);
}

async function alignmentsOf(
  deps: AssignmentDeps,
  tenantId: string,
  courseId: string,
  assignmentId: string,
): Promise<AlignmentView[]> {
  await requireAssignment(deps, tenantId, courseId, assignmentId);
  return (await deps.repository.listAlignments(tenantId, courseId, assignmentId)).map(toView);
}

function createTeacherAssignment(
  { repository }: AssignmentDeps,
  input: NewTeacherAssignment,
): Promise<Assignment> {
  return repository.create({
    tenantId: input.tenantId,
    courseId: input.courseId,
    title: input.title,
    description: input.description,
    scoreMaximum: input.scoreMaximum,
    source: 'teacher',
    createdBy: input.actor,
  });
}

/**
 * The assignment behind a Deep Linking item, with its alignments, in one transaction. Its id is
 * made first so the line item can carry `resourceId: mp-assignment:<id>`; the LMS column and
 * resource link are linked later (discovery, launch).
 */
function createDeepLinkAssignment(
  { db, now }: AssignmentDeps,
  input: NewDeepLinkAssignment,
): Promise<Assignment> {
  const alignments = input.itemIds.map((itemId) => ({
    itemId,
    weight: 1,
    points: undefined,
    rubricCriterion: undefined,
  }));
  checkAlignments(alignments);
  return inAssignmentTransaction(db, now, async (tx) => {
    const active = await tx.activeItemIds(input.tenantId, input.itemIds);
    if (input.itemIds.some((id) => !active.has(id))) {
      throw new AlignmentError('standard_unavailable', STANDARDS_UNAVAILABLE);
    }
    const assignment = await tx.create({
      id: input.id,
      tenantId: input.tenantId,
      courseId: input.courseId,
      title: input.title,
      source: 'deep_link',
      resourceId: input.withColumn ? assignmentResourceId(input.id) : undefined,
      tag: input.withColumn ? input.tag : undefined,
      scoreMaximum: input.scoreMaximum,
      createdBy: input.actor,
    });
    await tx.replaceAlignments(
      input.tenantId,
      input.courseId,
      assignment.id,
      alignments,
      input.actor,
    );
    return assignment;
  });
}

/**
 * Replaces an assignment's alignments in one transaction. Newly added standards must be current
 * (not archived) standards of the district; ones already aligned may stay even if the district
 * archived them since (their evidence still counts).
 */
async function setAlignments(
  { db, now }: AssignmentDeps,
  tenantId: string,
  courseId: string,
  assignmentId: string,
  alignments: readonly AlignmentInput[],
  actor: string,
): Promise<void> {
  checkAlignments(alignments);
  await inAssignmentTransaction(db, now, async (tx) => {
    const assignment = await tx.find(tenantId, courseId, assignmentId);
    if (assignment === undefined) throw assignmentNotFound();
    const before = new Set(
      (await tx.listAlignments(tenantId, courseId, assignmentId)).map((a) => a.itemId),
    );
    const added = alignments.map((a) => a.itemId).filter((id) => !before.has(id));
    const active = await tx.activeItemIds(tenantId, added);
    if (added.some((id) => !active.has(id))) {
      throw new AlignmentError('standard_unavailable', STANDARDS_UNAVAILABLE);
    }
    await tx.replaceAlignments(tenantId, courseId, assignmentId, alignments, actor);
  });
}

/** Adds one standard with weight 1 at the end; adding one already there changes nothing. */
function addAlignment(
  { db, now }: AssignmentDeps,
  tenantId: string,
  courseId: string,
  assignmentId: string,
  itemId: string,
  actor: string,
): Promise<'added' | 'already_aligned'> {
  return inAssignmentTransaction(db, now, async (tx) => {
    const assignment = await tx.find(tenantId, courseId, assignmentId);
    if (assignment === undefined) throw assignmentNotFound();
    const current = await tx.listAlignments(tenantId, courseId, assignmentId);
    if (current.some((a) => a.itemId === itemId)) return 'already_aligned';
    if (current.length >= MAX_ALIGNMENTS) {
      throw new AlignmentError(
        'invalid_input',
        `An assignment can be tagged to at most ${MAX_ALIGNMENTS} standards.`,
      );
    }
    const active = await tx.activeItemIds(tenantId, [itemId]);
    if (!active.has(itemId)) {
      throw new AlignmentError(
        'standard_unavailable',
        'This standard is not one of the district’s current standards (it may have been archived). Search for it again.',
      );
    }
    await tx.replaceAlignments(
      tenantId,
      courseId,
      assignmentId,
      [...current, { itemId, weight: 1, points: undefined, rubricCriterion: undefined }],
      actor,
    );
    return 'added';
  });
}

function removeAlignment(
  { db, now }: AssignmentDeps,
  tenantId: string,
  courseId: string,
  assignmentId: string,
  itemId: string,
  actor: string,
): Promise<boolean> {
  return inAssignmentTransaction(db, now, async (tx) => {
    const assignment = await tx.find(tenantId, courseId, assignmentId);
    if (assignment === undefined) throw assignmentNotFound();
    const current = await tx.listAlignments(tenantId, courseId, assignmentId);
    const kept = current.filter((a) => a.itemId !== itemId);
    if (kept.length === current.length) return false;
    await tx.replaceAlignments(tenantId, courseId, assignmentId, kept, actor);
    return true;
  });
}

/** A course's assignments and their alignments to the district's standards. */
export function createAssignmentUseCases(db: Kysely<Database>, now: () => Date) {
  const repository = createCourseAssignmentRepository(db, now);
  const deps: AssignmentDeps = { db, now, repository };
  return {
    repository,

    listAssignments: (tenantId: string, courseId: string): Promise<Assignment[]> =>
      repository.list(tenantId, courseId),

    /** The course's assignment, or undefined when the id is of another course or district. */
    getAssignment: (
      tenantId: string,
      courseId: string,
      assignmentId: string,
    ): Promise<Assignment | undefined> => repository.find(tenantId, courseId, assignmentId),

    requireAssignment: (
      tenantId: string,
      courseId: string,
      assignmentId: string,
    ): Promise<Assignment> => requireAssignment(deps, tenantId, courseId, assignmentId),

    /** Every alignment of the course's current assignments, for evidence and mastery. */
    alignmentsForCourse: (
      tenantId: string,
      courseId: string,
      options: { readonly includeArchived?: boolean } = {},
    ): Promise<AlignmentView[]> => alignmentsForCourse(deps, tenantId, courseId, options),

    alignmentsOf: (
      tenantId: string,
      courseId: string,
      assignmentId: string,
    ): Promise<AlignmentView[]> => alignmentsOf(deps, tenantId, courseId, assignmentId),

    createTeacherAssignment: (input: NewTeacherAssignment): Promise<Assignment> =>
      createTeacherAssignment(deps, input),

    /** The assignment behind a Deep Linking item, with its alignments, in one transaction. */
    createDeepLinkAssignment: (input: NewDeepLinkAssignment): Promise<Assignment> =>
      createDeepLinkAssignment(deps, input),

    /** Replaces an assignment's alignments in one transaction (new standards must be current). */
    setAlignments: (
      tenantId: string,
      courseId: string,
      assignmentId: string,
      alignments: readonly AlignmentInput[],
      actor: string,
    ): Promise<void> => setAlignments(deps, tenantId, courseId, assignmentId, alignments, actor),

    /** Adds one standard with weight 1 at the end; adding one already there changes nothing. */
    addAlignment: (
      tenantId: string,
      courseId: string,
      assignmentId: string,
      itemId: string,
      actor: string,
    ): Promise<'added' | 'already_aligned'> =>
      addAlignment(deps, tenantId, courseId, assignmentId, itemId, actor),

    removeAlignment: (
      tenantId: string,
      courseId: string,
      assignmentId: string,
      itemId: string,
      actor: string,
    ): Promise<boolean> => removeAlignment(deps, tenantId, courseId, assignmentId, itemId, actor),
  };
}

export type AssignmentUseCases = ReturnType<typeof createAssignmentUseCases>;
