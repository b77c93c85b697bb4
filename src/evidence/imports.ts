import { parse } from 'csv-parse/sync';
import type { AssignmentWithStandards } from '../storage/mastery/course-context.repository.ts';
import { EvidenceError, type EntryProblem } from './errors.ts';
import type { EvidenceEntry } from './record.ts';
import type { EvidenceUseCases } from './create-use-cases.ts';

/** One rejection of an import: the file line, the column, words for people. */
export interface ImportProblem {
  readonly line: number;
  readonly field: string;
  readonly message: string;
}

export type ImportOutcome =
  | { readonly ok: true; readonly saved: number; readonly unchanged: number; readonly rows: number }
  | { readonly ok: false; readonly problems: readonly ImportProblem[] };

export const CSV_MAX_ROWS = 5000;
export const CSV_MAX_BYTES = 2_000_000;

/**
 * The evidence CSV (header row first, columns in any order, names in any case):
 *
 * | column           | required | meaning                                                        |
 * |------------------|----------|----------------------------------------------------------------|
 * | student          | yes      | the student's LMS user id (LTI `sub`; the roster page's id)    |
 * | standard         | yes      | the standard's code, aligned to the assignment                 |
 * | assignment       | yes      | the assignment's title in this course (or its id)              |
 * | score            | one of   | on the proficiency scale                                       |
 * | points           | these    | points earned; converted through the alignment's points        |
 * | points_possible  | no       | overrides the alignment's points for this row                  |
 * | date             | no       | when it was assessed: YYYY-MM-DD or an ISO date-time           |
 * | excused          | no       | yes/no, true/false, 1/0, x                                     |
 * | comment          | no       | free text                                                      |
 *
 * All or nothing: one bad row and nothing is saved; the report names every line and column.
 */
export const CSV_COLUMNS = [
  'student',
  'standard',
  'assignment',
  'score',
  'points',
  'points_possible',
  'date',
  'excused',
  'comment',
] as const;

type Column = (typeof CSV_COLUMNS)[number];

const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

function readRecords(text: string): { line: number; cells: string[] }[] | ImportProblem {
  let records: string[][];
  try {
    records = parse(text.replace(/^\uFEFF/, ''), {
      relax_column_count: true,
      skip_empty_lines: false,
    });
  } catch (error) {
    const line =
      typeof error === 'object' &&
      error !== null &&
      'lines' in error &&
      typeof error.lines === 'number'
        ? error.lines
        : 1;
    return {
      line,
      field: '(file)',
      message:
        'The file cannot be read as CSV. Check that quotes are closed, or save the sheet again as “CSV UTF-8”.',
    };
  }
  const rows: { line: number; cells: string[] }[] = [];
  let line = 1;
  for (const cells of records) {
    if (!cells.every((cell) => cell.trim() === '')) rows.push({ line, cells });
    let inner = 0;
    for (const cell of cells) for (const ch of cell) if (ch === '\n') inner += 1;
    line += 1 + inner;
  }
  return rows;
}

type CsvRecord = { line: number; cells: string[] };

/** The course's learners and assignments, as a CSV row names them. */
interface CsvLookups {
  readonly learnerBySub: ReadonlyMap<string, string>;
  readonly assignmentById: ReadonlyMap<string, AssignmentWithStandards>;
  readonly assignmentsByTitle: ReadonlyMap<string, AssignmentWithStandards[]>;
}

