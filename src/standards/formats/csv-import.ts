import { parse } from 'csv-parse/sync';
import { unguardCsvText } from '../../csv.ts';
import type { MasteryMethod } from '../../mastery/types.ts';
import type {
  Association,
  CanvasOutcomeSettings,
  Framework,
  ImportError,
  ImportOptions,
  ImportResult,
  Item,
} from '../../domain/standards-model.ts';
import {
  byteLength,
  compact,
  createProblemCollector,
  fileTooLarge,
  nameBasedGuid,
  stripBom,
  type ProblemCollector,
} from './problems.ts';
import { buildTree, type ParentLink } from './tree.ts';

/** The two CSV layouts districts bring. */
export type StandardsCsvForm = 'canvas' | 'simple';

export interface CsvImportOptions extends ImportOptions {
  /** Framework metadata a CSV cannot carry; defaults keep the import usable without them. */
  readonly title?: string;
  readonly creator?: string;
  /** Pass the existing framework's GUID when re-importing, so item GUIDs (simple form) stay stable. */
  readonly caseGuid?: string;
  readonly subject?: readonly string[];
}

export type CsvImportResult =
  | (Extract<ImportResult, { ok: true }> & { readonly form: StandardsCsvForm })
  | Extract<ImportResult, { ok: false }>;

/** Fixed namespace for GUIDs we derive (random once, by hand; never change it). */
export const CSV_GUID_NAMESPACE = '6f1c1d7e-2c1a-4c55-9a43-6d3f0b8f6a21';

/**
 * The `calculation_method` values Canvas stores and writes in its outcomes CSV
 * (instructure/canvas-lms `app/models/outcome_calculation_method.rb`, `CALCULATION_METHODS`).
 */
export const CANVAS_CALCULATION_METHODS = [
  'weighted_average',
  'decaying_average',
  'standard_decaying_average',
  'n_mastery',
  'highest',
  'latest',
  'average',
] as const;

export type CanvasCalculationMethod = (typeof CANVAS_CALCULATION_METHODS)[number];

/**
 * The `calculation_int` each method accepts, as Canvas validates it
 * (`outcome_calculation_method.rb`, `VALID_CALCULATION_INTS`); `undefined`: the method takes none.
 */
const CANVAS_CALCULATION_INTS: Readonly<
  Record<CanvasCalculationMethod, { min: number; max: number } | undefined>
> = {
  weighted_average: { min: 1, max: 99 },
  decaying_average: { min: 1, max: 99 },
  standard_decaying_average: { min: 50, max: 99 },
  n_mastery: { min: 1, max: 10 },
  highest: undefined,
  latest: undefined,
  average: undefined,
};

/** Canvas's value when a row gives none: 65 for the averages, 5 for n_mastery (`learning_outcome.rb`). */
const CANVAS_DEFAULT_INT: Partial<Record<CanvasCalculationMethod, number>> = {
  weighted_average: 65,
  decaying_average: 65,
  standard_decaying_average: 65,
  n_mastery: 5,
};

function isCanvasMethod(value: string): value is CanvasCalculationMethod {
  return (CANVAS_CALCULATION_METHODS as readonly string[]).includes(value);
}

/**
 * What a Canvas outcome's `calculation_method` / `calculation_int` mean, as our mastery method
 * (read in instructure/canvas-lms `app/models/rollup_score.rb` and `learning_outcome.rb`):
 *
 * - `weighted_average` and `decaying_average` are the SAME legacy method in a CSV: the latest
 *   score counts `calculation_int` % and the mean of all earlier scores the rest
 *   (`decaying_average_set`). `weighted_average` is its current name; `decaying_average` is the
 *   stored name Canvas keeps for it (`adjust_calculation_method` maps `weighted_average` to it).
 * - `standard_decaying_average` is the true (recursive) decaying average, `calculation_int` % for
 *   each new score (`standard_decaying_average`).
 * - `n_mastery`: the mean of every score at or above the outcome's `mastery_points` once there
 *   are at least `calculation_int` of them (`n_mastery_set`); the threshold is in the outcome's
 *   points, so it is given here as `mastery_points` (Canvas's default 3 when absent).
 * - `highest`, `latest`, `average`: highest, most recent, mean. No method → `highest`, as
 *   Canvas's importer does (`lib/outcomes/import.rb`).
 */
