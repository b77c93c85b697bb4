import { MasteryError } from './errors.ts';
import { EPSILON, formatComputed, formatFactor, formatScore, roundValue } from './numbers.ts';
import { isOnScale, levelForValue } from './scale.ts';
import type { MasteryResult, ProficiencyScale, Rounding } from './types.ts';

/** One row of a district's mastery → percentage table (report cards, LMS gradebooks). */
export interface ConversionRow {
  readonly value: number;
  readonly percent: number;
}

export interface ConversionTable {
  /** Sorted by `value` ascending (use `createConversionTable`). */
  readonly rows: readonly ConversionRow[];
  /**
   * `step`: the row of the highest value <= x (3.7 → the "3" row).
   * `linear`: straight line between the two surrounding rows (3.7 → 85 + 0.7 × 15).
   * Outside the table both use the nearest end row: a floor, not zero (many districts' "no zeros").
   */
  readonly interpolation: 'step' | 'linear';
}

export const DEFAULT_CONVERSION_TABLE: ConversionTable = Object.freeze({
  interpolation: 'step',
  rows: Object.freeze([
    Object.freeze({ value: 1, percent: 55 }),
    Object.freeze({ value: 2, percent: 70 }),
    Object.freeze({ value: 3, percent: 85 }),
    Object.freeze({ value: 4, percent: 100 }),
  ]),
});

const PERCENT_ROUNDING: Rounding = { mode: 'halfUp', decimals: 2 };

export function createConversionTable(table: ConversionTable): ConversionTable {
  if (table.rows.length === 0) {
    throw new MasteryError('INVALID_CONVERSION_TABLE', 'a conversion table needs rows');
  }
  const seen = new Set<number>();
  for (const row of table.rows) {
    if (!Number.isFinite(row.value) || !Number.isFinite(row.percent)) {
      throw new MasteryError('INVALID_CONVERSION_TABLE', 'conversion rows must be numbers');
    }
    if (seen.has(row.value)) {
      throw new MasteryError('INVALID_CONVERSION_TABLE', `two rows for the value ${row.value}`);
    }
    seen.add(row.value);
  }
  const rows = [...table.rows].sort((a, b) => a.value - b.value);
  return Object.freeze({ interpolation: table.interpolation, rows: Object.freeze(rows) });
}

export interface ConversionResult {
  readonly percent: number;
  readonly steps: readonly string[];
}

/** A mastery value (or a level's value) → a percentage through the table. */
export function convertToPercentage(
  value: number,
  table: ConversionTable,
  rounding: Rounding = PERCENT_ROUNDING,
): ConversionResult {
  const rows = table.rows;
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first === undefined || last === undefined) {
    throw new MasteryError('INVALID_CONVERSION_TABLE', 'a conversion table needs rows');
  }
  const shown = formatScore(value);
  if (value <= first.value + EPSILON) {
    const percent = roundValue(first.percent, rounding);
    const why = value < first.value - EPSILON ? ` (below the table: its lowest row)` : '';
    return { percent, steps: [`${shown} → ${formatScore(percent)}%${why}`] };
  }
  if (value >= last.value - EPSILON) {
    const percent = roundValue(last.percent, rounding);
    return { percent, steps: [`${shown} → ${formatScore(percent)}%`] };
  }
  // first.value < value < last.value: find the row pair around value (tables are short).
  let lower = first;
  let upper = last;
  for (let i = 0; i < rows.length - 1; i += 1) {
    const a = rows[i] as ConversionRow;
    const b = rows[i + 1] as ConversionRow;
    if (value >= a.value - EPSILON && value < b.value - EPSILON) {
      lower = a;
      upper = b;
      break;
    }
  }
  if (table.interpolation === 'step' || Math.abs(value - lower.value) <= EPSILON) {
    const percent = roundValue(lower.percent, rounding);
    return {
      percent,
      steps: [
        `${shown} is at or above ${formatScore(lower.value)} → ${formatScore(percent)}% (step table)`,
      ],
    };
  }
  const fraction = (value - lower.value) / (upper.value - lower.value);
  const raw = lower.percent + fraction * (upper.percent - lower.percent);
  const percent = roundValue(raw, rounding);
  return {
    percent,
    steps: [
      `${shown} lies between ${formatScore(lower.value)} (${formatScore(lower.percent)}%) and ${formatScore(upper.value)} (${formatScore(upper.percent)}%)`,
      `${formatScore(lower.percent)} + ${formatComputed(fraction, 4)} × (${formatScore(upper.percent)} − ${formatScore(lower.percent)}) = ${formatScore(percent)}%`,
    ],
  };
}

export type GradeIgnoreReason = 'noResult' | 'notPowerStandard' | 'noScore' | 'noWeight';

