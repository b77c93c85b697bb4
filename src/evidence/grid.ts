import { isOnScale } from '../mastery/index.ts';
import type { ProficiencyScale } from '../mastery/types.ts';

/**
 * What a teacher may type into one cell of the entry grid (or paste from a spreadsheet):
 * - a number on the scale (`3`, `2.5`, `2,5`);
 * - a level's label (`Meets`, any case);
 * - `X` or `EX` (any case): excused;
 * - nothing: no evidence (clears a stored value).
 */
export type CellValue =
  | { readonly kind: 'empty' }
  | { readonly kind: 'score'; readonly score: number }
  | { readonly kind: 'excused' }
  | { readonly kind: 'invalid'; readonly message: string };

const NUMBER = /^-?\d+(?:[.,]\d+)?$/;

const shown = (n: number): string => String(Math.round(n * 10_000) / 10_000);

export function cellHelp(scale: ProficiencyScale): string {
  return `Type a level from ${shown(scale.min)} to ${shown(scale.max)} (decimals allowed) or its name, X for excused, or leave the cell empty.`;
}

export function parseCell(raw: string, scale: ProficiencyScale): CellValue {
  const text = raw.trim();
  if (text === '') return { kind: 'empty' };
  if (/^e?x$/i.test(text)) return { kind: 'excused' };
  if (NUMBER.test(text)) {
    const score = Number(text.replace(',', '.'));
    if (isOnScale(score, scale)) return { kind: 'score', score };
    return {
      kind: 'invalid',
      message: `${text} is not on the scale: use ${shown(scale.min)} to ${shown(scale.max)}.`,
    };
  }
  const level = scale.levels.find((l) => l.label.toLowerCase() === text.toLowerCase());
  if (level !== undefined) return { kind: 'score', score: level.value };
  return {
    kind: 'invalid',
    message: `“${text.slice(0, 20)}” is not a level: use ${shown(scale.min)} to ${shown(scale.max)}, a level name, or X for excused.`,
  };
}

/** A stored cell as the grid shows it. */
export function formatCell(row: { score: number | null; excused: boolean } | undefined): string {
  if (row === undefined) return '';
  if (row.excused) return 'X';
  return row.score === null ? '' : shown(row.score);
}
