import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import { ALL_SERVICE_SCOPES } from '../claims.ts';
import type { EmulatorContext } from '../context.ts';
import { html, jsonForScript, page } from '../html.ts';
import { sendApiError } from './service-guard.ts';

const TOOL_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
const PLATFORM_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-platform-configuration';

const toolMessage = z.looseObject({
  type: z.string(),
  target_link_uri: z.url().optional(),
  label: z.string().optional(),
  placements: z.array(z.string()).optional(),
  custom_parameters: z.record(z.string(), z.string()).optional(),
});

/** The tool's client registration request (Dynamic Registration 1.0 §3.5.1). */
const clientRegistration = z.looseObject({
  application_type: z.literal('web'),
  response_types: z
    .array(z.string())
    .refine((r) => r.includes('id_token'), 'response_types must include id_token'),
  grant_types: z
    .array(z.string())
    .refine(
      (g) => g.includes('implicit') && g.includes('client_credentials'),
      'grant_types must include implicit and client_credentials',
    ),
  initiate_login_uri: z.url(),
  redirect_uris: z.array(z.url()).min(1),
  client_name: z.string().min(1),
  jwks_uri: z.url(),
  token_endpoint_auth_method: z.literal('private_key_jwt'),
  logo_uri: z.url().optional(),
  scope: z.string().optional(),
  [TOOL_CONFIGURATION]: z.looseObject({
    domain: z.string().min(1),
    target_link_uri: z.url(),
    custom_parameters: z.record(z.string(), z.string()).optional(),
    claims: z.array(z.string()).optional(),
    messages: z.array(toolMessage).optional(),
    description: z.string().optional(),
  }),
});

function bearer(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
}

/** LTI Dynamic Registration 1.0 (Canvas and Moodle; Schoology registers tools by hand only). */
export function registrationRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state, options } = ctx;
  if (!options.dynamicRegistration) return router;

  const tokenUsable = (token: string | undefined): boolean => {
    const entry = token === undefined ? undefined : state.registrationTokens.get(token);
    return (
      entry !== undefined && !entry.used && entry.expiresAt.getTime() > options.now().getTime()
    );
  };

  router.get('/api/lti/registration/openid-configuration', (req, res) => {
    const token = bearer(req);
    // The token is optional on this request, but when sent it must be one we issued.
    if (token !== undefined && !tokenUsable(token)) {
      sendApiError(res, 401, 'unauthorized', 'Invalid registration token');
      return;
    }
    res.json(openidConfiguration(ctx));
  });

  router.post('/api/lti/registrations', express.json(), (req, res) => {
    const token = bearer(req);
    if (!tokenUsable(token) || token === undefined) {
      sendApiError(res, 401, 'unauthorized', 'Invalid or used registration token');
      return;
    }
    const parsed = clientRegistration.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({
        error: 'invalid_client_metadata',
        error_description: parsed.error.issues
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; '),
      });
      return;
    }
    const registration = parsed.data;
    const toolConfiguration = registration[TOOL_CONFIGURATION];
    const requestedScopes = (registration.scope ?? '').split(' ').filter((s) => s !== '');
    const grantedScopes = requestedScopes.filter((s) => ALL_SERVICE_SCOPES.includes(s));
    const deepLinking = toolConfiguration.messages?.find((m) => m.type === 'LtiDeepLinkingRequest');
    const tool = state.registerTool({
      name: registration.client_name,
      toolJwksUrl: registration.jwks_uri,
      oidcInitiationUrl: registration.initiate_login_uri,
      targetLinkUri: toolConfiguration.target_link_uri,
      redirectUris: registration.redirect_uris,
      ...(deepLinking?.target_link_uri ? { deepLinkingUrl: deepLinking.target_link_uri } : {}),
      customParameters: toolConfiguration.custom_parameters ?? {},
      scopes: grantedScopes,
      registeredVia: 'dynamic',
      registration,
    });
    const deployment = state.addDeployment(tool.clientId);
    const entry = state.registrationTokens.get(token);
    if (entry) entry.used = true;
    res.status(200).json({
      ...registration,
      client_id: tool.clientId,
      scope: grantedScopes.join(' '),
      [TOOL_CONFIGURATION]: {
        ...toolConfiguration,
        // Canvas sends NO deployment_id here: the tool learns it at the first launch.
        ...(state.flavour === 'canvas' ? {} : { deployment_id: deployment.deploymentId }),
      },
    });
  });

  router.get('/ui/dynamic-registration', (req, res) => {
    const toolUrl = typeof req.query['url'] === 'string' ? req.query['url'] : undefined;
    let target: URL | undefined;
    try {
      target = toolUrl === undefined ? undefined : new URL(toolUrl);
    } catch {
      target = undefined;
    }
    if (!target) {
      const body = html`<form method="get" action="/ui/dynamic-registration">
        <label>Tool registration URL <input type="url" name="url" required size="60" /></label>
        <button type="submit">Start registration</button>
      </form>`;
      res.type('html').send(page('Dynamic registration', body, { flavour: state.flavour }));
      return;
    }
    const start = startDynamicRegistration(ctx, target.toString());
    const body = html`<p>
        The tool's registration page is framed below. When it posts
        <code>org.imsglobal.lti.close</code>, the registration is complete.
      </p>
      <p id="status" role="status"></p>
      <iframe class="tool" title="Tool registration" src="${start.url}"></iframe>
      <script>
        window.addEventListener('message', function (event) {
          if (event.origin !== ${jsonForScript(target.origin)}) return;
          if (event.data && event.data.subject === 'org.imsglobal.lti.close') {
            document.getElementById('status').textContent =
              'Registration finished. Reload the home page to see the tool.';
          }
        });
      </script>`;
    res.type('html').send(page('Dynamic registration', body, { flavour: state.flavour }));
  });

  return router;
}

