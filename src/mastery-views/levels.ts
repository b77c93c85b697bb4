import { levelForValue } from '../mastery/scale.ts';
import type { ProficiencyLevel, ProficiencyScale } from '../mastery/types.ts';
import { escapeXml } from './escape.ts';

/**
 * How a mastery level is shown: its label, a short abbreviation for dense tables, its value and a
 * CSS class that carries the district's colour. Colour is never the only signal: every cell shows
 * the abbreviation and the number too, and "not enough evidence" has its own pattern and text.
 */

export interface LevelLegendEntry {
  readonly id: string;
  readonly label: string;
  readonly abbreviation: string;
  readonly threshold: string;
  readonly mastered: boolean;
  readonly cssClass: string;
}

export type CellKind = 'level' | 'insufficient' | 'none';

export interface CellView {
  readonly kind: CellKind;
  /** Short text shown in the cell ("M", "NE", "–"). */
  readonly abbreviation: string;
  /** Full words for the abbreviation (`<abbr title>`, screen readers, CSV). */
  readonly label: string;
  /** The value as shown ("3.25"), empty when there is none. */
  readonly valueText: string;
  readonly value: number | undefined;
  readonly mastered: boolean;
  readonly overridden: boolean;
  readonly cssClass: string;
}

export const NOT_ENOUGH_LABEL = 'Not enough evidence';
export const NO_EVIDENCE_LABEL = 'No evidence yet';

/** A number as a teacher reads it: at most 2 decimals, no trailing zeros (3, 2.5, 3.25). */
export function formatValue(value: number): string {
  return String(Number(value.toFixed(2)));
}

/**
 * Unique abbreviations per scale: the first letter of each label, lengthened until no two levels
 * share one ("Exceeds" E, "Meets" M; "Mastered"/"Meets" → "Ma"/"Me").
 */
export function levelAbbreviations(scale: ProficiencyScale): ReadonlyMap<string, string> {
  const result = new Map<string, string>();
  const labels = scale.levels.map((level) => ({ id: level.id, text: level.label.trim() }));
  for (let length = 1; length <= 12; length += 1) {
    const candidates = labels.map((l) => ({ id: l.id, abbr: abbreviate(l.text, length) }));
    const counts = new Map<string, number>();
    for (const c of candidates)
      counts.set(c.abbr.toLowerCase(), (counts.get(c.abbr.toLowerCase()) ?? 0) + 1);
    for (const c of candidates) {
      if (!result.has(c.id) && counts.get(c.abbr.toLowerCase()) === 1) result.set(c.id, c.abbr);
    }
    if (result.size === labels.length) break;
  }
  // Labels identical even in full: number them so cells still differ.
  labels.forEach((l, index) => {
    if (!result.has(l.id)) result.set(l.id, `${abbreviate(l.text, 2)}${index + 1}`);
  });
  return result;
}

function abbreviate(label: string, length: number): string {
  const words = label.split(/\s+/).filter((word) => word !== '');
  if (words.length > 1 && length <= words.length) {
    return words
      .slice(0, length)
      .map((word) => word.charAt(0).toUpperCase())
      .join('');
  }
  const first = label.slice(0, length);
  return first.charAt(0).toUpperCase() + first.slice(1);
}

/** Class of a level: by its position in the scale (highest first), so ids never reach CSS. */
export function levelClass(scale: ProficiencyScale, levelId: string): string {
  const index = scale.levels.findIndex((level) => level.id === levelId);
  return index < 0 ? 'lv-unknown' : `lv-${index}`;
}

export function legendOf(scale: ProficiencyScale): LevelLegendEntry[] {
  const abbreviations = levelAbbreviations(scale);
  return scale.levels.map((level) => ({
    id: level.id,
    label: level.label,
    abbreviation: abbreviations.get(level.id) ?? level.label,
    threshold: formatValue(level.value),
    mastered: level.mastered,
    cssClass: levelClass(scale, level.id),
  }));
}

/**
 * The level a stored result stands for: its level id when the scale still has it, otherwise
 * (the scale was edited and the course not yet recomputed) the level its value falls in.
 */
