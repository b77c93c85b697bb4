import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../schema.ts';
import type {
  AssignmentAlignmentTable,
  AssignmentSource,
  CourseAssignmentTable,
} from './schema.ts';
import { isUuid } from '../../ids.ts';

/**
 * All SQL of a course's assignments and their alignments to standards. Every statement filters by
 * tenant AND course (or tenant alone where a use case must look across the district's courses, e.g.
 * recognising a copied course), so an id from another course or district finds nothing.
 */

export interface Assignment {
  readonly id: string;
  readonly tenantId: string;
  readonly courseId: string;
  readonly title: string;
  readonly description: string | undefined;
  readonly source: AssignmentSource;
  readonly lineItemUrl: string | undefined;
  readonly resourceLinkId: string | undefined;
  readonly resourceId: string | undefined;
  readonly tag: string | undefined;
  readonly scoreMaximum: number | undefined;
  readonly dueAt: Date | undefined;
  readonly copiedFrom: string | undefined;
  readonly archivedAt: Date | undefined;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface Alignment {
  readonly assignmentId: string;
  readonly itemId: string;
  readonly weight: number;
  readonly points: number | undefined;
  readonly rubricCriterion: string | undefined;
  readonly position: number;
}

export interface AlignmentInput {
  readonly itemId: string;
  readonly weight: number;
  readonly points: number | undefined;
  readonly rubricCriterion: string | undefined;
}

export interface NewAssignment {
  /** Set when the caller must know the id before the row exists (Deep Linking's resourceId). */
  readonly id?: string;
  readonly tenantId: string;
  readonly courseId: string;
  readonly title: string;
  readonly description?: string | undefined;
  readonly source: AssignmentSource;
  readonly lineItemUrl?: string | undefined;
  readonly resourceLinkId?: string | undefined;
  readonly resourceId?: string | undefined;
  readonly tag?: string | undefined;
  readonly scoreMaximum?: number | undefined;
  readonly copiedFrom?: string | undefined;
  readonly createdBy: string;
}

/** What an LMS says about a gradebook column; undefined leaves the stored value as it is. */
export interface LmsFields {
  readonly title?: string | undefined;
  readonly lineItemUrl?: string | undefined;
  readonly resourceLinkId?: string | undefined;
  readonly resourceId?: string | undefined;
  readonly tag?: string | undefined;
  readonly scoreMaximum?: number | undefined;
}

/**
 * The `resourceId` the tool writes on line items (and Classroom columns) it creates for an
 * assignment: `mp-assignment:<id>`, so a copied course's column still names its assignment.
 */
export const ASSIGNMENT_RESOURCE_PREFIX = 'mp-assignment:';

export function assignmentResourceId(assignmentId: string): string {
  return `${ASSIGNMENT_RESOURCE_PREFIX}${assignmentId}`;
}

/** The assignment id a line item's resourceId names, when the tool wrote it. */
export function assignmentIdFromResourceId(resourceId: string | undefined): string | undefined {
  if (resourceId?.startsWith(ASSIGNMENT_RESOURCE_PREFIX) !== true) return undefined;
  const id = resourceId.slice(ASSIGNMENT_RESOURCE_PREFIX.length);
  return isUuid(id) ? id.toLowerCase() : undefined;
}

type AssignmentRow = Selectable<CourseAssignmentTable>;
type AlignmentRow = Selectable<AssignmentAlignmentTable>;

function toAssignment(row: AssignmentRow): Assignment {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    courseId: row.course_id,
    title: row.title,
    description: row.description ?? undefined,
    source: row.source,
    lineItemUrl: row.line_item_url ?? undefined,
    resourceLinkId: row.resource_link_id ?? undefined,
    resourceId: row.resource_id ?? undefined,
    tag: row.tag ?? undefined,
    scoreMaximum: row.score_maximum ?? undefined,
    dueAt: row.due_at ?? undefined,
    copiedFrom: row.copied_from ?? undefined,
    archivedAt: row.archived_at ?? undefined,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toAlignment(row: AlignmentRow): Alignment {
  return {
    assignmentId: row.assignment_id,
    itemId: row.item_id,
    weight: row.weight,
    points: row.points ?? undefined,
    rubricCriterion: row.rubric_criterion ?? undefined,
    position: row.position,
  };
}

/**
 * The course's assignment whose `column` equals `value` (oldest first when several could). The
 * column comes first so the factory binds one finder per column.
 */
async function findInCourseBy(
  column: 'line_item_url' | 'resource_link_id' | 'copied_from',
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  value: string,
): Promise<Assignment | undefined> {
  const row = await db
    .selectFrom('course_assignments')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where(column, '=', value)
    .orderBy('created_at')
    .executeTakeFirst();
  return row === undefined ? undefined : toAssignment(row);
}

async function listAssignments(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  options: { readonly includeArchived?: boolean } = {},
): Promise<Assignment[]> {
  let query = db
    .selectFrom('course_assignments')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId);
  if (options.includeArchived !== true) query = query.where('archived_at', 'is', null);
  const rows = await query.orderBy('created_at').orderBy('title').orderBy('id').execute();
  return rows.map(toAssignment);
}

async function findAssignment(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  assignmentId: string,
): Promise<Assignment | undefined> {
  if (!isUuid(assignmentId)) return undefined;
  const row = await db
    .selectFrom('course_assignments')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('id', '=', assignmentId)
    .executeTakeFirst();
  return row === undefined ? undefined : toAssignment(row);
}

/** Across the district's courses: used only to recognise a copied course's columns. */
async function findInTenant(
  db: Kysely<Database>,
  tenantId: string,
  assignmentId: string,
): Promise<Assignment | undefined> {
  if (!isUuid(assignmentId)) return undefined;
  const row = await db
    .selectFrom('course_assignments')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', assignmentId)
    .executeTakeFirst();
  return row === undefined ? undefined : toAssignment(row);
}

/**
 * Assignments of OTHER courses of the district whose resource link id is one of `ids` (an LMS's
 * resource link history after a course copy), most recently updated first.
 */
async function findByResourceLinkIdsElsewhere(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  ids: readonly string[],
): Promise<Assignment[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('course_assignments')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('course_id', '<>', courseId)
    .where('resource_link_id', 'in', [...ids])
    .orderBy('updated_at', 'desc')
    .execute();
  return rows.map(toAssignment);
}

async function createAssignment(
  db: Kysely<Database>,
  now: () => Date,
  input: NewAssignment,
): Promise<Assignment> {
  const time = now();
  const row = await db
    .insertInto('course_assignments')
    .values({
      ...(input.id === undefined ? {} : { id: input.id }),
      tenant_id: input.tenantId,
      course_id: input.courseId,
      title: input.title,
      description: input.description ?? null,
      source: input.source,
      line_item_url: input.lineItemUrl ?? null,
      resource_link_id: input.resourceLinkId ?? null,
      resource_id: input.resourceId ?? null,
      tag: input.tag ?? null,
      score_maximum: input.scoreMaximum ?? null,
      copied_from: input.copiedFrom ?? null,
      created_by: input.createdBy,
      created_at: time,
      updated_at: time,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toAssignment(row);
}

/** Records what the LMS says about the assignment's column; returns undefined if not found. */
async function updateLmsFields(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  courseId: string,
  assignmentId: string,
  fields: LmsFields,
): Promise<Assignment | undefined> {
  const set: Partial<{
    title: string;
    line_item_url: string;
    resource_link_id: string;
    resource_id: string;
    tag: string;
    score_maximum: number;
    updated_at: Date;
  }> = { updated_at: now() };
  if (fields.title !== undefined) set.title = fields.title;
  if (fields.lineItemUrl !== undefined) set.line_item_url = fields.lineItemUrl;
  if (fields.resourceLinkId !== undefined) set.resource_link_id = fields.resourceLinkId;
  if (fields.resourceId !== undefined) set.resource_id = fields.resourceId;
  if (fields.tag !== undefined) set.tag = fields.tag;
  if (fields.scoreMaximum !== undefined) set.score_maximum = fields.scoreMaximum;
  const row = await db
    .updateTable('course_assignments')
    .set(set)
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('id', '=', assignmentId)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : toAssignment(row);
}

async function setArchived(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  courseId: string,
  assignmentId: string,
  archived: boolean,
): Promise<boolean> {
  if (!isUuid(assignmentId)) return false;
  const time = now();
  const result = await db
    .updateTable('course_assignments')
    .set({ archived_at: archived ? time : null, updated_at: time })
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('id', '=', assignmentId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

async function listAlignments(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  assignmentId?: string,
): Promise<Alignment[]> {
  let query = db
    .selectFrom('assignment_alignments')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId);
  if (assignmentId !== undefined) {
    if (!isUuid(assignmentId)) return [];
    query = query.where('assignment_id', '=', assignmentId);
  }
  const rows = await query.orderBy('assignment_id').orderBy('position').execute();
  return rows.map(toAlignment);
}

/**
 * Replaces an assignment's alignments with `alignments` (in that order). The caller checked
 * that the assignment belongs to the course and the items to the district; the statements
 * still filter by both so a mistake cannot reach another course.
 */
async function replaceAlignments(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  courseId: string,
  assignmentId: string,
  alignments: readonly AlignmentInput[],
  actor: string,
): Promise<void> {
  const time = now();
  const existing = await db
    .selectFrom('assignment_alignments')
    .select(['item_id', 'created_by', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('assignment_id', '=', assignmentId)
    .execute();
  const kept = new Map(existing.map((row) => [row.item_id, row]));
  await db
    .deleteFrom('assignment_alignments')
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('assignment_id', '=', assignmentId)
    .execute();
  if (alignments.length > 0) {
    await db
      .insertInto('assignment_alignments')
      .values(
        alignments.map((alignment, position) => {
          const before = kept.get(alignment.itemId);
          return {
            tenant_id: tenantId,
            course_id: courseId,
            assignment_id: assignmentId,
            item_id: alignment.itemId,
            weight: alignment.weight,
            points: alignment.points ?? null,
            rubric_criterion: alignment.rubricCriterion ?? null,
            position,
            // Who first tagged the standard stays recorded; updated_at says when it changed.
            created_by: before?.created_by ?? actor,
            created_at: before?.created_at ?? time,
            updated_at: time,
          };
        }),
      )
      .execute();
  }
  await db
    .updateTable('course_assignments')
    .set({ updated_at: time })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', assignmentId)
    .execute();
}

/** Copies the alignments of an assignment (any course of the district) onto another one. */
async function copyAlignments(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  from: { readonly courseId: string; readonly assignmentId: string },
  to: { readonly courseId: string; readonly assignmentId: string },
  actor: string,
): Promise<number> {
  const time = now();
  const result = await sql<{ n: number }>`
    INSERT INTO assignment_alignments
      (tenant_id, course_id, assignment_id, item_id, weight, points, rubric_criterion, position,
       created_by, created_at, updated_at)
    SELECT tenant_id, ${to.courseId}::uuid, ${to.assignmentId}::uuid, item_id, weight, points,
           rubric_criterion, position, ${actor}, ${time}, ${time}
    FROM assignment_alignments
    WHERE tenant_id = ${tenantId} AND course_id = ${from.courseId}
      AND assignment_id = ${from.assignmentId}
    ON CONFLICT (assignment_id, item_id) DO NOTHING
  `.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * The district's frameworks by title, for the picker: ids and titles only (no item counts),
 * because it runs on every keystroke.
 */
async function frameworkTitles(
  db: Kysely<Database>,
  tenantId: string,
): Promise<{ id: string; title: string }[]> {
  return db
    .selectFrom('standard_frameworks')
    .select(['id', 'title'])
    .where('tenant_id', '=', tenantId)
    .orderBy('title')
    .orderBy('id')
    .execute();
}

/** Which of `itemIds` are items of the district that are not archived (may be aligned). */
export async function activeItemIds(
  db: Kysely<Database>,
  tenantId: string,
  itemIds: readonly string[],
): Promise<Set<string>> {
  const ids = itemIds.filter(isUuid);
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('standard_items')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('archived_at', 'is', null)
    .where('id', 'in', ids)
    .execute();
  return new Set(rows.map((row) => row.id));
}

export function createCourseAssignmentRepository(db: Kysely<Database>, now: () => Date) {
  // Each method is one of the functions above, given this database and clock.
  return {
    list: listAssignments.bind(undefined, db),
    find: findAssignment.bind(undefined, db),
    findInTenant: findInTenant.bind(undefined, db),
    findByLineItemUrl: findInCourseBy.bind(undefined, 'line_item_url', db),
    findByResourceLinkId: findInCourseBy.bind(undefined, 'resource_link_id', db),
    // The assignment of this course already recognised as a copy of `copiedFrom`, if any.
    findCopyOf: findInCourseBy.bind(undefined, 'copied_from', db),
    findByResourceLinkIdsElsewhere: findByResourceLinkIdsElsewhere.bind(undefined, db),
    create: createAssignment.bind(undefined, db, now),
    updateLmsFields: updateLmsFields.bind(undefined, db, now),
    setArchived: setArchived.bind(undefined, db, now),
    listAlignments: listAlignments.bind(undefined, db),
    replaceAlignments: replaceAlignments.bind(undefined, db, now),
    copyAlignments: copyAlignments.bind(undefined, db, now),
    frameworkTitles: frameworkTitles.bind(undefined, db),
    activeItemIds: activeItemIds.bind(undefined, db),
  };
}

export type CourseAssignmentRepository = ReturnType<typeof createCourseAssignmentRepository>;

/** Runs `work` in one transaction with a repository bound to it (never nest another inside). */
export async function inAssignmentTransaction<T>(
  db: Kysely<Database>,
  now: () => Date,
  work: (repository: CourseAssignmentRepository) => Promise<T>,
): Promise<T> {
  return db.transaction().execute((tx) => work(createCourseAssignmentRepository(tx, now)));
}
