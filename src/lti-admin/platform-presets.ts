import { z } from 'zod';
import type { PlatformFlavour } from '../storage/lti/schema.ts';
import { LtiAdminError } from './errors.ts';
import { clientIdSchema, httpsUrl, issuerSchema, parseInput } from './validation.ts';

/** Endpoints as published by each vendor (see ../shared/LMS-NOTES.md). */
export const PLATFORM_PRESETS = [
  'canvas',
  'canvas-beta',
  'canvas-test',
  'schoology',
  'moodle',
  'generic',
] as const;
export type PlatformPreset = (typeof PLATFORM_PRESETS)[number];

export interface PlatformEndpoints {
  readonly issuer: string;
  readonly flavour: PlatformFlavour;
  readonly name: string;
  readonly authLoginUrl: string;
  readonly authTokenUrl: string;
  readonly jwksUrl: string;
  readonly tokenAudience: string | undefined;
}

function canvas(host: '' | 'beta.' | 'test.', label: string): PlatformEndpoints {
  // The `sso.` host is needed for cookieless launch (LMS-NOTES: Canvas).
  return {
    issuer: `https://canvas.${host}instructure.com`,
    flavour: 'canvas',
    name: label,
    authLoginUrl: `https://sso.${host}canvaslms.com/api/lti/authorize_redirect`,
    authTokenUrl: `https://sso.${host}canvaslms.com/login/oauth2/token`,
    jwksUrl: `https://sso.${host}canvaslms.com/api/lti/security/jwks`,
    tokenAudience: undefined,
  };
}

const SCHOOLOGY: PlatformEndpoints = {
  issuer: 'https://schoology.schoology.com',
  flavour: 'schoology',
  name: 'Schoology',
  authLoginUrl: 'https://lti-service.svc.schoology.com/lti-service/authorize-redirect',
  authTokenUrl: 'https://lti-service.svc.schoology.com/lti-service/access-token',
  jwksUrl: 'https://lti-service.svc.schoology.com/lti-service/.well-known/jwks',
  tokenAudience: undefined,
};

/** What an operator types (CLI flags or the admin form). Unknown fields are rejected by the caller. */
export const platformInputSchema = z.object({
  preset: z.string({ error: '--preset is required' }),
  clientId: clientIdSchema,
  issuer: z.string().optional(),
  name: z.string().trim().min(1).max(200).optional(),
  authLoginUrl: z.string().optional(),
  authTokenUrl: z.string().optional(),
  jwksUrl: z.string().optional(),
  tokenAudience: z.string().optional(),
});

export type PlatformInput = z.input<typeof platformInputSchema>;

export interface ResolvedPlatform extends PlatformEndpoints {
  readonly clientId: string;
}

function isPreset(value: string): value is PlatformPreset {
  return (PLATFORM_PRESETS as readonly string[]).includes(value);
}

function rejectFields(
  preset: string,
  input: PlatformInput,
  fields: readonly (keyof PlatformInput)[],
): void {
  const given = fields.filter((field) => input[field] !== undefined);
  if (given.length > 0) {
    throw new LtiAdminError(
      'invalid_input',
      `The ${preset} preset sets ${given.join(', ')} itself; leave ${given.length > 1 ? 'them' : 'it'} out (or use --preset generic).`,
    );
  }
}

/**
 * Turns operator input into a full platform registration: Canvas and Schoology endpoints come from
 * the preset; Moodle derives them from the site URL (its issuer is the wwwroot exactly); generic
 * takes every URL explicitly.
 */
export function resolvePlatformInput(raw: PlatformInput): ResolvedPlatform {
  const input = parseInput(platformInputSchema, raw);
  if (!isPreset(input.preset)) {
    throw new LtiAdminError(
      'unknown_preset',
      `Unknown preset "${input.preset}". Use one of: ${PLATFORM_PRESETS.join(', ')}.`,
    );
  }
  const endpointFields = [
    'issuer',
    'authLoginUrl',
    'authTokenUrl',
    'jwksUrl',
    'tokenAudience',
  ] as const;
  let endpoints: PlatformEndpoints;
  switch (input.preset) {
    case 'canvas':
      rejectFields(input.preset, input, endpointFields);
      endpoints = canvas('', 'Canvas');
      break;
    case 'canvas-beta':
      rejectFields(input.preset, input, endpointFields);
      endpoints = canvas('beta.', 'Canvas (beta)');
      break;
    case 'canvas-test':
      rejectFields(input.preset, input, endpointFields);
      endpoints = canvas('test.', 'Canvas (test)');
      break;
    case 'schoology':
      rejectFields(input.preset, input, endpointFields);
      endpoints = SCHOOLOGY;
      break;
    case 'moodle': {
      rejectFields(input.preset, input, [
        'authLoginUrl',
        'authTokenUrl',
        'jwksUrl',
        'tokenAudience',
      ]);
      if (input.issuer === undefined) {
        throw new LtiAdminError(
          'invalid_input',
          'The moodle preset needs --issuer: the Moodle site URL exactly as in its config.php wwwroot (e.g. https://moodle.district.org).',
        );
      }
      const issuer = parseInput(issuerSchema, input.issuer);
      // Moodle's issuer is the wwwroot with no trailing slash; its endpoints hang off it.
      const base = issuer.replace(/\/+$/, '');
      endpoints = {
        issuer,
        flavour: 'moodle',
        name: `Moodle ${new URL(issuer).host}`,
        authLoginUrl: `${base}/mod/lti/auth.php`,
        authTokenUrl: `${base}/mod/lti/token.php`,
        jwksUrl: `${base}/mod/lti/certs.php`,
        tokenAudience: undefined,
      };
      break;
    }
    case 'generic': {
      const generic = parseInput(
        z.object({
          issuer: issuerSchema,
          authLoginUrl: httpsUrl('--auth-login-url'),
          authTokenUrl: httpsUrl('--auth-token-url'),
          jwksUrl: httpsUrl('--jwks-url'),
          tokenAudience: z.string().min(1).optional(),
        }),
        input,
      );
      endpoints = {
        ...generic,
        flavour: 'generic',
        name: `LTI platform ${new URL(generic.issuer).host}`,
        tokenAudience: generic.tokenAudience,
      };
      break;
    }
  }
  // Derived and explicit URLs alike must pass the https rule (a Moodle on plain http LAN fails here:
  // its login and key endpoints would then travel unprotected).
  parseInput(
    z.object({
      authLoginUrl: httpsUrl('the OIDC login (auth) URL'),
      authTokenUrl: httpsUrl('the token URL'),
      jwksUrl: httpsUrl('the JWKS URL'),
    }),
    endpoints,
  );
  return { ...endpoints, name: input.name ?? endpoints.name, clientId: input.clientId };
}