/** The header's columns and the rows, or what is wrong with the file as a whole. */
function readCsvTable(
  text: string,
): { index: Map<Column, number>; rows: CsvRecord[] } | ImportProblem[] {
  if (Buffer.byteLength(text, 'utf8') > CSV_MAX_BYTES) {
    return [
      {
        line: 1,
        field: '(file)',
        message: 'The file is larger than 2 MB. Split it into smaller files.',
      },
    ];
  }
  const read = readRecords(text);
  if (!Array.isArray(read)) return [read];
  const [header, ...rows] = read;
  if (header === undefined) {
    return [
      {
        line: 1,
        field: '(file)',
        message: 'The file is empty. Add a header row: student, standard, assignment, score.',
      },
    ];
  }
  const index = new Map<Column, number>();
  const problems: ImportProblem[] = [];
  header.cells.forEach((cell, i) => {
    const name = cell.trim().toLowerCase().replace(/\s+/g, '_');
    if ((CSV_COLUMNS as readonly string[]).includes(name)) index.set(name as Column, i);
    else if (name !== '') {
      problems.push({
        line: header.line,
        field: cell.trim(),
        message: `Unknown column “${cell.trim().slice(0, 40)}”. Columns: ${CSV_COLUMNS.join(', ')}.`,
      });
    }
  });
  for (const required of ['student', 'standard', 'assignment'] as const) {
    if (!index.has(required)) {
      problems.push({
        line: header.line,
        field: required,
        message: `The header has no “${required}” column.`,
      });
    }
  }
  if (!index.has('score') && !index.has('points')) {
    problems.push({
      line: header.line,
      field: 'score',
      message: 'The header needs a “score” or a “points” column.',
    });
  }
  if (problems.length > 0) return problems;
  if (rows.length === 0) {
    return [
      {
        line: header.line,
        field: '(file)',
        message: 'The file has a header but no rows of evidence.',
      },
    ];
  }
  if (rows.length > CSV_MAX_ROWS) {
    return [
      {
        line: header.line,
        field: '(file)',
        message: `The file has ${rows.length} rows; at most ${CSV_MAX_ROWS} per import. Split it.`,
      },
    ];
  }

  return { index, rows };
}

