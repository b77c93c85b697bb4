import { describeMethod } from '../mastery/index.ts';
import type { MasteryMethod } from '../mastery/types.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';
import type { StoredPolicy } from '../policy/stored-policy.ts';

/**
 * The policy form shared by the district page (admin) and the course page (teachers): form fields
 * ↔ a stored policy part. On the course page every select has an "inherit" option ('') meaning
 * "use the district's"; the district page has no scale/conversion inheritance (it is the top).
 */

export type FormBody = Readonly<Record<string, unknown>>;

export const METHOD_KINDS = [
  'mostRecent',
  'highest',
  'mean',
  'median',
  'mode',
  'meanOfMostRecent',
  'nTimes',
  'canvasLegacyDecaying',
  'recursiveDecaying',
  'powerLaw',
] as const;

export const METHOD_LABELS: Record<(typeof METHOD_KINDS)[number], string> = {
  mostRecent: 'Most recent score',
  highest: 'Highest score',
  mean: 'Mean (average)',
  median: 'Median',
  mode: 'Mode (most frequent)',
  meanOfMostRecent: 'Mean of the N most recent',
  nTimes: 'N times at or above a threshold',
  canvasLegacyDecaying: 'Weighted: latest vs. earlier (Canvas legacy)',
  recursiveDecaying: 'Decaying average',
  powerLaw: 'Power law (trend)',
};

/** Each ordering named by the LMS that orders evidence this way (`OrderBy`, src/mastery/types.ts). */
export const ORDER_LABELS = {
  submittedOrLastGraded: 'Canvas: submission time, else the latest grading time',
  graded: 'Schoology: time of the original score',
  due: 'Due date',
  assessed: 'Date given',
  recorded: 'Date recorded in this tool',
} as const;

export const PASSBACK_FIELDS = [
  ['standardColumns', 'One gradebook column per standard'],
  ['courseColumn', 'One overall course mastery column'],
  ['assignmentScores', 'Mastery-based score in each assignment’s own column'],
  [
    'prioritizeNonToolGrade',
    'Canvas: keep a grade a teacher changed in the gradebook (checked before each send; listed on Grade sync, where you can let Mastery Pathways update it again)',
  ],
  ['classroomAssignGrades', 'Google Classroom: assign grades (not only drafts)'],
] as const;

const text = (body: FormBody, name: string): string => {
  const value = body[name];
  return typeof value === 'string' ? value.trim() : '';
};

const list = (body: FormBody, name: string): string[] => {
  const value = body[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
};

export interface FormResult {
  readonly policy: StoredPolicy;
  /** Field name → message; empty when the form is valid as far as the form can tell. */
  readonly errors: Readonly<Record<string, string>>;
}

function numberField(
  body: FormBody,
  name: string,
  errors: Record<string, string>,
  what: string,
  check: (n: number) => boolean,
  rule: string,
): number | undefined {
  const raw = text(body, name);
  if (raw === '') {
    errors[name] = `Enter ${what}.`;
    return undefined;
  }
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) {
    errors[name] = `${what[0]?.toUpperCase() ?? ''}${what.slice(1)} must be ${rule}.`;
    return undefined;
  }
  return n;
}

function methodFrom(body: FormBody, errors: Record<string, string>): MasteryMethod | undefined {
  const kind = text(body, 'method');
  switch (kind) {
    case '':
      return undefined;
    case 'highest':
    case 'mostRecent':
    case 'mean':
    case 'median':
    case 'powerLaw':
      return { kind };
    case 'mode': {
      const tieRule = text(body, 'tieRule');
      if (tieRule !== 'higher' && tieRule !== 'lower' && tieRule !== 'mostRecent') {
        errors.tieRule = 'Choose how ties are broken.';
        return undefined;
      }
      return { kind, tieRule };
    }
    case 'meanOfMostRecent': {
      const n = numberField(
        body,
        'n',
        errors,
        'how many scores (N)',
        (v) => Number.isInteger(v) && v >= 1 && v <= 50,
        'a whole number from 1 to 50',
      );
      return n === undefined ? undefined : { kind, n };
    }
    case 'nTimes': {
      const n = numberField(
        body,
        'n',
        errors,
        'how many times (N)',
        (v) => Number.isInteger(v) && v >= 1 && v <= 50,
        'a whole number from 1 to 50',
      );
      const threshold = numberField(
        body,
        'threshold',
        errors,
        'the threshold',
        () => true,
        'a number',
      );
      return n === undefined || threshold === undefined ? undefined : { kind, n, threshold };
    }
    case 'canvasLegacyDecaying': {
      const weight = numberField(
        body,
        'weightPercent',
        errors,
        'the weight of the latest score',
        (v) => v >= 0 && v <= 100,
        'a percentage from 0 to 100',
      );
      return weight === undefined ? undefined : { kind, weight: weight / 100 };
    }
    case 'recursiveDecaying': {
      const rate = numberField(
        body,
        'ratePercent',
        errors,
        'the weight of each new score',
        (v) => v > 0 && v <= 100,
        'a percentage above 0, up to 100',
      );
      return rate === undefined ? undefined : { kind, rate: rate / 100 };
    }
    default:
      errors.method = 'Choose a calculation method from the list.';
      return undefined;
  }
}

