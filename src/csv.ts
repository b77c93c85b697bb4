import { stringify } from 'csv-stringify/sync';

/**
 * The one CSV writer: every download (mastery views, standards exports) goes through `toCsv`.
 *
 * - Formula injection (OWASP "CSV Injection"): a text cell a spreadsheet would run as a formula
 *   (starting with = + - @, or a tab / carriage return, which some spreadsheets skip before parsing)
 *   gets a leading apostrophe, the spreadsheet's "this is text" mark, so a student named
 *   "=HYPERLINK(...)" stays text. Plain numbers ("-1") are left alone, and `unguardCsvText` takes
 *   the mark off again, so a standards export reads back unchanged.
 * - RFC 4180: lines end with CRLF; a cell is quoted when it holds a comma, a quote or a line break,
 *   or starts or ends with white space (which some spreadsheets trim from unquoted cells).
 * - Numbers are written as numbers (never guarded); a missing value or a non-finite number is empty.
 *
 * Imports nothing of ours: every folder may use it.
 */
export type CsvCell = string | number | undefined;

/** Marks text a spreadsheet would run as a formula; text already marked gets one more mark. */
export function guardCsvText(value: string): string {
  return /^'*[=+\-@\t\r]/.test(value) && !/^[+-]?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
}

/** Undoes `guardCsvText` on a cell read from a CSV file. */
export function unguardCsvText(value: string): string {
  return /^'+[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

/** A cell's text before quoting: guarded text, numbers as they are, '' for nothing. */
function cellText(value: CsvCell): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return guardCsvText(value);
}

// csv-stringify quotes cells holding the delimiter or a quote by itself; a lone CR or LF (it only
// looks for the whole record delimiter) and edge white space are quoted by this pattern.
const QUOTE_ALSO = /[\r\n]|^\s|\s$/;

/** Rows as CSV text, each line ended by CRLF. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  if (rows.length === 0) return '\r\n';
  return stringify(
    rows.map((row) => row.map(cellText)),
    { record_delimiter: '\r\n', quoted_match: QUOTE_ALSO },
  );
}

/** One cell as it appears in a CSV line. */
export function csvCell(value: CsvCell): string {
  return toCsv([[value]]).slice(0, -2);
}