export function canvasOutcomeMethod(settings: CanvasOutcomeSettings | undefined): MasteryMethod {
  const given = settings?.calculationMethod ?? '';
  const method: CanvasCalculationMethod = isCanvasMethod(given) ? given : 'highest';
  const int = settings?.calculationInt ?? CANVAS_DEFAULT_INT[method];
  switch (method) {
    case 'weighted_average':
    case 'decaying_average':
      return { kind: 'canvasLegacyDecaying', weight: (int ?? 65) / 100 };
    case 'standard_decaying_average':
      return { kind: 'recursiveDecaying', rate: (int ?? 65) / 100 };
    case 'n_mastery':
      return { kind: 'nTimes', n: int ?? 5, threshold: settings?.masteryPoints ?? 3 };
    case 'highest':
      return { kind: 'highest' };
    case 'latest':
      return { kind: 'mostRecent' };
    case 'average':
      return { kind: 'mean' };
  }
}

interface Row {
  readonly line: number;
  readonly cells: readonly string[];
}

/** Records with the file line each starts on (a quoted cell may span lines). */
// Undoes the exporter's formula guard (one leading apostrophe before `= + - @`, tab or CR).
export { unguardCsvText } from '../../csv.ts';

function readRows(text: string): { rows: Row[] } | { error: ImportError } {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: false });
  } catch (err) {
    const line =
      typeof err === 'object' && err !== null && 'lines' in err && typeof err.lines === 'number'
        ? err.lines
        : undefined;
    const detail = err instanceof Error ? err.message : String(err);
    return {
      error: compact({
        code: 'invalid_csv' as const,
        message: `The file cannot be read as CSV${line === undefined ? '' : ` (line ${line})`}: ${detail}. Check that quotes are closed and that text containing commas is in double quotes, or save the sheet again as "CSV UTF-8".`,
        line,
      }),
    };
  }
  const rows: Row[] = [];
  let line = 1;
  for (const cells of records) {
    const isBlank = cells.every((cell) => cell.trim() === '');
    if (!isBlank) rows.push({ line, cells: cells.map(unguardCsvText) });
    let inner = 0;
    for (const cell of cells) for (const ch of cell) if (ch === '\n') inner++;
    line += 1 + inner;
  }
  return { rows };
}

/**
 * Parses standards from CSV, detecting the form from the header row:
 * - Canvas outcomes CSV (`vendor_guid, object_type, title, description, display_name,
 *   calculation_method, calculation_int, workflow_state, parent_guids, mastery_points, ratings…`;
 *   ratings are the trailing points/description column pairs);
 * - simple `code, statement, parent_code, grade, subject`.
 * Every error names the CSV line and the column.
 */
export function parseStandardsCsv(text: string, options: CsvImportOptions): CsvImportResult {
  const bytes = byteLength(text);
  if (bytes > options.maxBytes)
    return { ok: false, errors: [fileTooLarge(bytes, options.maxBytes)] };
  const read = readRows(stripBom(text));
  if ('error' in read) return { ok: false, errors: [read.error] };
  const [header, ...rows] = read.rows;
  if (!header) {
    return {
      ok: false,
      errors: [
        {
          code: 'unknown_csv_form',
          message: 'The file is empty. Add a header row and one row per standard.',
          line: 1,
        },
      ],
    };
  }
  const columns = header.cells.map((cell) => cell.trim().toLowerCase());
  if (columns.includes('vendor_guid') || columns.includes('object_type')) {
    return parseCanvas(columns, header.line, rows, options);
  }
  if (columns.includes('code') || columns.includes('statement')) {
    return parseSimple(columns, header.line, rows, options);
  }
  return {
    ok: false,
    errors: [
      {
        code: 'unknown_csv_form',
        message:
          'The first row is not a header we recognise. Use either the Canvas outcomes columns (vendor_guid, object_type, title, …) or code, statement, parent_code, grade, subject.',
        line: header.line,
      },
    ],
  };
}

