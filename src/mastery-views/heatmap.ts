import type { ProficiencyScale } from '../mastery/types.ts';
import type { AncestorStandard, CourseStandard, CourseStudent, ResultCell } from './inputs.ts';
import { toCsv, type CsvCell } from './csv.ts';
import {
  cellHtml,
  cellView,
  legendOf,
  levelAbbreviations,
  type CellView,
  type LevelLegendEntry,
} from './levels.ts';

/**
 * The class heatmap: students × standards. Sorting and the domain filter come from the query
 * string and happen here (server side), so the page works without JavaScript.
 */

export type SortDirection = 'asc' | 'desc';

export interface HeatmapQuery {
  /** `name`, or the id of a standard (sort by its level/value). */
  readonly sort: string;
  readonly dir: SortDirection;
  /** An ancestor standard's id: only its descendants are shown. */
  readonly domain: string | undefined;
}

export function parseHeatmapQuery(query: Record<string, unknown>): HeatmapQuery {
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.length <= 100 && value !== '' ? value : undefined;
  return {
    sort: text(query.sort) ?? 'name',
    dir: query.dir === 'desc' ? 'desc' : 'asc',
    domain: text(query.domain),
  };
}

export interface HeatmapColumn {
  readonly id: string;
  readonly code: string;
  readonly statement: string;
  /** Link (query string) sorting by this column; toggles direction when already sorted by it. */
  readonly sortQuery: string;
  readonly ariaSort: 'ascending' | 'descending' | 'none';
}

export interface HeatmapRow {
  readonly studentId: string;
  readonly name: string;
  readonly active: boolean;
  /** The LMS's test student (Canvas Student View): shown greyed and labelled. */
  readonly testUser: boolean;
  readonly cells: readonly CellView[];
  /** The row's `<td>` cells, escaped (see `cellHtml`). */
  readonly cellsHtml: string;
  readonly masteredCount: number;
}

export interface DomainOption {
  readonly id: string;
  readonly label: string;
  readonly selected: boolean;
}

export interface HeatmapView {
  readonly columns: readonly HeatmapColumn[];
  readonly rows: readonly HeatmapRow[];
  readonly legend: readonly LevelLegendEntry[];
  readonly domains: readonly DomainOption[];
  readonly domain: DomainOption | undefined;
  readonly nameSortQuery: string;
  readonly nameAriaSort: 'ascending' | 'descending' | 'none';
  readonly sortDescription: string;
  readonly query: HeatmapQuery;
  readonly csvQuery: string;
}

export interface HeatmapInput {
  readonly scale: ProficiencyScale;
  readonly students: readonly CourseStudent[];
  readonly standards: readonly CourseStandard[];
  readonly ancestors: readonly AncestorStandard[];
  readonly results: readonly ResultCell[];
  readonly query: HeatmapQuery;
}

