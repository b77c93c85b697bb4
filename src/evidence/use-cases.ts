import type { AreaDeps } from '../area-deps.ts';
import { toLmsError } from '../lms/translate.ts';
import type {
  AssignmentWithStandards,
  CourseLearner,
} from '../storage/mastery/course-context.repository.ts';
import { createEvidenceRepository } from '../storage/mastery/evidence.repository.ts';
import type { RecomputeJob } from '../storage/mastery/policy.repository.ts';
import { isUuid } from '../ids.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';
import { formatCell } from './grid.ts';
import { importLmsResults, type LmsImportOutcome } from './imports.ts';
import { readLineItemResults } from './lms-results.ts';
import { DEFAULT_COURSE_POLICY } from '../policy/defaults.ts';
import type { StoredPolicy } from '../policy/stored-policy.ts';
import type { EvidenceUseCases as MasteryServices } from './create-use-cases.ts';
import { EvidenceError, type EntryProblem } from './errors.ts';
import type { RecordEvidenceInput } from './record.ts';

/**
 * Use cases of the evidence pages (entry grid, LMS score import, course policy, overrides), each
 * one call for a route. Refusals a form shows again come back as values, not exceptions, so the
 * routes keep no translating `try/catch`.
 */

export type { AssignmentWithStandards, CourseLearner, RecomputeJob };

interface CourseScope {
  readonly tenantId: string;
  readonly courseId: string;
}

/** One assignment of the course with its aligned standards, or undefined (not a UUID, elsewhere). */
export async function findCourseAssignment(
  mastery: Pick<MasteryServices, 'courseContext'>,
  scope: CourseScope,
  assignmentId: string,
): Promise<AssignmentWithStandards | undefined> {
  if (!isUuid(assignmentId)) return undefined;
  const [assignment] = await mastery.courseContext.assignments(scope.tenantId, scope.courseId, [
    assignmentId,
  ]);
  return assignment;
}

/** The current (not withdrawn) evidence of an assignment's cells, as the grid shows it. */
export async function currentGridCells(
  deps: Pick<AreaDeps, 'db' | 'now'>,
  scope: { readonly tenantId: string; readonly assignmentId: string },
  studentIds: readonly string[],
): Promise<{ studentId: string; itemId: string; text: string }[]> {
  const rows = await createEvidenceRepository(deps.db, deps.now).findAssignmentCells(
    scope.tenantId,
    scope.assignmentId,
    studentIds,
    false,
  );
  return rows
    .filter((row) => row.deleted_at === null)
    .map((row) => ({ studentId: row.student_id, itemId: row.item_id, text: formatCell(row) }));
}

/**
 * Records the cells a teacher typed. Entries the evidence area refuses save nothing and come back
 * as problems (index into `entries`), for the grid to show beside their cells.
 */
export async function recordGridEvidence(
  mastery: Pick<MasteryServices, 'recordEvidence'>,
  input: RecordEvidenceInput,
): Promise<{ saved: number; problems: readonly EntryProblem[] }> {
  try {
    const result = await mastery.recordEvidence(input);
    return { saved: result.saved, problems: [] };
  } catch (error) {
    if (!(error instanceof EvidenceError) || error.code !== 'invalid_entries') throw error;
    return { saved: 0, problems: error.problems };
  }
}

/** What an LMS score import ended with: the counts, or the LMS's refusal in words. */
export type LmsScoresImport =
  | { readonly ok: true; readonly outcome: LmsImportOutcome }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * Reads the results of the assignment's own LMS column and records them as evidence (source
 * 'lms'). An LMS that refuses or fails (no result scope, an HTTP error) is an answer for the
 * teacher, not a fault of the tool.
 */
export async function importLmsScores(
  services: Parameters<typeof readLineItemResults>[0] & { readonly mastery: MasteryServices },
  input: CourseScope & {
    readonly actor: string;
    readonly assignment: AssignmentWithStandards & { readonly lineItemUrl: string };
  },
): Promise<LmsScoresImport> {
  let results;
  try {
    results = await readLineItemResults(
      services,
      input.tenantId,
      input.courseId,
      input.assignment.lineItemUrl,
    );
  } catch (error) {
    // The LMS's refusal or failure, in the neutral kinds; the teacher reads its own words.
    const refused = toLmsError(error);
    if (refused === undefined) throw error;
    const message = error instanceof Error ? error.message : refused.message;
    return { ok: false, code: `lms.${refused.kind}.${refused.reason ?? 'unknown'}`, message };
  }
  const outcome = await importLmsResults(services.mastery, {
    tenantId: input.tenantId,
    courseId: input.courseId,
    actor: input.actor,
    assignment: input.assignment,
    results,
    lineItemMaximum: undefined,
  });
  return { ok: true, outcome };
}

/**
 * What the course policy page shows: the stored parts, the district's policy, the change log, the
 * latest recalculation, the course's aligned standards, and the effective policy (or why the
 * stored parts no longer make one).
 */