function requireColumns(
  columns: readonly string[],
  required: readonly string[],
  line: number,
  problems: ProblemCollector,
): boolean {
  let ok = true;
  for (const name of required) {
    if (!columns.includes(name)) {
      ok = false;
      problems.error({
        code: 'missing_column',
        message: `The header row has no "${name}" column. Add it (the column names are listed in the import help).`,
        line,
        field: name,
      });
    }
  }
  return ok;
}

interface FrameworkShell {
  readonly caseGuid: string;
  readonly uri: string;
  readonly title: string;
}

function shellFor(options: CsvImportOptions): FrameworkShell {
  const title = options.title ?? 'Imported standards';
  const caseGuid = options.caseGuid ?? nameBasedGuid(CSV_GUID_NAMESPACE, `framework:${title}`);
  return { caseGuid, uri: `local:${caseGuid}`, title };
}

type DraftItem = Omit<Item, 'parentGuid' | 'order'>;

interface DraftLink {
  readonly childGuid: string;
  readonly parentGuid: string | null;
  readonly line: number;
}

/** Places the items, adds the isChildOf associations (sequenceNumber = sibling order) and the framework. */
function assemble(
  shell: FrameworkShell,
  options: CsvImportOptions,
  drafts: readonly DraftItem[],
  draftLinks: readonly DraftLink[],
  lineOf: ReadonlyMap<string, number>,
  subjects: readonly string[],
  problems: ProblemCollector,
  form: StandardsCsvForm,
): CsvImportResult {
  const links: ParentLink[] = draftLinks.map((link, position) => ({
    childGuid: link.childGuid,
    parentGuid: link.parentGuid,
    position,
  }));
  const tree = buildTree(
    drafts.map((item) => item.guid),
    links,
  );
  for (const cycle of tree.cycles) {
    const first = cycle[0] ?? '';
    problems.error(
      compact({
        code: 'cycle' as const,
        message: `The parent columns form a loop (${cycle.join(' → ')} → back to the start). A standard cannot be inside itself; change one of these parents.`,
        itemGuid: first,
        line: lineOf.get(first),
        field: form === 'canvas' ? 'parent_guids' : 'parent_code',
      }),
    );
  }
  if (problems.errors.length > 0) return { ok: false, errors: problems.errors };

  const byGuid = new Map(drafts.map((item) => [item.guid, item]));
  const documentRef = { identifier: shell.caseGuid, uri: shell.uri, title: shell.title };
  const items: Item[] = drafts.map((item) => {
    const placement = tree.placement.get(item.guid);
    return { ...item, parentGuid: placement?.parentGuid ?? null, order: placement?.order ?? 0 };
  });
  const associations: Association[] = draftLinks.map((link) => {
    const child = byGuid.get(link.childGuid);
    const parent = link.parentGuid === null ? undefined : byGuid.get(link.parentGuid);
    const guid = nameBasedGuid(
      shell.caseGuid,
      `isChildOf:${link.childGuid}:${link.parentGuid ?? ''}`,
    );
    const placement = tree.placement.get(link.childGuid);
    const isPrimary = placement?.parentGuid === link.parentGuid;
    return compact({
      guid,
      uri: `local:${guid}`,
      type: 'isChildOf',
      origin: { identifier: link.childGuid, uri: child?.uri ?? '', title: child?.code ?? '' },
      destination: parent
        ? { identifier: parent.guid, uri: parent.uri, title: parent.code ?? '' }
        : documentRef,
      sequenceNumber: isPrimary ? placement.order : undefined,
    });
  });

  const framework: Framework = {
    caseGuid: shell.caseGuid,
    uri: shell.uri,
    title: shell.title,
    creator: options.creator ?? 'District',
    subject: options.subject ?? subjects,
    subjectRefs: [],
    caseVersion: '1.0',
    items,
    associations,
    definitions: {
      concepts: [],
      subjects: [],
      licences: [],
      itemTypes: [],
      associationGroupings: [],
    },
    rubrics: [],
  };
  return { ok: true, framework, warnings: problems.warnings, form };
}

