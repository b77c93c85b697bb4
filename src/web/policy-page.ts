import type { StoredPolicy } from '../policy/stored-policy.ts';
import type { EvidenceUseCases as MasteryServices } from '../evidence/create-use-cases.ts';
import { savePolicyChange, type RecomputeJob } from '../evidence/use-cases.ts';
import { METHOD_LABELS, ORDER_LABELS, PASSBACK_FIELDS, type FormBody } from './policy-form.ts';

/**
 * What the district policy page (admin) and the course policy page (teachers) share beyond the form
 * itself (policy-form.ts): saving a sent form, the form's choices and the recalculation page.
 */

/** A policy form shown again after a refused save: what was typed, and why nothing changed. */
export interface RefusedPolicyForm {
  readonly status: 422;
  readonly values: Record<string, string>;
  readonly errors?: Readonly<Record<string, string>>;
  readonly summary: string;
}

/**
 * Saves the policy a form sent for one district (`courseId: null`) or one course of it. Fields that
 * need correcting, or a policy the mastery service refuses, save nothing: `showAgain` renders the
 * form with what was typed and the answer is undefined. Otherwise the recalculation job the save
 * started.
 */
export async function savePolicyForm(
  mastery: Pick<MasteryServices, 'savePolicy'>,
  target: { readonly tenantId: string; readonly courseId: string | null; readonly actor: string },
  sent: {
    readonly body: FormBody;
    readonly policy: StoredPolicy | null;
    readonly errors: Readonly<Record<string, string>>;
  },
  showAgain: (form: RefusedPolicyForm) => Promise<void>,
): Promise<RecomputeJob | undefined> {
  const values = Object.fromEntries(
    Object.entries(sent.body).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  if (Object.keys(sent.errors).length > 0) {
    await showAgain({
      status: 422,
      values,
      errors: sent.errors,
      summary: 'Some settings need correcting; nothing was changed.',
    });
    return undefined;
  }
  const saved = await savePolicyChange(mastery, {
    tenantId: target.tenantId,
    courseId: target.courseId,
    policy: sent.policy,
    actor: target.actor,
  });
  if (saved.ok) return saved.job;
  await showAgain({
    status: 422,
    values,
    summary: `This policy would not work: ${saved.problem}. Nothing was changed.`,
  });
  return undefined;
}

/** The choices of the policy form's selects and passback checkboxes. */
export function policyChoices() {
  return {
    methods: Object.entries(METHOD_LABELS).map(([value, label]) => ({ value, label })),
    orders: Object.entries(ORDER_LABELS).map(([value, label]) => ({ value, label })),
    passbackFields: PASSBACK_FIELDS.map(([name, label]) => ({ name, label })),
  };
}

/** When a policy changed, to the minute, as both policy pages list it. */
export function changedAtLabel(at: Date): string {
  return `${at.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

/**
 * The recalculation page's model (evidence/job) without layout and back link: while the job runs
 * the page refreshes itself (a script, or a meta refresh without JavaScript).
 */
export function recalculationPage(job: RecomputeJob) {
  const running = job.status === 'queued' || job.status === 'running';
  return {
    styles: ['evidence'],
    scripts: running ? ['job-progress'] : [],
    refreshSeconds: running ? 2 : undefined,
    job: {
      status: job.status,
      done: job.done,
      total: job.total,
      percent: job.total === 0 ? (running ? 0 : 100) : Math.round((job.done / job.total) * 100),
      error: job.error,
      running,
    },
  };
}