export function standardLabel(standard: { code: string | undefined; statement: string }): string {
  return standard.code ?? truncate(standard.statement, 40);
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function queryString(parts: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(parts)) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Ids of the standards under `domainId` (by their parent chain). */
function descendantsOf(
  domainId: string,
  standards: readonly CourseStandard[],
  ancestors: readonly AncestorStandard[],
): Set<string> {
  const parentOf = new Map<string, string | undefined>();
  for (const item of [...ancestors, ...standards]) parentOf.set(item.id, item.parentId);
  const inside = new Set<string>();
  for (const standard of standards) {
    let current: string | undefined = standard.parentId;
    for (let guard = 0; current !== undefined && guard < 50; guard += 1) {
      if (current === domainId) {
        inside.add(standard.id);
        break;
      }
      current = parentOf.get(current);
    }
    if (standard.id === domainId) inside.add(standard.id);
  }
  return inside;
}

export function buildHeatmap(input: HeatmapInput): HeatmapView {
  const { scale, query } = input;
  const abbreviations = levelAbbreviations(scale);
  const domainOptions: DomainOption[] = input.ancestors.map((a) => ({
    id: a.id,
    label: `${'— '.repeat(a.depth)}${a.code === undefined ? '' : `${a.code}: `}${truncate(a.statement, 70)}`,
    selected: a.id === query.domain,
  }));
  const domain = domainOptions.find((option) => option.selected);
  const visible =
    domain === undefined
      ? input.standards
      : (() => {
          const inside = descendantsOf(domain.id, input.standards, input.ancestors);
          return input.standards.filter((s) => inside.has(s.id));
        })();
  const effective: HeatmapQuery = {
    ...query,
    domain: domain?.id,
    sort: query.sort === 'name' || visible.some((s) => s.id === query.sort) ? query.sort : 'name',
  };

  const byStudent = new Map<string, Map<string, ResultCell>>();
  for (const cell of input.results) {
    let cells = byStudent.get(cell.studentId);
    if (cells === undefined) {
      cells = new Map();
      byStudent.set(cell.studentId, cells);
    }
    cells.set(cell.itemId, cell);
  }
  // A class has thousands of cells but few distinct ones (level × value × override): build each
  // distinct view and its HTML once.
  const views = new Map<string, { view: CellView; html: string }>();
  const viewOf = (result: ResultCell | undefined) => {
    const key =
      result === undefined
        ? ''
        : `${result.status}|${result.levelId ?? ''}|${result.value ?? ''}|${result.overridden ? 1 : 0}`;
    let found = views.get(key);
    if (found === undefined) {
      const view = cellView(scale, abbreviations, result);
      found = { view, html: cellHtml(view) };
      views.set(key, found);
    }
    return found;
  };

  let rows: HeatmapRow[] = input.students.map((student) => {
    const results = byStudent.get(student.id);
    const built = visible.map((standard) => viewOf(results?.get(standard.id)));
    const cells = built.map((b) => b.view);
    return {
      studentId: student.id,
      name: student.name,
      active: student.active,
      testUser: student.testUser === true,
      cells,
      cellsHtml: built.map((b) => b.html).join(''),
      masteredCount: cells.filter((cell) => cell.mastered).length,
    };
  });

  const sign = effective.dir === 'desc' ? -1 : 1;
  const order = new Map(input.students.map((student, index) => [student.id, index]));
  const byName = (a: HeatmapRow, b: HeatmapRow) =>
    (order.get(a.studentId) ?? 0) - (order.get(b.studentId) ?? 0);
  if (effective.sort === 'name') {
    rows = [...rows].sort((a, b) => sign * byName(a, b));
  } else {
    const column = visible.findIndex((s) => s.id === effective.sort);
    // Students without a level sort after everyone with one, in either direction: "who has no
    // evidence yet" is its own group, not the bottom of the scale.
    rows = [...rows].sort((a, b) => {
      const va = a.cells[column]?.value;
      const vb = b.cells[column]?.value;
      if (va === undefined || vb === undefined) {
        return (va === undefined ? 1 : 0) - (vb === undefined ? 1 : 0) || byName(a, b);
      }
      return sign * (va - vb) || byName(a, b);
    });
  }

  const toggle = (key: string): SortDirection =>
    effective.sort === key && effective.dir === 'asc' ? 'desc' : 'asc';
  const ariaSort = (key: string) =>
    effective.sort === key ? (effective.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  const columns: HeatmapColumn[] = visible.map((standard) => ({
    id: standard.id,
    code: standardLabel(standard),
    statement: standard.statement,
    sortQuery: queryString({ sort: standard.id, dir: toggle(standard.id), domain: domain?.id }),
    ariaSort: ariaSort(standard.id),
  }));
  const sortedColumn = visible.find((s) => s.id === effective.sort);
  return {
    columns,
    rows,
    legend: legendOf(scale),
    domains: domainOptions,
    domain,
    nameSortQuery: queryString({ sort: 'name', dir: toggle('name'), domain: domain?.id }),
    nameAriaSort: ariaSort('name'),
    sortDescription:
      sortedColumn === undefined
        ? `Sorted by student name, ${effective.dir === 'asc' ? 'A to Z' : 'Z to A'}.`
        : `Sorted by level on ${standardLabel(sortedColumn)}, ${effective.dir === 'asc' ? 'lowest first' : 'highest first'}; students without a level last.`,
    query: effective,
    csvQuery: queryString({
      sort: effective.sort === 'name' ? undefined : effective.sort,
      dir: effective.dir === 'asc' ? undefined : effective.dir,
      domain: domain?.id,
    }),
  };
}

/** The heatmap as CSV: per standard, its level and its value (as the page shows them). */
export function heatmapCsv(view: HeatmapView): string {
  const header: CsvCell[] = ['Student'];
  for (const column of view.columns) {
    header.push(`${column.code} level`, `${column.code} value`);
  }
  header.push('Standards mastered');
  const rows: CsvCell[][] = [header];
  for (const row of view.rows) {
    const line: CsvCell[] = [row.name];
    for (const cell of row.cells) {
      line.push(
        cell.kind === 'level'
          ? `${cell.label}${cell.overridden ? ' (set by teacher)' : ''}`
          : cell.label,
        cell.value,
      );
    }
    line.push(row.masteredCount);
    rows.push(line);
  }
  return toCsv(rows);
}
