import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { EmulatorContext } from './context.ts';
import type { Tool } from './types.ts';

const jwksDocument = z.object({ keys: z.array(z.looseObject({ kty: z.string() })) });

export type ToolJwtErrorCode = 'jwks_unavailable' | 'jwt_invalid';

export class ToolJwtError extends Error {
  readonly code: ToolJwtErrorCode;

  constructor(code: ToolJwtErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ToolJwtError';
    this.code = code;
  }
}

/**
 * Verify a JWT the tool signed (client assertion, Deep Linking response) with the keys published at
 * the tool's JWKS URL. Keys are fetched on every call: tools rotate keys and this is a test double,
 * so freshness beats caching.
 */
export async function verifyToolJwt(
  ctx: EmulatorContext,
  tool: Tool,
  jwt: string,
  expectations: { audience: string | string[]; requiredClaims: string[]; subject?: string },
): Promise<JWTPayload> {
  let keys: z.infer<typeof jwksDocument>;
  try {
    const response = await ctx.options.fetch(tool.toolJwksUrl, {
      headers: { accept: 'application/json', 'user-agent': 'LMS-Emulator/1.0' },
    });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    keys = jwksDocument.parse(await response.json());
  } catch (cause) {
    throw new ToolJwtError('jwks_unavailable', `cannot load tool JWKS: ${String(cause)}`, {
      cause,
    });
  }
  try {
    const { payload } = await jwtVerify(
      jwt,
      createLocalJWKSet(keys as Parameters<typeof createLocalJWKSet>[0]),
      {
        algorithms: ['RS256'],
        issuer: tool.clientId,
        audience: expectations.audience,
        ...(expectations.subject ? { subject: expectations.subject } : {}),
        requiredClaims: expectations.requiredClaims,
        currentDate: ctx.options.now(),
        clockTolerance: ctx.options.clockToleranceSeconds,
      },
    );
    return payload;
  } catch (cause) {
    const reason =
      cause instanceof joseErrors.JOSEError ? `${cause.code}: ${cause.message}` : String(cause);
    throw new ToolJwtError('jwt_invalid', reason, { cause });
  }
}