export interface GradeResult {
  readonly status: 'graded' | 'noEvidence';
  /** Mean of the level values that went into the grade. */
  readonly meanLevel?: number | undefined;
  readonly percent?: number | undefined;
  readonly explanation: {
    readonly used: readonly {
      readonly standardId: string;
      readonly levelId: string;
      readonly levelValue: number;
      readonly weight: number;
    }[];
    readonly ignored: readonly {
      readonly standardId: string;
      readonly reason: GradeIgnoreReason;
    }[];
    readonly steps: readonly string[];
    readonly studentSummary: string;
  };
}

export interface StandardResultEntry {
  readonly standardId: string;
  readonly result: MasteryResult | undefined;
}

type UsedLevel = GradeResult['explanation']['used'][number];
type IgnoredEntry = GradeResult['explanation']['ignored'][number];

function gradeFrom(
  used: UsedLevel[],
  ignored: IgnoredEntry[],
  table: ConversionTable,
  what: string,
): GradeResult {
  const steps: string[] = [];
  if (ignored.length > 0) {
    steps.push(
      `Not counted: ${ignored.map((entry) => `${entry.standardId} (${entry.reason})`).join(', ')}`,
    );
  }
  if (used.length === 0) {
    steps.push(`No ${what} has a level yet`);
    return {
      status: 'noEvidence',
      explanation: { used, ignored, steps, studentSummary: `No ${what} has a level yet.` },
    };
  }
  let sum = 0;
  let totalWeight = 0;
  for (const entry of used) {
    sum += entry.levelValue * entry.weight;
    totalWeight += entry.weight;
  }
  const meanLevel = sum / totalWeight;
  const unweighted = used.every((entry) => entry.weight === 1);
  steps.push(
    unweighted
      ? `Mean of levels (${used.map((entry) => formatScore(entry.levelValue)).join(', ')}) = ${formatComputed(meanLevel, 2)}`
      : `Weighted mean of levels = (${used.map((entry) => `${formatScore(entry.levelValue)} × ${formatFactor(entry.weight)}`).join(' + ')}) / ${formatFactor(totalWeight)} = ${formatComputed(meanLevel, 2)}`,
  );
  const conversion = convertToPercentage(meanLevel, table);
  steps.push(...conversion.steps);
  return {
    status: 'graded',
    meanLevel,
    percent: conversion.percent,
    explanation: {
      used,
      ignored,
      steps,
      studentSummary: `Your levels on ${used.length} ${what}${used.length === 1 ? '' : 's'} average ${formatComputed(meanLevel, 2)}, which is ${formatScore(conversion.percent)}%.`,
    },
  };
}

/**
 * Overall course grade: the mean of the LEVELS (not raw values) of the selected power standards,
 * through the conversion table. Levels, because report cards promise "Meets = 85", and a 3.4
 * that displays as Meets must not earn more than another Meets.
 */
export function courseMasteryGrade(
  results: readonly StandardResultEntry[],
  powerStandardIds: readonly string[],
  table: ConversionTable,
): GradeResult {
  const power = new Set(powerStandardIds);
  const byId = new Map<string, MasteryResult | undefined>();
  const ignored: IgnoredEntry[] = [];
  for (const { standardId, result } of results) {
    if (power.has(standardId)) byId.set(standardId, result);
    else ignored.push({ standardId, reason: 'notPowerStandard' });
  }
  const used: UsedLevel[] = [];
  for (const standardId of power) {
    const level = byId.get(standardId)?.level;
    if (level === undefined) ignored.push({ standardId, reason: 'noResult' });
    else used.push({ standardId, levelId: level.id, levelValue: level.value, weight: 1 });
  }
  return gradeFrom(used, ignored, table, 'power standard');
}

export interface AlignedStandardScore {
  readonly standardId: string;
  /** Alignment weight of the standard on this assignment (> 0). */
  readonly weight: number;
  /** The score on the proficiency scale for this standard on this assignment, if any. */
  readonly score: number | undefined;
}

/**
 * One assignment's score from the standards aligned to it: each score is mapped to its level,
 * the level values are averaged with the alignment weights, and the mean goes through the table.
 */
export function assignmentMasteryScore(
  alignments: readonly AlignedStandardScore[],
  table: ConversionTable,
  scale: ProficiencyScale,
): GradeResult {
  const used: UsedLevel[] = [];
  const ignored: IgnoredEntry[] = [];
  for (const { standardId, weight, score } of alignments) {
    if (score === undefined || !isOnScale(score, scale)) {
      ignored.push({ standardId, reason: 'noScore' });
    } else if (!(weight > 0 && Number.isFinite(weight))) {
      ignored.push({ standardId, reason: 'noWeight' });
    } else {
      const level = levelForValue(score, scale);
      used.push({ standardId, levelId: level.id, levelValue: level.value, weight });
    }
  }
  return gradeFrom(used, ignored, table, 'aligned standard');
}