function yesNo(body: FormBody, name: string, errors: Record<string, string>): boolean | undefined {
  const value = text(body, name);
  if (value === '') return undefined;
  if (value === 'yes') return true;
  if (value === 'no') return false;
  errors[name] = 'Choose yes or no.';
  return undefined;
}

/**
 * Reads the form. `district` adds the scale and conversion table (rows `level_<i>_*`,
 * `conversion_<i>_*`; blank rows are ignored) and requires the calculation fields.
 */
export function policyFromForm(body: FormBody, options: { district: boolean }): FormResult {
  const errors: Record<string, string> = {};
  const calculation: NonNullable<StoredPolicy['calculation']> = {};
  const method = methodFrom(body, errors);
  if (method !== undefined) calculation.method = method;
  const minEvidence = text(body, 'minEvidence');
  if (minEvidence !== '') {
    const n = Number(minEvidence);
    if (!Number.isInteger(n) || n < 0 || n > 100) {
      errors.minEvidence = 'Minimum evidence must be a whole number from 0 to 100.';
    } else calculation.minEvidence = n;
  }
  const orderBy = text(body, 'orderBy');
  if (orderBy !== '') {
    if (orderBy in ORDER_LABELS) calculation.orderBy = orderBy as keyof typeof ORDER_LABELS;
    else errors.orderBy = 'Choose which date orders the evidence.';
  }
  const rounding = text(body, 'rounding');
  if (rounding === 'none') calculation.rounding = { mode: 'none' };
  else if (/^[0-4]$/.test(rounding))
    calculation.rounding = { mode: 'halfUp', decimals: Number(rounding) };
  else if (rounding !== '') errors.rounding = 'Choose a rounding.';

  const policy: StoredPolicy = {};
  if (Object.keys(calculation).length > 0) policy.calculation = calculation;

  const rollup = text(body, 'rollup');
  if (rollup === 'mean' || rollup === 'minimum') policy.rollup = { method: rollup };
  else if (rollup !== '') errors.rollup = 'Choose how parent standards roll up.';

  const passback: NonNullable<StoredPolicy['passback']> = {};
  for (const [name] of PASSBACK_FIELDS) {
    const value = yesNo(body, name, errors);
    if (value !== undefined) passback[name] = value;
  }
  if (Object.keys(passback).length > 0) policy.passback = passback;

  const power = list(body, 'powerStandardIds').slice(0, 500);
  if (power.length > 0) policy.powerStandardIds = power;

  if (options.district) {
    const levels = [];
    for (let i = 0; i < 12; i += 1) {
      const label = text(body, `level_${i}_label`);
      const valueText = text(body, `level_${i}_value`);
      if (label === '' && valueText === '') continue;
      const value = Number(valueText);
      if (label === '') errors[`level_${i}_label`] = `Level ${i + 1}: enter a label.`;
      if (valueText === '' || !Number.isFinite(value)) {
        errors[`level_${i}_value`] = `Level ${i + 1}: the value must be a number.`;
      }
      const colour = text(body, `level_${i}_colour`) || '#555555';
      if (!/^#[0-9a-fA-F]{6}$/.test(colour)) {
        errors[`level_${i}_colour`] = `Level ${i + 1}: the colour must look like #2e7d32.`;
      }
      const id =
        text(body, `level_${i}_id`) ||
        label
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '') ||
        `level-${i + 1}`;
      levels.push({
        id: id.slice(0, 40),
        label: label.slice(0, 60),
        value,
        colour,
        mastered: text(body, `level_${i}_mastered`) === 'yes',
      });
    }
    const min = Number(text(body, 'scaleMin'));
    const max = Number(text(body, 'scaleMax'));
    if (text(body, 'scaleMin') === '' || !Number.isFinite(min))
      errors.scaleMin = 'The scale’s lowest value must be a number.';
    if (text(body, 'scaleMax') === '' || !Number.isFinite(max))
      errors.scaleMax = 'The scale’s highest value must be a number.';
    if (levels.length === 0) errors.level_0_label = 'The scale needs at least one level.';
    if (levels.length > 0 && !levels.some((level) => level.mastered)) {
      errors.level_0_mastered = 'Mark at least one level as mastered.';
    }
    policy.scale = { min, max, levels };

    const rows = [];
    for (let i = 0; i < 12; i += 1) {
      const valueText = text(body, `conversion_${i}_value`);
      const percentText = text(body, `conversion_${i}_percent`);
      if (valueText === '' && percentText === '') continue;
      const value = Number(valueText);
      const percent = Number(percentText);
      if (valueText === '' || !Number.isFinite(value))
        errors[`conversion_${i}_value`] =
          `Conversion row ${i + 1}: the level value must be a number.`;
      if (percentText === '' || !Number.isFinite(percent) || percent < 0 || percent > 1000) {
        errors[`conversion_${i}_percent`] =
          `Conversion row ${i + 1}: the percentage must be a number from 0 to 1000.`;
      }
      rows.push({ value, percent });
    }
    if (rows.length === 0)
      errors.conversion_0_value = 'The conversion table needs at least one row.';
    const interpolation = text(body, 'interpolation') === 'linear' ? 'linear' : 'step';
    policy.conversion = { interpolation, rows };
  }
  return { policy, errors };
}

