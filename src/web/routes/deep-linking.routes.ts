import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AppServices } from '../../app-services.ts';
import {
  answerDeepLinking,
  findDeepLinkingRequest,
  offersColumn,
  type DeepLinkingDeps,
} from '../../launch/deep-linking-response.ts';
import type { Logger } from '../../logger.ts';
import { allowFormActionTo } from '../middleware/security.ts';
import {
  requireCsrf,
  requireInstructor,
  roleLabel,
  viewer,
  type ToolViewer,
} from '../middleware/session.ts';
import { LTI_PATHS } from './lti.routes.ts';

// Kept here too: the tag is part of what this page group sends.
export { TOOL_LINE_ITEM_TAG } from '../../launch/deep-linking-response.ts';

const form = express.urlencoded({ extended: false, limit: '64kb' });

/** Standards a Deep Linking item may be tagged to at once. */
const MAX_STANDARDS = 50;

const activitySchema = z.object({
  title: z
    .string()
    .trim()
    .min(1, { error: 'Give the activity a name.' })
    .max(200, { error: 'Keep the name under 200 characters.' }),
  gradebook: z.literal('yes').optional(),
  scoreMaximum: z.coerce
    .number({ error: 'Points must be a number.' })
    .positive({ error: 'Points must be more than 0.' })
    .max(1000, { error: 'Points must be 1000 or less.' }),
});

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

function standardLabel(standard: { code: string | undefined; statement: string }): string {
  return [standard.code, standard.statement].filter((part) => part !== undefined).join(' ');
}

interface ActivityValues {
  title: string;
  gradebook: boolean;
  scoreMaximum: string;
  standards: string[];
}

interface PageDeps {
  readonly services: AppServices;
  readonly deepLinking: DeepLinkingDeps;
}

interface ChooseModel {
  offerColumn: boolean;
  hasCourse: boolean;
  values: ActivityValues;
  query: string;
  errors: Record<string, string>;
}

/** The choose page: the activity's name, points and standards (chosen, and found by a search). */
async function renderChoose(
  deps: PageDeps,
  res: Response,
  v: ToolViewer,
  model: ChooseModel,
): Promise<void> {
  const alignment = deps.services.alignment;
  const chosen = await alignment.describeStandards(v.tenantId, model.values.standards);
  const results =
    model.hasCourse && model.query.trim() !== ''
      ? await alignment.searchStandards(v.tenantId, model.query)
      : [];
  res.status(Object.keys(model.errors).length > 0 ? 422 : 200).render('deep-linking/choose', {
    layout: 'tool',
    nav: [],
    viewer: { name: v.user.name ?? 'Signed in', roleLabel: roleLabel(v) },
    base: v.base,
    csrf: v.session.csrfSecret,
    title: 'Add Mastery Pathways to your course',
    styles: ['alignment'],
    scripts: ['standards-picker'],
    searchUrl: `${v.base}/course/standards/search`,
    offerColumn: model.offerColumn,
    hasCourse: model.hasCourse,
    values: model.values,
    errors: model.errors,
    query: model.query,
    searched: model.query.trim() !== '',
    selected: model.values.standards.flatMap((id) => {
      const standard = chosen.get(id);
      return standard === undefined ? [] : [{ id, label: standardLabel(standard) }];
    }),
    results: results.map((r) => ({
      id: r.id,
      label: standardLabel(r),
      framework: r.frameworkTitle,
      chosen: model.values.standards.includes(r.id),
    })),
  });
}

async function pending(deps: PageDeps, req: Request) {
  const v = viewer(req);
  const request = await findDeepLinkingRequest(deps.deepLinking, {
    tenantId: v.tenantId,
    sessionId: v.session.id,
  });
  return { v, request };
}