export async function coursePolicyOverview(mastery: MasteryServices, scope: CourseScope) {
  const { tenantId, courseId } = scope;
  const [stored, districtPolicy, changes, latestJob, assignments] = await Promise.all([
    mastery.storedPolicies(tenantId, courseId),
    mastery.loadCoursePolicy(tenantId, null),
    mastery.policyChanges(tenantId, courseId),
    mastery.latestJob(tenantId, courseId),
    mastery.courseContext.assignments(tenantId, courseId),
  ]);
  let effective: CoursePolicy | undefined;
  let policyProblem: string | undefined;
  try {
    effective = await mastery.loadCoursePolicy(tenantId, courseId);
  } catch (error) {
    policyProblem = error instanceof Error ? error.message : String(error);
  }
  const standards = new Map<string, string>();
  for (const a of assignments)
    for (const s of a.standards) standards.set(s.itemId, s.code ?? s.statement.slice(0, 40));
  return { stored, districtPolicy, changes, latestJob, effective, policyProblem, standards };
}

/** A saved policy's recalculation, or why the policy would not work (nothing saved). */
export type PolicySave =
  | { readonly ok: true; readonly job: RecomputeJob }
  | { readonly ok: false; readonly problem: string };

/**
 * Saves the district's (`courseId: null`) or one course's policy part and starts the
 * recalculation; `policy: null` removes a course's override.
 */
export async function savePolicyChange(
  mastery: Pick<MasteryServices, 'savePolicy'>,
  input: {
    readonly tenantId: string;
    readonly courseId: string | null;
    readonly policy: StoredPolicy | null;
    readonly actor: string;
  },
): Promise<PolicySave> {
  try {
    const { job } = await mastery.savePolicy(input);
    return { ok: true, job };
  } catch (error) {
    if (error instanceof EvidenceError && error.code === 'invalid_policy') {
      return { ok: false, problem: error.message };
    }
    throw error;
  }
}

/** Sets a teacher's override of one cell, or says why it was refused (nothing saved). */
export async function saveOverride(
  mastery: Pick<MasteryServices, 'setOverride'>,
  input: Parameters<MasteryServices['setOverride']>[0],
): Promise<{ readonly ok: true } | { readonly ok: false; readonly message: string }> {
  try {
    await mastery.setOverride(input);
    return { ok: true };
  } catch (error) {
    if (!(error instanceof EvidenceError) || error.code !== 'invalid_override') throw error;
    return { ok: false, message: error.message };
  }
}

/**
 * What the district policy page shows: the stored district part, the effective district policy
 * (the defaults when the stored part no longer makes one), the latest recalculation and the
 * change log.
 */
export async function districtPolicyOverview(mastery: MasteryServices, tenantId: string) {
  const [stored, effective, latestJob, changes] = await Promise.all([
    mastery.storedPolicies(tenantId, null),
    mastery.loadCoursePolicy(tenantId, null).catch(() => DEFAULT_COURSE_POLICY),
    mastery.latestJob(tenantId, null),
    mastery.policyChanges(tenantId, null),
  ]);
  return { stored, effective, latestJob, changes };
}

/** The course's assignments with their aligned standards (the evidence start page). */
export function evidenceAssignments(
  mastery: Pick<MasteryServices, 'courseContext'>,
  scope: CourseScope,
): Promise<AssignmentWithStandards[]> {
  return mastery.courseContext.assignments(scope.tenantId, scope.courseId);
}

/** What the entry grid shows around an assignment: the course's learners and its policy. */
export async function gridSetting(
  mastery: Pick<MasteryServices, 'courseContext' | 'loadCoursePolicy'>,
  scope: CourseScope,
) {
  const [learners, policy] = await Promise.all([
    mastery.courseContext.learners(scope.tenantId, scope.courseId),
    mastery.loadCoursePolicy(scope.tenantId, scope.courseId),
  ]);
  return { learners, policy };
}

/** The learner and the standard an override names, or undefined when either is not in the course. */
export async function findOverrideTarget(
  mastery: Pick<MasteryServices, 'courseContext'>,
  scope: CourseScope,
  studentId: string,
  itemId: string,
) {
  const [learners, item] = await Promise.all([
    isUuid(studentId)
      ? mastery.courseContext.learners(scope.tenantId, scope.courseId, [studentId])
      : Promise.resolve([]),
    mastery.courseContext.item(scope.tenantId, itemId),
  ]);
  const learner = learners[0];
  return learner === undefined || item === undefined ? undefined : { learner, item };
}

/** The cell an override page shows: the course's scale and the stored result (if any). */
export async function overrideCell(
  mastery: Pick<MasteryServices, 'loadCoursePolicy' | 'currentResult'>,
  scope: CourseScope,
  studentId: string,
  itemId: string,
) {
  const [policy, current] = await Promise.all([
    mastery.loadCoursePolicy(scope.tenantId, scope.courseId),
    mastery.currentResult(scope.tenantId, scope.courseId, studentId, itemId),
  ]);
  return { policy, current };
}