export function resolveLevel(
  scale: ProficiencyScale,
  levelId: string | undefined,
  value: number | undefined,
): ProficiencyLevel | undefined {
  const byId = levelId === undefined ? undefined : scale.levels.find((l) => l.id === levelId);
  if (byId !== undefined) return byId;
  return value === undefined ? undefined : levelForValue(value, scale);
}

export interface CellInput {
  readonly status: 'mastery' | 'insufficientEvidence' | 'noEvidence';
  readonly value: number | undefined;
  readonly levelId: string | undefined;
  readonly overridden: boolean;
}

export function cellView(
  scale: ProficiencyScale,
  abbreviations: ReadonlyMap<string, string>,
  input: CellInput | undefined,
): CellView {
  if (input === undefined || input.status === 'noEvidence') {
    return {
      kind: 'none',
      abbreviation: '–',
      label: NO_EVIDENCE_LABEL,
      valueText: '',
      value: undefined,
      mastered: false,
      overridden: false,
      cssClass: 'lv-none',
    };
  }
  const level =
    input.status === 'mastery' ? resolveLevel(scale, input.levelId, input.value) : undefined;
  if (level === undefined || input.value === undefined) {
    return {
      kind: 'insufficient',
      abbreviation: 'NE',
      label: NOT_ENOUGH_LABEL,
      valueText: '',
      value: undefined,
      mastered: false,
      overridden: input.overridden,
      cssClass: 'lv-insufficient',
    };
  }
  return {
    kind: 'level',
    abbreviation: abbreviations.get(level.id) ?? level.label,
    label: level.label,
    valueText: formatValue(input.value),
    value: input.value,
    mastered: level.mastered,
    overridden: input.overridden,
    cssClass: levelClass(scale, level.id),
  };
}

/** Relative luminance (WCAG 2.1) of a #rrggbb colour. */
export function luminance(hex: string): number {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (match === null) return 0;
  const channel = (part: string | undefined): number => {
    const c = parseInt(part ?? '0', 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(match[1]) + 0.7152 * channel(match[2]) + 0.0722 * channel(match[3]);
}

/** Black or white text, whichever contrasts more with the background. */
export function textColourOn(background: string): '#000000' | '#ffffff' {
  const l = luminance(background);
  const withWhite = 1.05 / (l + 0.05);
  const withBlack = (l + 0.05) / 0.05;
  return withWhite >= withBlack ? '#ffffff' : '#000000';
}

const SAFE_COLOUR = /^#[0-9a-fA-F]{6}$/;

/**
 * The stylesheet of a course's scale (served from the tool, as the CSP allows no inline styles).
 * Colours come from the district's policy, validated again here so nothing else reaches CSS.
 */
export function levelStylesheet(scale: ProficiencyScale): string {
  const lines = scale.levels.map((level, index) => {
    const colour = SAFE_COLOUR.test(level.colour) ? level.colour : '#777777';
    return `.lv-${index} { background-color: ${colour}; color: ${textColourOn(colour)}; }\n.swatch.lv-${index}, .lv-${index} .swatch { background-color: ${colour}; }`;
  });
  return `${lines.join('\n')}\n`;
}

/**
 * One heatmap cell as HTML (`<td>`), every text escaped. The heatmap renders thousands of cells
 * (200 × 60 = 12,000) and a cell has only a few distinct forms, so cells are rendered here once
 * per distinct form and reused, instead of through the template per cell (see bench/heatmap.ts).
 */
export function cellHtml(cell: CellView): string {
  const cls = escapeXml(cell.cssClass);
  if (cell.kind === 'level') {
    const override = cell.overridden
      ? ' <span class="override-mark" aria-hidden="true">✎</span><span class="visually-hidden"> (set by teacher)</span>'
      : '';
    return `<td class="cell ${cls}"><abbr title="${escapeXml(cell.label)}">${escapeXml(cell.abbreviation)}</abbr> <span class="cell-value">${escapeXml(cell.valueText)}</span>${override}</td>`;
  }
  if (cell.kind === 'insufficient') {
    return `<td class="cell ${cls}"><abbr title="Not enough evidence">NE</abbr></td>`;
  }
  return `<td class="cell ${cls}"><span aria-hidden="true">–</span><span class="visually-hidden">No evidence yet</span></td>`;
}