export interface DynamicRegistrationStart {
  readonly registrationToken: string;
  readonly openidConfigurationUrl: string;
  /** The tool's registration URL with `openid_configuration` and `registration_token`. */
  readonly url: string;
}

export function startDynamicRegistration(
  ctx: EmulatorContext,
  toolRegistrationUrl: string,
): DynamicRegistrationStart {
  const registrationToken = ctx.state.createRegistrationToken();
  const url = new URL(toolRegistrationUrl);
  url.searchParams.set('openid_configuration', ctx.urls.openidConfiguration);
  url.searchParams.set('registration_token', registrationToken);
  return {
    registrationToken,
    openidConfigurationUrl: ctx.urls.openidConfiguration,
    url: url.toString(),
  };
}

/** The platform's OpenID configuration (Dynamic Registration 1.0 §3.4). */
export function openidConfiguration(ctx: EmulatorContext): Record<string, unknown> {
  const { options, urls, state } = ctx;
  const platform: Record<string, unknown> = {
    product_family_code: state.flavour,
    version: 'emulator',
    messages_supported: [
      { type: 'LtiResourceLinkRequest', placements: ['course_navigation'] },
      { type: 'LtiDeepLinkingRequest', placements: ['assignment_selection', 'link_selection'] },
    ],
    variables: [
      'Context.id',
      'Context.title',
      'Context.label',
      'ResourceLink.id',
      'User.id',
      'Person.email.primary',
    ],
  };
  if (state.flavour === 'canvas') {
    platform['https://canvas.instructure.com/lti/account_name'] = options.platformName;
    platform['https://canvas.instructure.com/lti/account_lti_guid'] = `${state.flavour}-emulator`;
  }
  return {
    issuer: options.issuer,
    // Canvas publishes its OAuth host bare (`sso.canvaslms.com`), not a URL, yet its token
    // endpoint wants the token URL in the assertion's `aud` (docs/lms/canvas.md).
    ...(state.flavour === 'canvas' ? { authorization_server: new URL(urls.token).host } : {}),
    authorization_endpoint: urls.authorize,
    registration_endpoint: urls.registration,
    jwks_uri: urls.jwks,
    token_endpoint: urls.token,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', ...ALL_SERVICE_SCOPES],
    response_types_supported: ['id_token'],
    id_token_signing_alg_values_supported: ['RS256'],
    subject_types_supported: ['public', 'pairwise'],
    claims_supported: ['iss', 'sub', 'aud', 'name', 'given_name', 'family_name', 'email', 'locale'],
    [PLATFORM_CONFIGURATION]: platform,
  };
}
