import { z } from 'zod';
import { LtiAdminError } from './errors.ts';

const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || host.startsWith('127.');

/**
 * LTI endpoints must be https: a plain http login or JWKS URL lets anyone on the path forge launches.
 * Loopback is allowed for the emulator and local development.
 */
export function httpsUrl(field: string) {
  return z.string({ error: `${field} is required` }).superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${field} is not a URL: "${value}"` });
      return;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      ctx.addIssue({
        code: 'custom',
        message: `${field} must use https:// (http:// only for localhost), got "${value}"`,
      });
    }
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({
        code: 'custom',
        message: `${field} must not contain a user name or password`,
      });
    }
  });
}

/**
 * An LMS issuer: usually an https origin, but Moodle's issuer is its wwwroot exactly, which may carry a
 * path and may be plain http on a school LAN (LMS-NOTES). So http is allowed here, with the exact text kept.
 */
export const issuerSchema = z
  .string({ error: 'issuer is required' })
  .min(1, { error: 'issuer is required' })
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'https:' || url.protocol === 'http:';
      } catch {
        return false;
      }
    },
    { error: 'issuer must be an http(s) URL, exactly as the LMS sends it in "iss"' },
  );

export const clientIdSchema = z
  .string({ error: '--client-id is required' })
  .trim()
  .min(1, { error: '--client-id is required' })
  .max(500);

export const tenantSlugSchema = z
  .string({ error: 'the tenant slug is required' })
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, {
    error:
      'a tenant slug is 2 to 63 lower-case letters, digits or dashes, starting with a letter or digit (e.g. hartford-public)',
  });

export const tenantNameSchema = z
  .string({ error: 'the tenant name is required' })
  .trim()
  .min(1, { error: 'the tenant name is required' })
  .max(200, { error: 'the tenant name is at most 200 characters' });

export const deploymentIdSchema = z
  .string({ error: '--deployment-id is required' })
  .trim()
  .min(1, { error: '--deployment-id is required' })
  .max(500);

export const usernameSchema = z
  .string({ error: '--username is required' })
  .regex(/^[A-Za-z0-9._@-]{3,100}$/, {
    error: 'a username is 3 to 100 letters, digits or . _ @ -',
  });

/** Canvas deployment ids look like `10408:7db438...` (LMS-NOTES); a mismatch is likely a paste error. */
const CANVAS_DEPLOYMENT_ID = /^\d+:[0-9a-f]{40}$/;
/** Schoology: two ~10-digit numbers joined by `-`. */
const SCHOOLOGY_DEPLOYMENT_ID = /^\d+-\d+$/;

/** Warnings only: platforms change formats, so an unusual id is allowed but flagged. */
export function deploymentIdWarnings(flavour: string, deploymentId: string): string[] {
  if (flavour === 'canvas' && !CANVAS_DEPLOYMENT_ID.test(deploymentId)) {
    return [
      `Canvas deployment ids usually look like "10408:7db438..." (a number, a colon, 40 hex characters); check "${deploymentId}" was copied whole.`,
    ];
  }
  if (flavour === 'schoology' && !SCHOOLOGY_DEPLOYMENT_ID.test(deploymentId)) {
    return [
      `Schoology deployment ids usually look like "1234567890-1234567890"; check "${deploymentId}" was copied whole.`,
    ];
  }
  return [];
}

/** Parses with a zod schema and turns every issue into one readable `invalid_input` error. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new LtiAdminError(
    'invalid_input',
    result.error.issues.map((issue) => issue.message).join('\n'),
    { cause: result.error },
  );
}