/** One row as an evidence entry, or undefined when the row has problems (added to `problems`). */
function csvRowEntry(
  row: CsvRecord,
  index: ReadonlyMap<Column, number>,
  lookups: CsvLookups,
  seen: Map<string, number>,
  problems: ImportProblem[],
): EvidenceEntry | undefined {
  const { learnerBySub, assignmentById, assignmentsByTitle } = lookups;
  const cell = (column: Column): string => {
    const i = index.get(column);
    return i === undefined ? '' : (row.cells[i] ?? '').trim();
  };
  const problem = (field: Column, message: string) =>
    problems.push({ line: row.line, field, message });
  const before = problems.length;

  const sub = cell('student');
  const studentId = learnerBySub.get(sub);
  if (sub === '') problem('student', 'The student’s LMS user id is missing.');
  else if (studentId === undefined) {
    problem(
      'student',
      `No student with LMS user id “${sub.slice(0, 60)}” is enrolled in this course.`,
    );
  }

  const assignmentText = cell('assignment');
  let assignment: AssignmentWithStandards | undefined = assignmentById.get(assignmentText);
  if (assignment === undefined && assignmentText !== '') {
    const matches = assignmentsByTitle.get(assignmentText.toLowerCase()) ?? [];
    if (matches.length > 1) {
      problem(
        'assignment',
        `Several assignments are called “${assignmentText.slice(0, 80)}”; use the assignment’s id instead.`,
      );
    }
    if (matches.length === 1) assignment = matches[0];
    else if (matches.length === 0) {
      problem('assignment', `No assignment “${assignmentText.slice(0, 80)}” in this course.`);
    }
  } else if (assignmentText === '') {
    problem('assignment', 'The assignment is missing.');
  }

  const code = cell('standard');
  let itemId: string | undefined;
  if (code === '') problem('standard', 'The standard code is missing.');
  else if (assignment !== undefined) {
    const aligned = assignment.standards.filter(
      (s) => s.code?.toLowerCase() === code.toLowerCase(),
    );
    if (aligned.length === 0) {
      problem(
        'standard',
        `Standard “${code.slice(0, 40)}” is not aligned to “${assignment.title}”. Align it first, or check the code.`,
      );
    } else itemId = aligned[0]?.itemId;
  }

  const scoreText = cell('score');
  const pointsText = cell('points');
  const possibleText = cell('points_possible');
  let score: number | undefined;
  let points: number | undefined;
  let pointsPossible: number | undefined;
  if (scoreText !== '' && pointsText !== '') {
    problem('score', 'Give either a score or points, not both.');
  } else if (scoreText !== '') {
    if (!NUMBER.test(scoreText.replace(',', '.')))
      problem('score', `“${scoreText.slice(0, 20)}” is not a number.`);
    else score = Number(scoreText.replace(',', '.'));
  } else if (pointsText !== '') {
    if (!NUMBER.test(pointsText))
      problem('points', `“${pointsText.slice(0, 20)}” is not a number.`);
    else points = Number(pointsText);
    if (possibleText !== '') {
      if (!NUMBER.test(possibleText) || !(Number(possibleText) > 0)) {
        problem('points_possible', `“${possibleText.slice(0, 20)}” is not a number above 0.`);
      } else pointsPossible = Number(possibleText);
    }
    if (points !== undefined && pointsPossible !== undefined && points > pointsPossible) {
      problem('points', `${points} points is more than the ${pointsPossible} possible.`);
    }
  }

  const excusedText = cell('excused').toLowerCase();
  let excused = false;
  if (['yes', 'true', '1', 'x', 'y'].includes(excusedText)) excused = true;
  else if (!['', 'no', 'false', '0', 'n'].includes(excusedText)) {
    problem('excused', `“${excusedText.slice(0, 20)}” is not yes or no.`);
  }
  if (score === undefined && points === undefined && !excused && problems.length === before) {
    problem('score', 'The row has no score, no points and is not excused.');
  }

  const dateText = cell('date');
  let assessedAt: Date | undefined;
  if (dateText !== '') {
    const date = new Date(dateText.length === 10 ? `${dateText}T12:00:00Z` : dateText);
    if (!DATE.test(dateText) || Number.isNaN(date.getTime())) {
      problem('date', `“${dateText.slice(0, 30)}” is not a date: use YYYY-MM-DD.`);
    } else assessedAt = date;
  }
  const comment = cell('comment');
  if (comment.length > 5000) problem('comment', 'A comment can hold at most 5000 characters.');

  if (studentId !== undefined && itemId !== undefined && assignment !== undefined) {
    const cellKey = `${studentId}|${itemId}|${assignment.id}`;
    const earlier = seen.get(cellKey);
    if (earlier !== undefined) {
      problem(
        'standard',
        `Line ${earlier} already gives this student’s evidence for this standard on this assignment.`,
      );
    } else seen.set(cellKey, row.line);
  }
  if (
    problems.length > before ||
    studentId === undefined ||
    itemId === undefined ||
    assignment === undefined
  ) {
    return undefined;
  }
  return {
    studentId,
    itemId,
    assignmentId: assignment.id,
    score: score ?? null,
    points,
    pointsPossible,
    excused,
    comment: comment === '' ? undefined : comment,
    assessedAt,
  };
}

/** Parses, resolves and records a CSV of evidence (source 'csv') in one transaction. */
export async function importEvidenceCsv(
  mastery: EvidenceUseCases,
  input: { tenantId: string; courseId: string; actor: string; text: string },
): Promise<ImportOutcome> {
  const fail = (problems: ImportProblem[]): ImportOutcome => ({ ok: false, problems });
  const table = readCsvTable(input.text);
  if (Array.isArray(table)) return fail(table);
  const { index, rows } = table;
  const problems: ImportProblem[] = [];

  const [learners, assignments] = await Promise.all([
    mastery.courseContext.learners(input.tenantId, input.courseId),
    mastery.courseContext.assignments(input.tenantId, input.courseId),
  ]);
  const learnerBySub = new Map(learners.map((l) => [l.sub, l.userId]));
  const assignmentById = new Map(assignments.map((a) => [a.id, a]));
  const assignmentsByTitle = new Map<string, AssignmentWithStandards[]>();
  for (const a of assignments) {
    const keyTitle = a.title.trim().toLowerCase();
    assignmentsByTitle.set(keyTitle, [...(assignmentsByTitle.get(keyTitle) ?? []), a]);
  }

  const lookups: CsvLookups = { learnerBySub, assignmentById, assignmentsByTitle };
  const entries: EvidenceEntry[] = [];
  const lineOfEntry: number[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const entry = csvRowEntry(row, index, lookups, seen, problems);
    if (entry === undefined) continue;
    entries.push(entry);
    lineOfEntry.push(row.line);
  }
  if (problems.length > 0) return fail(problems);

  try {
    const result = await mastery.recordEvidence({
      tenantId: input.tenantId,
      courseId: input.courseId,
      actor: input.actor,
      source: 'csv',
      entries,
    });
    return { ok: true, saved: result.saved, unchanged: result.unchanged, rows: entries.length };
  } catch (error) {
    if (error instanceof EvidenceError && error.code === 'invalid_entries') {
      return fail(
        error.problems.map((p: EntryProblem) => ({
          line: lineOfEntry[p.index] ?? 0,
          field: CSV_FIELD[p.field],
          message: p.message,
        })),
      );
    }
    throw error;
  }
}

