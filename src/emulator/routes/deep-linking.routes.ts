import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { CLAIM } from '../claims.ts';
import type { EmulatorContext } from '../context.ts';
import { html, page } from '../html.ts';
import { sendsDeepLinkingData } from '../launch.ts';
import { ToolJwtError, verifyToolJwt } from '../tool-jwt.ts';
import type { DeepLinkingReceipt, DeepLinkingSession } from '../types.ts';

const responseForm = z.object({ JWT: z.string().min(1) });

const lineItemRequest = z.object({
  scoreMaximum: z.number().positive(),
  label: z.string().optional(),
  resourceId: z.string().optional(),
  tag: z.string().optional(),
  gradesReleased: z.boolean().optional(),
});

const contentItem = z.looseObject({ type: z.string() });

const resourceLinkItem = z.looseObject({
  type: z.literal('ltiResourceLink'),
  title: z.string().optional(),
  text: z.string().optional(),
  url: z.url().optional(),
  custom: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  lineItem: lineItemRequest.optional(),
});

class DeepLinkingRefusal extends Error {}

/** Deep Linking 2.0 §4: the platform's return endpoint for LtiDeepLinkingResponse messages. */
export function deepLinkingRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state, options, urls } = ctx;

  router.post(
    '/api/lti/deep_linking/:sessionId/return',
    express.urlencoded({ extended: false }),
    async (req, res) => {
      const session = state.deepLinkingSessions.get(req.params.sessionId);
      if (!session) {
        renderResult(res, 404, 'Unknown deep linking session', undefined);
        return;
      }
      const form = responseForm.safeParse(req.body ?? {});
      const receipt = await handle(session, form.success ? form.data.JWT : undefined);
      state.deepLinkingReceipts.push(receipt);
      renderResult(
        res,
        receipt.ok ? 200 : 400,
        receipt.ok ? 'Content added' : 'Deep linking refused',
        receipt,
      );
    },
  );

  async function handle(
    session: DeepLinkingSession,
    jwt: string | undefined,
  ): Promise<DeepLinkingReceipt> {
    const refused = (error: string, claims?: Record<string, unknown>): DeepLinkingReceipt => ({
      sessionId: session.sessionId,
      ok: false,
      error,
      claims,
      createdResourceLinkIds: [],
      createdLineItemIds: [],
      msg: undefined,
      errormsg: undefined,
      receivedAt: options.now(),
    });
    if (jwt === undefined) return refused('the form has no JWT field');
    const tool = state.tool(session.clientId);
    let claims: Record<string, unknown>;
    try {
      claims = await verifyToolJwt(ctx, tool, jwt, {
        audience: options.issuer,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'nonce'],
      });
    } catch (error) {
      if (error instanceof ToolJwtError) return refused(`${error.code}: ${error.message}`);
      throw error;
    }
    try {
      const items = checkClaims(session, claims);
      const nonce = String(claims['nonce']);
      if (state.usedDeepLinkingNonces.has(nonce))
        throw new DeepLinkingRefusal('nonce was already used');
      state.usedDeepLinkingNonces.add(nonce);
      // Sessions are single-use: a second response for the same request is refused.
      state.deepLinkingSessions.delete(session.sessionId);
      const createdResourceLinkIds: string[] = [];
      const createdLineItemIds: string[] = [];
      for (const item of items) {
        if (item.type !== 'ltiResourceLink') continue;
        const link = resourceLinkItem.parse(item);
        const custom: Record<string, string> = {};
        for (const [k, v] of Object.entries(link.custom ?? {})) custom[k] = String(v);
        const created = state.createResourceLink({
          courseId: session.courseId,
          clientId: session.clientId,
          deploymentId: session.deploymentId,
          title: link.title ?? tool.name,
          url: link.url,
          custom,
          createdBy: 'deep_linking',
          placement: session.placement,
        });
        createdResourceLinkIds.push(created.resourceLinkId);
        if (link.lineItem) {
          const lineItem = state.createLineItem({
            courseId: session.courseId,
            clientId: session.clientId,
            label: link.lineItem.label ?? created.title,
            scoreMaximum: link.lineItem.scoreMaximum,
            resourceLinkId: created.resourceLinkId,
            resourceId: link.lineItem.resourceId,
            tag: link.lineItem.tag,
            gradesReleased: link.lineItem.gradesReleased,
          });
          createdLineItemIds.push(lineItem.lineItemId);
        }
      }
      return {
        sessionId: session.sessionId,
        ok: true,
        error: undefined,
        claims,
        createdResourceLinkIds,
        createdLineItemIds,
        msg: optionalString(claims[CLAIM.msg]),
        errormsg: optionalString(claims[CLAIM.errormsg]),
        receivedAt: options.now(),
      };
    } catch (error) {
      if (error instanceof DeepLinkingRefusal || error instanceof z.ZodError) {
        return refused(error.message, claims);
      }
      throw error;
    }
  }

  /** Deep Linking 2.0 §4.2 response claims, checked one by one. */
  function checkClaims(session: DeepLinkingSession, claims: Record<string, unknown>) {
    if (claims[CLAIM.messageType] !== 'LtiDeepLinkingResponse') {
      throw new DeepLinkingRefusal('message_type must be LtiDeepLinkingResponse');
    }
    if (claims[CLAIM.version] !== '1.3.0') throw new DeepLinkingRefusal('version must be 1.3.0');
    if (claims[CLAIM.deploymentId] !== session.deploymentId) {
      throw new DeepLinkingRefusal('deployment_id does not match the request');
    }
    // DL 2.0 §4.4.1: `data` is echoed when the request carried it (Canvas and Moodle send none).
    if (sendsDeepLinkingData(state.flavour) && claims[CLAIM.data] !== session.data) {
      throw new DeepLinkingRefusal('data must echo the value of the deep linking request');
    }
    const parsed = z.array(contentItem).safeParse(claims[CLAIM.contentItems] ?? []);
    if (!parsed.success) throw new DeepLinkingRefusal('content_items must be an array of items');
    const items = parsed.data;
    if (!session.acceptMultiple && items.length > 1) {
      throw new DeepLinkingRefusal('accept_multiple was false but several items came back');
    }
    const refusedType = items.find((i) => !session.acceptTypes.includes(i.type));
    if (refusedType) {
      throw new DeepLinkingRefusal(`content item type ${refusedType.type} is not accepted here`);
    }
    return items;
  }

  function renderResult(
    res: Response,
    status: number,
    title: string,
    receipt: DeepLinkingReceipt | undefined,
  ) {
    const courseId = receipt
      ? [...state.resourceLinks.values()].find((l) =>
          receipt.createdResourceLinkIds.includes(l.resourceLinkId),
        )?.courseId
      : undefined;
    const body = html` ${receipt?.error ? html`<p class="error" data-error>${receipt.error}</p>` : ''}
    ${receipt?.msg ? html`<p data-msg>${receipt.msg}</p>` : ''}
    ${receipt?.errormsg ? html`<p class="error" data-errormsg>${receipt.errormsg}</p>` : ''}
    ${
      receipt?.ok
        ? html`<p>
            Created ${receipt.createdResourceLinkIds.length} link(s) and
            ${receipt.createdLineItemIds.length} line item(s).
          </p>`
        : ''
    }
    ${courseId ? html`<p><a href="${urls.course(courseId)}">Back to the course</a></p>` : html`<p><a href="/">Home</a></p>`}`;
    res
      .status(status)
      .type('html')
      .send(page(title, body, { flavour: state.flavour }));
  }

  return router;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
