import type { Request, Response } from 'express';
import { coursePolicyOverview } from '../../../evidence/use-cases.ts';
import { describeMethod } from '../../../mastery/index.ts';
import { notFound } from '../../errors.ts';
import { describePolicy, formValues, policyFromForm } from '../../policy-form.ts';
import {
  changedAtLabel,
  policyChoices,
  recalculationPage,
  savePolicyForm,
} from '../../policy-page.ts';
import {
  launchedCourse,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';
import { actorOf, body, field, param } from './shared.ts';

/** The course's own mastery policy (over the district's) and its recalculation page. */

interface PolicyFormState {
  status?: number;
  values?: Record<string, string>;
  errors?: Readonly<Record<string, string>>;
  summary?: string;
}

async function renderPolicy(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
  options: PolicyFormState = {},
): Promise<void> {
  const { v, course } = await launchedCourse(deps, req);
  const overview = await coursePolicyOverview(deps.services.mastery, {
    tenantId: v.tenantId,
    courseId: course.id,
  });
  const { stored, districtPolicy, effective, latestJob } = overview;
  const power = new Set(stored.course?.powerStandardIds ?? []);
  res.status(options.status ?? 200).render('evidence/policy', {
    ...layoutModel(v, 'evidence'),
    title: 'Course mastery policy',
    styles: ['evidence'],
    district: describePolicy(districtPolicy),
    effective:
      effective === undefined
        ? undefined
        : { method: describeMethod(effective.calculation.method) },
    policyProblem: overview.policyProblem,
    hasOverride: stored.course !== undefined,
    values: options.values ?? formValues(stored.course ?? {}, districtPolicy, false),
    errors: options.errors ?? {},
    summary: options.summary,
    ...policyChoices(),
    standards: [...overview.standards].map(([id, label]) => ({
      id,
      label,
      checked: power.has(id),
    })),
    powerSet: stored.course?.powerStandardIds !== undefined,
    changes: overview.changes.map((c) => ({
      by: c.changedBy === v.user.id ? 'You' : 'Another teacher',
      at: changedAtLabel(c.changedAt),
    })),
    job:
      latestJob === undefined
        ? undefined
        : {
            id: latestJob.id,
            status: latestJob.status,
            done: latestJob.done,
            total: latestJob.total,
          },
  });
}

/** GET the course policy form. */
export const showCoursePolicy: CourseHandler = async (deps, req, res) => {
  await renderPolicy(deps, req, res);
};

/** POST the course policy (or `reset=1`: back to the district's); then watch the recalculation. */
export const saveCoursePolicy: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const reset = field(req, 'reset') === '1';
  const { policy, errors } = reset
    ? { policy: null, errors: {} }
    : policyFromForm(body(req), { district: false });
  const job = await savePolicyForm(
    deps.services.mastery,
    { tenantId: v.tenantId, courseId: course.id, actor: actorOf(v) },
    { body: body(req), policy, errors },
    (refused) => renderPolicy(deps, req, res, refused),
  );
  if (job === undefined) return;
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, jobId: job.id },
    'course policy changed',
  );
  res.redirect(303, `${v.base}/course/policy/jobs/${job.id}`);
};

/** GET the progress of one of the course's recalculations. */
export const showCourseRecalculation: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const job = await deps.services.mastery.job(v.tenantId, param(req, 'jobId'));
  // A district-wide recalculation is the district admin's to watch, not a course's.
  if (job === undefined || job.courseId !== course.id) {
    throw notFound('There is no such recalculation for this course.');
  }
  res.render('evidence/job', {
    ...layoutModel(v, 'evidence'),
    title: 'Recalculating mastery',
    ...recalculationPage(job),
    backHref: `${v.base}/course/policy`,
  });
};