function cell(row: Row, columns: readonly string[], name: string): string {
  const index = columns.indexOf(name);
  return index < 0 ? '' : (row.cells[index] ?? '');
}

function parseCanvas(
  columns: readonly string[],
  headerLine: number,
  rows: readonly Row[],
  options: CsvImportOptions,
): CsvImportResult {
  const problems = createProblemCollector();
  if (!requireColumns(columns, ['vendor_guid', 'object_type', 'title'], headerLine, problems)) {
    return { ok: false, errors: problems.errors };
  }
  const shell = shellFor(options);
  const ratingsIndex = columns.indexOf('ratings');
  const drafts: DraftItem[] = [];
  const isGroup = new Map<string, boolean>();
  const lineOf = new Map<string, number>();
  const pendingParents: { guid: string; parents: string[]; line: number }[] = [];

  for (const row of rows) {
    if (problems.full()) break;
    const at = (field: string): { line: number; field: string } => ({ line: row.line, field });
    const guid = cell(row, columns, 'vendor_guid').trim();
    const objectType = cell(row, columns, 'object_type').trim().toLowerCase();
    const title = cell(row, columns, 'title');
    const workflowState = cell(row, columns, 'workflow_state').trim().toLowerCase();
    if (workflowState === 'deleted') continue; // an instruction to Canvas to delete, not a standard

    const errorsBefore = problems.errors.length;
    const fail = (error: ImportError): void => {
      problems.error(error);
    };
    if (guid === '') {
      fail({
        code: 'missing_field',
        message: `Line ${row.line}: vendor_guid is empty. Every row needs a unique ID without spaces.`,
        ...at('vendor_guid'),
      });
    } else if (/\s/.test(guid)) {
      fail({
        code: 'invalid_value',
        message: `Line ${row.line}: vendor_guid "${guid}" contains spaces; Canvas does not allow them. Replace the spaces, e.g. with "-".`,
        ...at('vendor_guid'),
      });
    } else if (lineOf.has(guid)) {
      fail({
        code: 'duplicate_guid',
        message: `Line ${row.line}: vendor_guid "${guid}" is already used on line ${lineOf.get(guid) ?? '?'}. Each row needs its own ID.`,
        itemGuid: guid,
        ...at('vendor_guid'),
      });
    }
    if (objectType !== 'group' && objectType !== 'outcome') {
      fail({
        code: 'invalid_value',
        message: `Line ${row.line}: object_type must be "outcome" or "group", not "${objectType}".`,
        ...at('object_type'),
      });
    }
    if (title.trim() === '') {
      fail({
        code: 'missing_field',
        message: `Line ${row.line}: title is empty. Give the ${objectType === 'group' ? 'group' : 'outcome'} a title.`,
        ...at('title'),
      });
    }

    const canvas = readCanvasSettings(row, columns, ratingsIndex, workflowState, fail);
    if (problems.errors.length > errorsBefore) continue;

    const description = cell(row, columns, 'description');
    const displayName = cell(row, columns, 'display_name').trim();
    lineOf.set(guid, row.line);
    isGroup.set(guid, objectType === 'group');
    drafts.push(
      compact({
        guid,
        uri: `local:${guid}`,
        // display_name is Canvas's short "friendly name" (e.g. "LS-100"): the code.
        code: displayName === '' ? undefined : displayName,
        fullStatement: description.trim() === '' ? title : description,
        abbreviatedStatement: title,
        itemType: objectType === 'group' ? 'Group' : 'Outcome',
        educationLevels: [],
        canvas,
      }),
    );
    const parents = cell(row, columns, 'parent_guids')
      .split(/\s+/)
      .filter((p) => p !== '');
    pendingParents.push({ guid, parents, line: row.line });
  }

  const draftLinks: DraftLink[] = [];
  for (const { guid, parents, line } of pendingParents) {
    if (parents.length === 0) draftLinks.push({ childGuid: guid, parentGuid: null, line });
    for (const parent of parents) {
      if (!isGroup.has(parent)) {
        problems.error({
          code: 'unknown_parent',
          message: `Line ${line}: parent_guids names "${parent}", which is not the vendor_guid of any row. Add that group or correct the ID.`,
          itemGuid: guid,
          line,
          field: 'parent_guids',
        });
      } else if (isGroup.get(parent) !== true) {
        problems.error({
          code: 'invalid_value',
          message: `Line ${line}: parent_guids names "${parent}", which is an outcome. In Canvas only groups can contain outcomes; make "${parent}" a group.`,
          itemGuid: guid,
          line,
          field: 'parent_guids',
        });
      } else {
        draftLinks.push({ childGuid: guid, parentGuid: parent, line });
      }
    }
  }
  return assemble(shell, options, drafts, draftLinks, lineOf, [], problems, 'canvas');
}

