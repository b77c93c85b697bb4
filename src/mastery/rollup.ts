import { MasteryError } from './errors.ts';
import {
  displayDecimals,
  EPSILON,
  equalsExact,
  formatFactor,
  formatScore,
  roundValue,
} from './numbers.ts';
import { levelForValue } from './scale.ts';
import type { MasteryResult, ProficiencyLevel, ProficiencyScale, Rounding } from './types.ts';

export interface RollUpChild {
  readonly standardId: string;
  /** The child's result (an override counts as the child's value); `undefined` if none yet. */
  readonly result: MasteryResult | undefined;
}

export type RollUpRule =
  | { readonly method: 'mean' }
  /** The weakest child decides: a parent is mastered only when every child is. */
  | { readonly method: 'minimum' }
  | { readonly method: 'weighted'; readonly weights: Readonly<Record<string, number>> };

export type RollUpIgnoreReason = 'noResult' | 'noEvidence' | 'insufficientEvidence' | 'noWeight';

export interface RollUpUsedChild {
  readonly standardId: string;
  readonly value: number;
  readonly levelId: string;
  readonly weight: number;
  readonly overridden: boolean;
}

export interface RollUpResult {
  readonly status: 'mastery' | 'noEvidence';
  readonly value?: number | undefined;
  readonly level?: ProficiencyLevel | undefined;
  readonly explanation: {
    readonly rule: RollUpRule;
    readonly used: readonly RollUpUsedChild[];
    readonly ignored: readonly {
      readonly standardId: string;
      readonly reason: RollUpIgnoreReason;
    }[];
    readonly steps: readonly string[];
    readonly studentSummary: string;
  };
}

/**
 * A parent standard's mastery from its children's results. Children without a value are left out
 * and listed (they must not count as zero: "not yet assessed" is not "failed").
 */
export function rollUpStandard(
  children: readonly RollUpChild[],
  rule: RollUpRule,
  scale: ProficiencyScale,
  rounding: Rounding = { mode: 'halfUp', decimals: 2 },
): RollUpResult {
  if (rule.method === 'weighted') {
    for (const weight of Object.values(rule.weights)) {
      if (!(weight >= 0 && Number.isFinite(weight))) {
        throw new MasteryError('INVALID_ROLLUP', 'roll-up weights must be finite and >= 0');
      }
    }
  }
  const decimals = displayDecimals(rounding);
  const used: RollUpUsedChild[] = [];
  const ignored: { standardId: string; reason: RollUpIgnoreReason }[] = [];
  for (const { standardId, result } of children) {
    if (result === undefined) {
      ignored.push({ standardId, reason: 'noResult' });
      continue;
    }
    if (result.status !== 'mastery' || result.value === undefined || result.level === undefined) {
      ignored.push({
        standardId,
        reason: result.status === 'mastery' ? 'noResult' : result.status,
      });
      continue;
    }
    let weight = 1;
    if (rule.method === 'weighted') {
      const given = rule.weights[standardId];
      if (given === undefined || !(given > 0 && Number.isFinite(given))) {
        ignored.push({ standardId, reason: 'noWeight' });
        continue;
      }
      weight = given;
    }
    used.push({
      standardId,
      value: result.value,
      levelId: result.level.id,
      weight,
      overridden: result.override !== undefined,
    });
  }

  const steps: string[] = [];
  if (ignored.length > 0) {
    steps.push(
      `Not counted: ${ignored.map((child) => `${child.standardId} (${child.reason})`).join(', ')}`,
    );
  }
  if (used.length === 0) {
    steps.push('No child standard has a result yet');
    return {
      status: 'noEvidence',
      explanation: {
        rule,
        used,
        ignored,
        steps,
        studentSummary: 'None of the parts of this standard have a level yet.',
      },
    };
  }

  const values = used.map((child) => formatScore(child.value)).join(', ');
  let raw: number;
  switch (rule.method) {
    case 'mean': {
      let sum = 0;
      for (const child of used) sum += child.value;
      raw = sum / used.length;
      steps.push(
        `Mean of child standards (${values}) = ${formatScore(sum)} / ${used.length} ${equalsExact(raw, decimals)}`,
      );
      break;
    }
    case 'minimum': {
      raw = Infinity;
      for (const child of used) if (child.value < raw) raw = child.value;
      steps.push(`Lowest of child standards (${values}) = ${formatScore(raw)}`);
      break;
    }
    case 'weighted': {
      let sum = 0;
      let totalWeight = 0;
      for (const child of used) {
        sum += child.value * child.weight;
        totalWeight += child.weight;
      }
      raw = sum / totalWeight;
      const terms = used.map(
        (child) => `${formatScore(child.value)} × ${formatFactor(child.weight)}`,
      );
      steps.push(
        `Weighted mean of child standards = (${terms.join(' + ')}) / ${formatFactor(totalWeight)} ${equalsExact(raw, decimals)}`,
      );
      break;
    }
  }
  const value = roundValue(raw, rounding);
  if (rounding.mode === 'halfUp' && Math.abs(value - raw) > EPSILON) {
    steps.push(
      `Rounded to ${rounding.decimals} decimal${rounding.decimals === 1 ? '' : 's'}: ${formatScore(value)}`,
    );
  }
  const level = levelForValue(value, scale);
  steps.push(`${formatScore(value)} → ${level.label}${level.mastered ? ' (mastered)' : ''}`);
  const how =
    rule.method === 'minimum'
      ? 'your lowest level among its parts'
      : rule.method === 'mean'
        ? 'the average of its parts'
        : 'a weighted average of its parts';
  return {
    status: 'mastery',
    value,
    level,
    explanation: {
      rule,
      used,
      ignored,
      steps,
      studentSummary: `This standard is ${how}: ${level.label} (${formatScore(value)}).`,
    },
  };
}
