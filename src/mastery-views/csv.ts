/** The mastery views write CSV with the one writer of the app (`src/csv.ts`). */
export { csvCell, toCsv, type CsvCell } from '../csv.ts';