const CSV_FIELD: Record<EntryProblem['field'], string> = {
  studentId: 'student',
  itemId: 'standard',
  assignmentId: 'assignment',
  score: 'score',
  points: 'points',
  comment: 'comment',
};

/** One AGS result as the import needs it (`userId` is the LMS user id, the LTI `sub`). */
export interface LmsResult {
  readonly userId: string;
  readonly resultScore?: number | null | undefined;
  readonly resultMaximum?: number | null | undefined;
}

export interface LmsImportOutcome {
  readonly saved: number;
  readonly unchanged: number;
  /** Results of users who are not learners of the course here (not seen yet, or teachers). */
  readonly unknownUsers: number;
  /** Results without a score (not graded yet). */
  readonly ungraded: number;
}

/**
 * Turns the results of an assignment's own line item into evidence (source 'lms'), one record
 * per aligned standard: each standard gets the result's fraction of ITS points
 * (points = resultScore / resultMaximum × alignment points, possible = alignment points; the
 * line item maximum when the alignment gives no points), which `pointsToScale` maps linearly
 * onto the scale. See src/evidence/points.ts for why the fraction is the split.
 */
export async function importLmsResults(
  mastery: EvidenceUseCases,
  input: {
    tenantId: string;
    courseId: string;
    actor: string;
    assignment: AssignmentWithStandards;
    results: readonly LmsResult[];
    lineItemMaximum: number | undefined;
  },
): Promise<LmsImportOutcome> {
  const learners = await mastery.courseContext.learners(input.tenantId, input.courseId);
  const learnerBySub = new Map(learners.map((l) => [l.sub, l.userId]));
  const entries: EvidenceEntry[] = [];
  let unknownUsers = 0;
  let ungraded = 0;
  for (const result of input.results) {
    const studentId = learnerBySub.get(result.userId);
    if (studentId === undefined) {
      unknownUsers += 1;
      continue;
    }
    const maximum = result.resultMaximum ?? input.lineItemMaximum ?? input.assignment.scoreMaximum;
    if (
      result.resultScore === undefined ||
      result.resultScore === null ||
      maximum === null ||
      !(maximum > 0)
    ) {
      ungraded += 1;
      continue;
    }
    const fraction = Math.max(0, result.resultScore) / maximum;
    for (const standard of input.assignment.standards) {
      const possible = standard.points ?? maximum;
      entries.push({
        studentId,
        itemId: standard.itemId,
        assignmentId: input.assignment.id,
        points: Math.round(fraction * possible * 10_000) / 10_000,
        pointsPossible: possible,
      });
    }
  }
  const outcome =
    entries.length === 0
      ? { saved: 0, unchanged: 0 }
      : await mastery.recordEvidence({
          tenantId: input.tenantId,
          courseId: input.courseId,
          actor: input.actor,
          source: 'lms',
          entries,
        });
  return { saved: outcome.saved, unchanged: outcome.unchanged, unknownUsers, ungraded };
}
