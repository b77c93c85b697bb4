/** Public surface of the pure mastery calculation. */
export { calculateMastery, describeMethod, describeOrder } from './calculate.ts';
export { MasteryError, type MasteryErrorCode } from './errors.ts';
export {
  canvasLegacyDecaying,
  highest,
  mean,
  meanOfMostRecent,
  median,
  mode,
  mostRecent,
  nTimes,
  powerLaw,
  recursiveDecaying,
  runMethod,
  type MethodExclusion,
  type MethodInput,
  type MethodOutcome,
} from './methods.ts';
export { roundValue } from './numbers.ts';
export { applyOverride, type MasteryOverride } from './override.ts';
export {
  assertUsablePolicy,
  masteryMethodSchema,
  masteryPolicySchema,
  ORDER_BY_VALUES,
  orderBySchema,
  parseMasteryPolicy,
} from './policy.ts';
export {
  rollUpStandard,
  type RollUpChild,
  type RollUpIgnoreReason,
  type RollUpResult,
  type RollUpRule,
} from './rollup.ts';
export {
  createProficiencyScale,
  DEFAULT_PROFICIENCY_SCALE,
  findLevel,
  isOnScale,
  levelForValue,
} from './scale.ts';
export {
  assignmentMasteryScore,
  convertToPercentage,
  courseMasteryGrade,
  createConversionTable,
  DEFAULT_CONVERSION_TABLE,
  type AlignedStandardScore,
  type ConversionResult,
  type ConversionRow,
  type ConversionTable,
  type GradeResult,
  type StandardResultEntry,
} from './conversion.ts';
export type * from './types.ts';