function readCanvasSettings(
  row: Row,
  columns: readonly string[],
  ratingsIndex: number,
  workflowState: string,
  fail: (error: ImportError) => void,
): CanvasOutcomeSettings | undefined {
  const method = cell(row, columns, 'calculation_method').trim();
  const intText = cell(row, columns, 'calculation_int').trim();
  const masteryText = cell(row, columns, 'mastery_points').trim();
  if (method !== '' && !isCanvasMethod(method)) {
    fail({
      code: 'invalid_value',
      message: `Line ${row.line}: calculation_method "${method}" is not one Canvas knows (${CANVAS_CALCULATION_METHODS.join(', ')}).`,
      line: row.line,
      field: 'calculation_method',
    });
  }
  if (intText !== '' && !/^\d+$/.test(intText)) {
    fail({
      code: 'invalid_value',
      message: `Line ${row.line}: calculation_int must be a whole number, not "${intText}".`,
      line: row.line,
      field: 'calculation_int',
    });
  } else if (intText !== '' && isCanvasMethod(method)) {
    const range = CANVAS_CALCULATION_INTS[method];
    const value = Number(intText);
    if (range === undefined) {
      fail({
        code: 'invalid_value',
        message: `Line ${row.line}: calculation_method "${method}" takes no calculation_int; leave it empty.`,
        line: row.line,
        field: 'calculation_int',
      });
    } else if (value < range.min || value > range.max) {
      fail({
        code: 'invalid_value',
        message: `Line ${row.line}: calculation_int for "${method}" must be between ${range.min} and ${range.max}, not ${value}.`,
        line: row.line,
        field: 'calculation_int',
      });
    }
  }
  if (masteryText !== '' && !Number.isFinite(Number(masteryText))) {
    fail({
      code: 'invalid_value',
      message: `Line ${row.line}: mastery_points must be a number, not "${masteryText}".`,
      line: row.line,
      field: 'mastery_points',
    });
  }
  const ratingCells = ratingsIndex < 0 ? [] : row.cells.slice(ratingsIndex);
  while (ratingCells.length > 0 && (ratingCells[ratingCells.length - 1] ?? '').trim() === '')
    ratingCells.pop();
  const ratings: { points: number; description: string }[] = [];
  for (let i = 0; i < ratingCells.length; i += 2) {
    const pointsText = (ratingCells[i] ?? '').trim();
    const points = Number(pointsText);
    if (pointsText === '' || !Number.isFinite(points)) {
      fail({
        code: 'invalid_value',
        message: `Line ${row.line}: rating ${i / 2 + 1} must start with its points (a number), not "${pointsText}". Ratings are pairs: points, then description.`,
        line: row.line,
        field: 'ratings',
      });
      break;
    }
    ratings.push({ points, description: ratingCells[i + 1] ?? '' });
  }
  if (
    method === '' &&
    intText === '' &&
    masteryText === '' &&
    workflowState === '' &&
    ratings.length === 0
  ) {
    return undefined;
  }
  return compact({
    calculationMethod: method === '' ? undefined : method,
    calculationInt: intText === '' ? undefined : Number(intText),
    masteryPoints: masteryText === '' ? undefined : Number(masteryText),
    workflowState: workflowState === '' ? undefined : workflowState,
    ratings,
  });
}

