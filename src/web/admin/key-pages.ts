import type { Request, RequestHandler, Response, Router } from 'express';
import { listToolKeys, rotateToolKeys } from '../../lti-admin/admin-area.ts';
import { LtiAdminError } from '../../lti-admin/errors.ts';
import type { RotationOutcome } from '../../lti-admin/tool-key-service.ts';
import { LTI_PATHS } from '../routes/lti.routes.ts';
import type { AdminPageContext } from './admin-context.ts';
import { adminForm as form } from './admin-forms.ts';

async function renderKeys(
  ctx: AdminPageContext,
  req: Request,
  res: Response,
  outcome?: string,
  error?: string,
): Promise<void> {
  const actor = ctx.actorOf(req);
  const keys = await listToolKeys(ctx.area);
  const date = (d: Date | undefined) => (d === undefined ? '' : d.toISOString());
  res.status(error === undefined ? 200 : 409);
  res.render('admin/keys', {
    ...ctx.layout(actor, 'keys', 'Tool keys'),
    outcome,
    error,
    keys: keys.map((k) => ({
      kid: k.kid,
      status: k.status,
      createdAt: date(k.createdAt),
      activatedAt: date(k.activatedAt),
    })),
    jwksUrl: `${ctx.deps.publicUrl}${LTI_PATHS.jwks}`,
  });
}

/** What a rotation did, in words. */
function rotationMessage(outcome: RotationOutcome): string {
  return outcome.action === 'added-next'
    ? `A next key (${outcome.kid}) is now published. LMSs pick it up from the key set; it starts signing when you rotate again after ${outcome.usableFrom.toISOString()}.`
    : `Key ${outcome.kid} now signs${outcome.previousKid === undefined ? '' : `; key ${outcome.previousKid} stays published for a day, then is retired`}.`;
}

function keysPage(ctx: AdminPageContext): RequestHandler {
  return function showToolKeys(req, res) {
    return renderKeys(ctx, req, res);
  };
}

function rotate(ctx: AdminPageContext): RequestHandler {
  return async function rotateKeys(req, res) {
    let outcome: RotationOutcome;
    try {
      outcome = await rotateToolKeys(ctx.area);
    } catch (error) {
      if (!(error instanceof LtiAdminError)) throw error;
      await renderKeys(ctx, req, res, undefined, error.message);
      return;
    }
    await renderKeys(ctx, req, res, rotationMessage(outcome));
  };
}

/** The tool's signing keys. Shared by all districts, so only operators rotate them. */
export function keyAdminPages(router: Router, ctx: AdminPageContext): void {
  router.get('/keys', keysPage(ctx));
  router.post('/keys/rotate', form, ctx.csrf, ctx.operatorOnly, rotate(ctx));
}
