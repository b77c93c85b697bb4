import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import { assignmentResourceId } from '../../alignment/assignments.ts';
import { AlignmentError } from '../../alignment/errors.ts';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import type { DeepLinkingSettings } from '../../lti/claims.ts';
import { buildDeepLinkingResponse, ltiResourceLinkItem } from '../../lti/deep-linking.ts';
import { randomToken } from '../../lti/login.ts';
import { createToolSigner } from '../../lti/tool-keys.ts';
import { HttpError } from '../errors.ts';
import { allowFormActionTo } from '../middleware/security.ts';
import { requireCsrf, requireInstructor, roleLabel, viewer } from '../middleware/session.ts';
import { LTI_PATHS } from './lti.routes.ts';

const form = express.urlencoded({ extended: false, limit: '64kb' });

/** Standards a Deep Linking item may be tagged to at once. */
const MAX_STANDARDS = 50;

/** Tags every gradebook column the tool creates, so it can find its own columns again. */
export const TOOL_LINE_ITEM_TAG = 'mastery-pathways';

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

/**
 * A gradebook column is offered unless the LMS said `accept_lineitem: false`. Absent means unknown
 * (DL 2.0 §4.4.1), and Moodle 4.3 and Canvas leave it out yet create the column (LMS-NOTES).
 */
function offersColumn(settings: DeepLinkingSettings): boolean {
  return settings.acceptLineItem !== false;
}

interface ActivityValues {
  title: string;
  gradebook: boolean;
  scoreMaximum: string;
  standards: string[];
}

/**
 * Deep Linking (LTI DL 2.0): the LMS opened the tool to pick something to add to the course. The
 * teacher names the activity, picks the standards it assesses and its points; the tool records
 * the assignment with its alignments and answers with a signed LtiDeepLinkingResponse holding an
 * LTI resource link and, unless the LMS refuses one, a line item whose `resourceId` names the
 * assignment (`mp-assignment:<id>`), so the gradebook column, and a copy of it in a copied
 * course, finds its alignments again.
 */
export function deepLinkingPages(
  router: Router,
  deps: { services: AppServices; publicUrl: string; logger: Logger },
): void {
  const { services, publicUrl, logger } = deps;

  const pending = async (req: express.Request) => {
    const v = viewer(req);
    const request = await services.deepLinks.findForSession(v.tenantId, v.session.id);
    if (request === undefined) {
      throw new HttpError(
        404,
        'not_found',
        'There is nothing to add right now. Start again from “Add” (or “Select a tool”) in your LMS.',
      );
    }
    return { v, request };
  };

  const render = async (
    res: express.Response,
    v: ReturnType<typeof viewer>,
    model: {
      offerColumn: boolean;
      hasCourse: boolean;
      values: ActivityValues;
      query: string;
      errors: Record<string, string>;
    },
  ): Promise<void> => {
    const alignment = services.alignment;
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
  };

  router.get('/deep-link', requireInstructor, async (req, res) => {
    const { v, request } = await pending(req);
    const query = req.query as Record<string, unknown>;
    // The page without JavaScript keeps its state in the URL: a search or an "Add" button is a
    // GET of this page with every field of the form.
    const resumed = typeof query.title === 'string';
    const standards = [...listOf(query.standard), ...listOf(query.add)];
    await render(res, v, {
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
  });

  router.post('/deep-link', form, requireInstructor, requireCsrf, async (req, res) => {
    const { v, request } = await pending(req);
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
    if (!parsed.success || standardsError !== undefined) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.success ? [] : parsed.error.issues) {
        const field = String(issue.path[0] ?? 'form');
        errors[field] ??= issue.message;
      }
      if (standardsError !== undefined) errors.standards = standardsError;
      await render(res, v, {
        offerColumn: offersColumn(request.settings),
        hasCourse: courseId !== undefined,
        values,
        query: '',
        errors,
      });
      return;
    }
    const deployment = await services.deployments.findById(request.deploymentRowId);
    const platform =
      deployment === undefined
        ? undefined
        : await services.platforms.findById(deployment.platformId);
    if (deployment === undefined || platform === undefined || deployment.tenantId !== v.tenantId) {
      throw new HttpError(404, 'not_found', 'This LMS registration no longer exists.');
    }
    const activityId = randomUUID();
    const wantsColumn = parsed.data.gradebook === 'yes' && offersColumn(request.settings);
    if (courseId !== undefined) {
      // The assignment and its alignments exist before the LMS creates the column, so the
      // column's resourceId can name it; discovery and the link's first launch link them.
      try {
        await services.alignment.createDeepLinkAssignment({
          tenantId: v.tenantId,
          courseId,
          id: activityId,
          title: parsed.data.title,
          scoreMaximum: parsed.data.scoreMaximum,
          tag: TOOL_LINE_ITEM_TAG,
          withColumn: wantsColumn,
          itemIds: values.standards,
          actor: v.user.id,
        });
      } catch (error) {
        if (
          error instanceof AlignmentError &&
          (error.code === 'standard_unavailable' || error.code === 'invalid_input')
        ) {
          await render(res, v, {
            offerColumn: offersColumn(request.settings),
            hasCourse: true,
            values,
            query: '',
            errors: { standards: error.message },
          });
          return;
        }
        throw error;
      }
    }
    const item = ltiResourceLinkItem({
      url: `${publicUrl}${LTI_PATHS.launch}`,
      title: parsed.data.title,
      // Schoology drops app-level custom parameters on deep-linked links (LMS-NOTES): the item
      // carries what the tool needs to recognise it.
      custom:
        courseId === undefined ? { mp_activity_id: activityId } : { mp_assignment_id: activityId },
      lineItem: wantsColumn
        ? {
            scoreMaximum: parsed.data.scoreMaximum,
            label: parsed.data.title,
            resourceId: courseId === undefined ? activityId : assignmentResourceId(activityId),
            tag: TOOL_LINE_ITEM_TAG,
          }
        : undefined,
    });
    const signer = createToolSigner(await services.toolKeys.signingKey());
    const jwt = await buildDeepLinkingResponse(
      {
        settings: request.settings,
        platformIssuer: platform.issuer,
        clientId: platform.clientId,
        deploymentId: deployment.deploymentId,
        contentItems: [item],
        msg: `Added “${parsed.data.title}”.`,
      },
      { signer, now: services.now, randomToken },
    );
    await services.deepLinks.remove(v.tenantId, request.id);
    logger.info(
      {
        tenantId: v.tenantId,
        activityId,
        gradebookColumn: wantsColumn,
        standards: values.standards.length,
      },
      'deep linking response sent',
    );
    allowFormActionTo(res, new URL(request.settings.returnUrl).origin);
    res.render('deep-linking/return', {
      layout: 'minimal',
      title: 'Returning to your LMS',
      returnUrl: request.settings.returnUrl,
      jwt,
    });
  });
}
