import type { Request } from 'express';
import type { Logger } from '../logger.ts';
import { LtiError } from '../lti/errors.ts';
import { requestContext } from './request-context.ts';

/**
 * Logs why a launch was refused, so support can answer "why did this teacher's launch fail" from the
 * log alone: the stable code, the check that failed, and the claim, key id, issuer, client and
 * deployment it concerned, with the request id the person sees on the error page. Only identifiers
 * and claim names: never names, emails or tokens (the id_token and state are not logged).
 */
export function logRefusedLaunch(logger: Logger, req: Request, error: unknown): void {
  if (!(error instanceof LtiError)) return;
  const { check, claim, kid, issuer, clientId, deploymentId, messageType } = error.diagnostics;
  logger.info(
    {
      requestId: requestContext(req).requestId,
      code: error.code,
      check,
      claim,
      kid,
      issuer,
      clientId,
      deploymentId,
      messageType,
      detail: error.detail,
    },
    'launch refused',
  );
}
