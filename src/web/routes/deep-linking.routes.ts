import { randomUUID } from 'node:crypto';
import express, { type Router } from 'express';
import { z } from 'zod';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import { buildDeepLinkingResponse, ltiResourceLinkItem } from '../../lti/deep-linking.ts';
import { randomToken } from '../../lti/login.ts';
import { createToolSigner } from '../../lti/tool-keys.ts';
import { HttpError } from '../errors.ts';
import { allowFormActionTo } from '../middleware/security.ts';
import { requireCsrf, requireInstructor, roleLabel, viewer } from '../middleware/session.ts';
import { LTI_PATHS } from './lti.routes.ts';

const form = express.urlencoded({ extended: false, limit: '32kb' });

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

/**
 * Deep Linking (LTI DL 2.0): the LMS opened the tool to pick something to add to the course. The
 * teacher names the activity; the tool answers with a signed LtiDeepLinkingResponse holding an
 * LTI resource link and, when the LMS accepts one, a gradebook line item.
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

  const render = (
    res: express.Response,
    v: ReturnType<typeof viewer>,
    model: {
      acceptLineItem: boolean;
      values: { title: string; gradebook: boolean; scoreMaximum: string };
      errors: Record<string, string>;
    },
  ): void => {
    res.status(Object.keys(model.errors).length > 0 ? 422 : 200).render('deep-linking/choose', {
      layout: 'tool',
      nav: [],
      viewer: { name: v.user.name ?? 'Signed in', roleLabel: roleLabel(v) },
      base: v.base,
      csrf: v.session.csrfSecret,
      title: 'Add Mastery Pathways to your course',
      ...model,
    });
  };

  router.get('/deep-link', requireInstructor, async (req, res) => {
    const { v, request } = await pending(req);
    render(res, v, {
      acceptLineItem: request.settings.acceptLineItem,
      values: { title: request.settings.title ?? '', gradebook: true, scoreMaximum: '4' },
      errors: {},
    });
  });

  router.post('/deep-link', form, requireInstructor, requireCsrf, async (req, res) => {
    const { v, request } = await pending(req);
    const body = req.body as Record<string, unknown>;
    const parsed = activitySchema.safeParse(body);
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'form');
        errors[field] ??= issue.message;
      }
      render(res, v, {
        acceptLineItem: request.settings.acceptLineItem,
        values: {
          title: typeof body.title === 'string' ? body.title : '',
          gradebook: body.gradebook === 'yes',
          scoreMaximum: typeof body.scoreMaximum === 'string' ? body.scoreMaximum : '',
        },
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
    const wantsColumn = parsed.data.gradebook === 'yes' && request.settings.acceptLineItem;
    const item = ltiResourceLinkItem({
      url: `${publicUrl}${LTI_PATHS.launch}`,
      title: parsed.data.title,
      // Schoology drops app-level custom parameters on deep-linked links (LMS-NOTES): the item
      // carries what the tool needs to recognise it.
      custom: { mp_activity_id: activityId },
      lineItem: wantsColumn
        ? {
            scoreMaximum: parsed.data.scoreMaximum,
            label: parsed.data.title,
            resourceId: activityId,
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
      { tenantId: v.tenantId, activityId, gradebookColumn: wantsColumn },
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
