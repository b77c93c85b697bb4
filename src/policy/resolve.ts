import {
  assertUsablePolicy,
  createConversionTable,
  createProficiencyScale,
  MasteryError,
} from '../mastery/index.ts';
import type { MasteryPolicy } from '../mastery/types.ts';
import type { CoursePolicy } from './course-policy.ts';
import { DEFAULT_CALCULATION, DEFAULT_COURSE_POLICY, DEFAULT_PASSBACK } from './defaults.ts';
import { PolicyError, type StoredPolicy } from './stored-policy.ts';

/** Layers stored policy parts over the defaults (district first, then course) and validates the whole. */
export function resolvePolicy(...layers: readonly StoredPolicy[]): CoursePolicy {
  let calculation: MasteryPolicy = DEFAULT_CALCULATION;
  let scale = DEFAULT_COURSE_POLICY.scale;
  let rollup = DEFAULT_COURSE_POLICY.rollup;
  let conversion = DEFAULT_COURSE_POLICY.conversion;
  let powerStandardIds = DEFAULT_COURSE_POLICY.powerStandardIds;
  let passback = DEFAULT_PASSBACK;
  for (const layer of layers) {
    if (layer.calculation !== undefined) {
      const c = layer.calculation;
      calculation = {
        method: c.method ?? calculation.method,
        minEvidence: c.minEvidence ?? calculation.minEvidence,
        orderBy: c.orderBy ?? calculation.orderBy,
        rounding: c.rounding ?? calculation.rounding,
      };
    }
    if (layer.scale !== undefined) scale = layer.scale;
    if (layer.rollup !== undefined) rollup = layer.rollup;
    if (layer.conversion !== undefined) conversion = layer.conversion;
    if (layer.powerStandardIds !== undefined) powerStandardIds = layer.powerStandardIds;
    if (layer.passback !== undefined) {
      const p = layer.passback;
      passback = {
        standardColumns: p.standardColumns ?? passback.standardColumns,
        courseColumn: p.courseColumn ?? passback.courseColumn,
        assignmentScores: p.assignmentScores ?? passback.assignmentScores,
        prioritizeNonToolGrade: p.prioritizeNonToolGrade ?? passback.prioritizeNonToolGrade,
        classroomAssignGrades: p.classroomAssignGrades ?? passback.classroomAssignGrades,
      };
    }
  }
  try {
    const checkedScale = createProficiencyScale(scale);
    assertUsablePolicy(calculation, checkedScale);
    return Object.freeze({
      calculation,
      scale: checkedScale,
      rollup,
      conversion: createConversionTable(conversion),
      powerStandardIds: Object.freeze([...powerStandardIds]),
      passback: Object.freeze(passback),
    });
  } catch (error) {
    if (error instanceof MasteryError) throw new PolicyError([error.message], { cause: error });
    throw error;
  }
}