function choosePage(deps: PageDeps): RequestHandler {
  return async function showDeepLinkingChoice(req, res) {
    const { v, request } = await pending(deps, req);
    const query = req.query as Record<string, unknown>;
    // The page without JavaScript keeps its state in the URL: a search or an "Add" button is a
    // GET of this page with every field of the form.
    const resumed = typeof query.title === 'string';
    const standards = [...listOf(query.standard), ...listOf(query.add)];
    await renderChoose(deps, res, v, {
      offerColumn: offersColumn(request.settings),
      hasCourse: (request.courseId ?? v.session.courseId) !== undefined,
      values: resumed
        ? {
            title: String(query.title).slice(0, 200),
            gradebook: query.gradebook === 'yes',
            scoreMaximum: typeof query.scoreMaximum === 'string' ? query.scoreMaximum : '',
            standards: [...new Set(standards)].slice(0, MAX_STANDARDS),
          }
        : {
            title: request.settings.title ?? '',
            gradebook: true,
            scoreMaximum: '4',
            standards: [],
          },
      query: typeof query.q === 'string' ? query.q.slice(0, 200) : '',
      errors: {},
    });
  };
}

function addActivity(deps: PageDeps): RequestHandler {
  return async function answerDeepLinkingForm(req, res) {
    const { v, request } = await pending(deps, req);
    const body = req.body as Record<string, unknown>;
    const courseId = request.courseId ?? v.session.courseId;
    const values: ActivityValues = {
      title: typeof body.title === 'string' ? body.title : '',
      gradebook: body.gradebook === 'yes',
      scoreMaximum: typeof body.scoreMaximum === 'string' ? body.scoreMaximum : '',
      standards: [...new Set(listOf(body.standard))],
    };
    const parsed = activitySchema.safeParse(body);
    const standardsError =
      values.standards.length > MAX_STANDARDS
        ? `Choose at most ${MAX_STANDARDS} standards.`
        : values.standards.length > 0 && courseId === undefined
          ? 'Standards can be chosen only when adding from a course.'
          : undefined;
    const formAgain = (errors: Record<string, string>) =>
      renderChoose(deps, res, v, {
        offerColumn: offersColumn(request.settings),
        hasCourse: courseId !== undefined,
        values,
        query: '',
        errors,
      });
    if (!parsed.success || standardsError !== undefined) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.success ? [] : parsed.error.issues) {
        const field = String(issue.path[0] ?? 'form');
        errors[field] ??= issue.message;
      }
      if (standardsError !== undefined) errors.standards = standardsError;
      await formAgain(errors);
      return;
    }
    const answer = await answerDeepLinking(deps.deepLinking, {
      tenantId: v.tenantId,
      userId: v.user.id,
      courseId,
      request,
      activity: {
        title: parsed.data.title,
        scoreMaximum: parsed.data.scoreMaximum,
        gradebook: parsed.data.gradebook === 'yes',
        standards: values.standards,
      },
    });
    if (answer.outcome === 'standards_refused') {
      await formAgain({ standards: answer.message });
      return;
    }
    allowFormActionTo(res, new URL(answer.returnUrl).origin);
    res.render('deep-linking/return', {
      layout: 'minimal',
      title: 'Returning to your LMS',
      returnUrl: answer.returnUrl,
      jwt: answer.jwt,
    });
  };
}

/**
 * Deep Linking (LTI DL 2.0): the LMS opened the tool to pick something to add to the course. The
 * teacher names the activity, picks the standards it assesses and its points; the tool answers
 * with a signed LtiDeepLinkingResponse (`launch/deep-linking-response.ts`).
 */
export function deepLinkingPages(
  router: Router,
  deps: { services: AppServices; publicUrl: string; logger: Logger },
): void {
  const { services, publicUrl, logger } = deps;
  const pageDeps: PageDeps = {
    services,
    deepLinking: { ...services, logger, launchUrl: `${publicUrl}${LTI_PATHS.launch}` },
  };
  router.get('/deep-link', requireInstructor, choosePage(pageDeps));
  router.post('/deep-link', form, requireInstructor, requireCsrf, addActivity(pageDeps));
}
