/**
 * CSV for spreadsheets, safe against formula injection (OWASP "CSV Injection"): a text cell that
 * starts with = + - @ (or a tab / carriage return, which some spreadsheets skip before parsing)
 * gets a leading apostrophe, so a student named "=HYPERLINK(...)" stays text. Numbers are written
 * as numbers. Lines end with CRLF (RFC 4180).
 */
export type CsvCell = string | number | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: CsvCell): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