/** The form's initial values from a stored policy part (course page: only what the course sets). */
export function formValues(stored: StoredPolicy, effective: CoursePolicy, district: boolean) {
  const source = district ? effective : undefined;
  const method = stored.calculation?.method ?? source?.calculation.method;
  const values: Record<string, string> = {
    method: method?.kind ?? '',
    tieRule: method?.kind === 'mode' ? method.tieRule : 'mostRecent',
    n: method?.kind === 'meanOfMostRecent' || method?.kind === 'nTimes' ? String(method.n) : '',
    threshold: method?.kind === 'nTimes' ? String(method.threshold) : '',
    weightPercent:
      method?.kind === 'canvasLegacyDecaying'
        ? String(Math.round(method.weight * 10000) / 100)
        : '65',
    ratePercent:
      method?.kind === 'recursiveDecaying' ? String(Math.round(method.rate * 10000) / 100) : '65',
    minEvidence: String(stored.calculation?.minEvidence ?? source?.calculation.minEvidence ?? ''),
    orderBy: stored.calculation?.orderBy ?? source?.calculation.orderBy ?? '',
    rounding: roundingValue(stored.calculation?.rounding ?? source?.calculation.rounding),
    rollup: (stored.rollup ?? source?.rollup)?.method ?? '',
  };
  for (const [name] of PASSBACK_FIELDS) {
    const value = stored.passback?.[name] ?? source?.passback[name];
    values[name] = value === undefined ? '' : value ? 'yes' : 'no';
  }
  return values;
}

function roundingValue(rounding: CoursePolicy['calculation']['rounding'] | undefined): string {
  if (rounding === undefined) return '';
  return rounding.mode === 'none' ? 'none' : String(rounding.decimals);
}

/** A policy in words (the district defaults shown on the course page). */
export function describePolicy(policy: CoursePolicy) {
  const { calculation } = policy;
  return {
    method: describeMethod(calculation.method),
    minEvidence: String(calculation.minEvidence),
    orderBy: ORDER_LABELS[calculation.orderBy],
    rounding:
      calculation.rounding.mode === 'none'
        ? 'No rounding'
        : `Half up to ${calculation.rounding.decimals} decimal${calculation.rounding.decimals === 1 ? '' : 's'}`,
    rollup:
      policy.rollup.method === 'mean'
        ? 'Mean of child standards'
        : policy.rollup.method === 'minimum'
          ? 'Lowest child standard'
          : 'Weighted mean of child standards',
    levels: policy.scale.levels.map((level) => ({
      label: level.label,
      value: String(level.value),
      colour: level.colour,
      mastered: level.mastered,
    })),
    passback: PASSBACK_FIELDS.map(([name, label]) => ({ label, on: policy.passback[name] })),
  };
}
