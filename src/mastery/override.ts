import { MasteryError } from './errors.ts';
import { formatScore } from './numbers.ts';
import { findLevel, isOnScale, levelForValue } from './scale.ts';
import type { MasteryResult, ProficiencyLevel, ProficiencyScale } from './types.ts';

interface OverrideBase {
  /** Why the teacher overrode; shown to other teachers and kept for audit. */
  readonly reason: string;
  /** Who overrode (a display name or user key; the caller decides). */
  readonly by: string;
  readonly at: Date;
}

/** A teacher sets either a value on the scale or a level (whose threshold becomes the value). */
export type MasteryOverride = OverrideBase &
  (
    | { readonly value: number; readonly levelId?: undefined }
    | { readonly levelId: string; readonly value?: undefined }
  );

/**
 * Teacher judgement wins, but the computed result stays beside it (`override.computed`) and in
 * the explanation, so the calculation remains auditable and can be restored by dropping the
 * override. Applying an override to an overridden result replaces the override but keeps the
 * original computed values.
 */
export function applyOverride(
  result: MasteryResult,
  override: MasteryOverride,
  scale: ProficiencyScale,
): MasteryResult {
  if (override.reason.trim() === '') {
    throw new MasteryError('INVALID_OVERRIDE', 'an override needs a reason');
  }
  let value: number;
  let level: ProficiencyLevel;
  if (override.levelId !== undefined) {
    level = findLevel(override.levelId, scale);
    value = level.value;
  } else {
    if (!isOnScale(override.value, scale)) {
      throw new MasteryError(
        'INVALID_OVERRIDE',
        `override value ${override.value} lies outside [${scale.min}, ${scale.max}]`,
      );
    }
    value = override.value;
    level = levelForValue(value, scale);
  }
  const computed = result.override?.computed ?? {
    status: result.status,
    value: result.value,
    level: result.level,
  };
  const computedText =
    computed.value === undefined || computed.level === undefined
      ? `no computed result (${computed.status})`
      : `computed ${formatScore(computed.value)} (${computed.level.label})`;
  const explanation = result.explanation;
  // Re-overriding replaces the note instead of stacking "your teacher set..." sentences.
  const previousNote = result.override === undefined ? '' : overrideNote(result.override.level);
  const computedSummary = explanation.studentSummary.endsWith(previousNote)
    ? explanation.studentSummary.slice(0, explanation.studentSummary.length - previousNote.length)
    : explanation.studentSummary;
  return {
    status: 'mastery',
    value,
    level,
    override: { value, level, reason: override.reason, by: override.by, at: override.at, computed },
    explanation: {
      ...explanation,
      steps: [
        ...explanation.steps,
        `Teacher override by ${override.by} on ${override.at.toISOString().slice(0, 10)}: ${formatScore(value)} (${level.label}) replaces ${computedText}. Reason: ${override.reason}`,
      ],
      studentSummary: computedSummary + overrideNote(level),
    },
  } satisfies MasteryResult;
}

function overrideNote(level: ProficiencyLevel): string {
  return ` Your teacher set your level to ${level.label}.`;
}
