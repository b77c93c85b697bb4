import express, { type Router } from 'express';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import type { EmulatorContext } from '../context.ts';
import { ToolJwtError, verifyToolJwt } from '../tool-jwt.ts';
import { serviceGuard } from './service-guard.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const tokenRequest = z.object({
  grant_type: z.string().optional(),
  client_assertion_type: z.string().optional(),
  client_assertion: z.string().optional(),
  scope: z.string().optional(),
});

type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unauthorized_client';

/** OAuth 2.0 client credentials with a JWT client assertion (RFC 6749 §4.4, RFC 7523, LTI Security §4.1). */
export function tokenRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state, options } = ctx;
  router.post(
    '/login/oauth2/token',
    serviceGuard(ctx),
    express.urlencoded({ extended: false }),
    express.json(),
    async (req, res) => {
      state.counters.tokenRequests++;
      res.set('Cache-Control', 'no-store');
      const fail = (status: number, error: OAuthErrorCode, description: string): void => {
        res.status(status).json({ error, error_description: description });
      };
      const parsed = tokenRequest.safeParse(req.body ?? {});
      if (!parsed.success) {
        fail(400, 'invalid_request', parsed.error.message);
        return;
      }
      const body = parsed.data;
      if (body.grant_type !== 'client_credentials') {
        fail(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
        return;
      }
      if (body.client_assertion_type !== JWT_BEARER) {
        fail(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
        return;
      }
      if (!body.client_assertion) {
        fail(400, 'invalid_request', 'client_assertion is required');
        return;
      }
      if (!body.scope) {
        fail(400, 'invalid_request', 'scope is required');
        return;
      }

      let claimedClient: string | undefined;
      try {
        claimedClient = decodeJwt(body.client_assertion).sub;
      } catch {
        fail(401, 'invalid_client', 'client_assertion is not a JWT');
        return;
      }
      const tool = claimedClient === undefined ? undefined : state.tools.get(claimedClient);
      if (!tool) {
        fail(401, 'invalid_client', 'unknown client');
        return;
      }
      let payload;
      try {
        payload = await verifyToolJwt(ctx, tool, body.client_assertion, {
          audience: options.tokenAudiences,
          subject: tool.clientId,
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'],
        });
      } catch (error) {
        if (error instanceof ToolJwtError) {
          fail(401, 'invalid_client', error.message);
          return;
        }
        throw error;
      }
      const jti = typeof payload.jti === 'string' ? payload.jti : '';
      const exp = new Date((payload.exp ?? 0) * 1000);
      if (!jti || !state.claimJti(jti, exp)) {
        fail(401, 'invalid_client', 'client_assertion jti was already used');
        return;
      }
      const requested = body.scope.split(' ').filter((s) => s !== '');
      const refused = requested.filter((s) => !tool.scopes.includes(s));
      if (requested.length === 0 || refused.length > 0) {
        fail(400, 'invalid_scope', `scope not granted to this tool: ${refused.join(' ')}`);
        return;
      }
      const token = state.issueAccessToken(
        tool.clientId,
        requested,
        options.accessTokenLifetimeSeconds,
      );
      res.json({
        access_token: token.token,
        token_type: 'Bearer',
        expires_in: options.accessTokenLifetimeSeconds,
        scope: requested.join(' '),
      });
    },
  );
  return router;
}