function splitList(value: string, separators: RegExp): string[] {
  return value
    .split(separators)
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function parseSimple(
  columns: readonly string[],
  headerLine: number,
  rows: readonly Row[],
  options: CsvImportOptions,
): CsvImportResult {
  const problems = createProblemCollector();
  if (!requireColumns(columns, ['code', 'statement'], headerLine, problems)) {
    return { ok: false, errors: problems.errors };
  }
  const shell = shellFor(options);
  const drafts: DraftItem[] = [];
  const guidOfCode = new Map<string, string>();
  const lineOf = new Map<string, number>();
  const lineOfCode = new Map<string, number>();
  const pendingParents: { guid: string; parentCode: string; line: number }[] = [];
  const subjects: string[] = [];

  for (const row of rows) {
    if (problems.full()) break;
    const code = cell(row, columns, 'code').trim();
    const statement = cell(row, columns, 'statement');
    let rowOk = true;
    if (code === '') {
      rowOk = false;
      problems.error({
        code: 'missing_field',
        message: `Line ${row.line}: the code is empty. Every standard needs a code (e.g. 6.RP.A.1); other rows use it in parent_code.`,
        line: row.line,
        field: 'code',
      });
    } else if (lineOfCode.has(code)) {
      rowOk = false;
      problems.error({
        code: 'duplicate_code',
        message: `Line ${row.line}: the code "${code}" is already used on line ${lineOfCode.get(code) ?? '?'}. In this form codes identify rows, so each must be unique.`,
        line: row.line,
        field: 'code',
      });
    }
    if (statement.trim() === '') {
      rowOk = false;
      problems.error({
        code: 'missing_statement',
        message: `Line ${row.line}: the statement is empty. Add the text of the standard.`,
        line: row.line,
        field: 'statement',
      });
    }
    if (!rowOk) continue;
    // Simple-form GUIDs come from the framework and the code, so re-importing updates, not duplicates.
    const guid = nameBasedGuid(shell.caseGuid, `code:${code}`);
    const rowSubjects = splitList(cell(row, columns, 'subject'), /[;|]/);
    for (const subject of rowSubjects) if (!subjects.includes(subject)) subjects.push(subject);
    guidOfCode.set(code, guid);
    lineOfCode.set(code, row.line);
    lineOf.set(guid, row.line);
    drafts.push(
      compact({
        guid,
        uri: `local:${guid}`,
        code,
        fullStatement: statement,
        educationLevels: splitList(cell(row, columns, 'grade'), /[;,|]/),
        subjects: rowSubjects.length > 0 ? rowSubjects : undefined,
      }),
    );
    pendingParents.push({
      guid,
      parentCode: cell(row, columns, 'parent_code').trim(),
      line: row.line,
    });
  }

  const draftLinks: DraftLink[] = [];
  for (const { guid, parentCode, line } of pendingParents) {
    if (parentCode === '') {
      draftLinks.push({ childGuid: guid, parentGuid: null, line });
      continue;
    }
    const parentGuid = guidOfCode.get(parentCode);
    if (parentGuid === undefined) {
      problems.error({
        code: 'unknown_parent',
        message: `Line ${line}: parent_code "${parentCode}" is not the code of any row. Add that standard or correct the code.`,
        itemGuid: guid,
        line,
        field: 'parent_code',
      });
      continue;
    }
    draftLinks.push({ childGuid: guid, parentGuid, line });
  }
  return assemble(shell, options, drafts, draftLinks, lineOf, subjects, problems, 'simple');
}
