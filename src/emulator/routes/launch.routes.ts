import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { EmulatorContext } from '../context.ts';
import { EmulatorError } from '../errors.ts';
import { autoSubmitForm, html, jsonForScript, page } from '../html.ts';
import { beginLaunch, buildLaunchClaims, publishedJwks, signIdToken } from '../launch.ts';
import { PLACEMENTS, type Tool } from '../types.ts';
import { moodleLaunchId } from '../moodle.ts';

const launchQuery = z.object({
  course: z.string().min(1),
  user: z.string().min(1),
  placement: z.enum(PLACEMENTS),
  message_type: z.enum(['LtiResourceLinkRequest', 'LtiDeepLinkingRequest']).optional(),
  client_id: z.string().min(1).optional(),
  deployment_id: z.string().min(1).optional(),
  resource_link: z.string().min(1).optional(),
  /** 1 = show the launch framed in a course page (with the Platform Storage forwarder). */
  frame: z.enum(['0', '1']).optional(),
});

/** OIDC authentication request parameters (LTI 1.3 Core §5.1.1.2); checked one by one below. */
const authRequest = z.object({
  scope: z.string().optional(),
  response_type: z.string().optional(),
  response_mode: z.string().optional(),
  prompt: z.string().optional(),
  client_id: z.string().optional(),
  redirect_uri: z.string().optional(),
  login_hint: z.string().optional(),
  lti_message_hint: z.string().optional(),
  state: z.string().optional(),
  nonce: z.string().optional(),
});

type AuthErrorCode =
  | 'invalid_request'
  | 'invalid_scope'
  | 'unsupported_response_type'
  | 'login_required'
  | 'unauthorized_client';

export function toolOrigins(tool: Tool): string[] {
  const urls = [tool.oidcInitiationUrl, tool.targetLinkUri, ...tool.redirectUris];
  if (tool.deepLinkingUrl) urls.push(tool.deepLinkingUrl);
  return [...new Set(urls.map((u) => new URL(u).origin))];
}

/**
 * The browser-facing half of a launch: the launch button, the OIDC authorization endpoint, the
 * platform JWKS and the Platform Storage frame.
 */
export function launchRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state, options } = ctx;

  router.get('/api/lti/security/jwks', (_req, res) => {
    res.json(publishedJwks(ctx));
  });

  router.get('/launch', (req, res) => {
    const parsed = launchQuery.safeParse(req.query);
    if (!parsed.success) {
      sendPage(res, 400, 'Launch refused', html`<p class="error">${parsed.error.message}</p>`);
      return;
    }
    const q = parsed.data;
    if (q.frame === '1') {
      renderLaunchFrame(ctx, req, res, q.client_id);
      return;
    }
    try {
      const initiation = beginLaunch(ctx, {
        courseId: q.course,
        userId: q.user,
        placement: q.placement,
        ...(q.message_type ? { messageType: q.message_type } : {}),
        ...(q.client_id ? { clientId: q.client_id } : {}),
        ...(q.deployment_id ? { deploymentId: q.deployment_id } : {}),
        ...(q.resource_link ? { resourceLinkId: q.resource_link } : {}),
      });
      // Third-party initiated login (Core §5.1.1): the browser carries the parameters.
      res.type('html').send(autoSubmitForm(initiation.url, initiation.params, 'POST'));
    } catch (error) {
      if (error instanceof EmulatorError) {
        sendPage(
          res,
          400,
          'Launch refused',
          html`<p class="error">${error.code}: ${error.message}</p>`,
        );
        return;
      }
      throw error;
    }
  });

  const authorize = async (req: Request, res: Response): Promise<void> => {
    const source: unknown = req.method === 'POST' ? req.body : req.query;
    const parsed = authRequest.safeParse(source ?? {});
    if (!parsed.success) {
      sendPage(res, 400, 'Invalid authentication request', html`<p>${parsed.error.message}</p>`);
      return;
    }
    const p = parsed.data;
    const tool = p.client_id === undefined ? undefined : state.tools.get(p.client_id);
    // Until client_id and redirect_uri are known good, errors must not be sent to the redirect URI.
    if (!tool) {
      sendPage(
        res,
        400,
        'Invalid authentication request',
        html`<p class="error" data-error="invalid_client">unknown client_id</p>`,
      );
      return;
    }
    if (p.redirect_uri === undefined || !tool.redirectUris.includes(p.redirect_uri)) {
      sendPage(
        res,
        400,
        'Invalid authentication request',
        html`<p class="error" data-error="invalid_request">
          redirect_uri is not registered for this tool
        </p>`,
      );
      return;
    }
    const redirectUri = p.redirect_uri;
    const fail = (error: AuthErrorCode, description: string): void => {
      const fields: Record<string, string> = { error, error_description: description };
      if (p.state !== undefined) fields['state'] = p.state;
      res.status(400).type('html').send(autoSubmitForm(redirectUri, fields));
    };
    const scopes = (p.scope ?? '').split(' ');
    if (!scopes.includes('openid')) {
      fail('invalid_scope', 'scope must be openid');
      return;
    }
    if (p.response_type !== 'id_token') {
      fail('unsupported_response_type', 'response_type must be id_token');
      return;
    }
    if (p.response_mode !== 'form_post') {
      fail('invalid_request', 'response_mode must be form_post');
      return;
    }
    if (p.prompt !== 'none') {
      fail('invalid_request', 'prompt must be none');
      return;
    }
    if (!p.nonce) {
      fail('invalid_request', 'nonce is required');
      return;
    }
    if (!p.login_hint) {
      fail('invalid_request', 'login_hint is required');
      return;
    }
    if (!p.lti_message_hint) {
      fail('invalid_request', 'lti_message_hint is required');
      return;
    }
    // Moodle 4.1+ keys the launch by the hint's `launchid` and uses it once (mod/lti/auth.php:
    // `unset($SESSION->$launchid)`), so the same hints cannot log in twice (docs/lms/moodle.md).
    const launchId =
      state.flavour === 'moodle' ? moodleLaunchId(p.lti_message_hint) : p.lti_message_hint;
    const launch = launchId === undefined ? undefined : state.pendingLaunches.get(launchId);
    if (state.flavour === 'moodle' && launchId !== undefined) {
      state.pendingLaunches.delete(launchId);
    }
    if (!launch || launch.expiresAt.getTime() < options.now().getTime()) {
      fail('invalid_request', 'lti_message_hint is unknown or expired');
      return;
    }
    if (launch.clientId !== tool.clientId) {
      fail('unauthorized_client', 'lti_message_hint was issued to another client');
      return;
    }
    if (launch.userId !== p.login_hint) {
      fail('login_required', 'login_hint does not match the signed-in user');
      return;
    }
    const claims = buildLaunchClaims(ctx, launch, p.nonce);
    const idToken = await signIdToken(ctx, claims);
    state.issuedIdTokens.push(claims);
    const fields: Record<string, string> = { id_token: idToken };
    if (p.state !== undefined) fields['state'] = p.state;
    res.type('html').send(autoSubmitForm(redirectUri, fields));
  };
  router.get('/api/lti/authorize_redirect', authorize);
  router.post('/api/lti/authorize_redirect', express.urlencoded({ extended: false }), authorize);

  router.get('/platform-storage/forwarder', (req, res) => {
    const clientId = typeof req.query['client_id'] === 'string' ? req.query['client_id'] : '';
    const tool = state.tools.get(clientId);
    const origins = tool ? toolOrigins(tool) : [];
    res.type('html').send(
      page(
        'Platform storage',
        html`<p>Answers lti.* postMessages for ${tool?.name ?? 'no tool'}.</p>
          ${storageScript(origins, options.storageTarget)}`,
      ),
    );
  });

  function sendPage(res: Response, status: number, title: string, body: ReturnType<typeof html>) {
    res
      .status(status)
      .type('html')
      .send(page(title, body, { flavour: state.flavour }));
  }

  return router;
}

/** A course page framing the tool, as Canvas does, with the postMessage forwarder frame beside it. */
function renderLaunchFrame(
  ctx: EmulatorContext,
  req: Request,
  res: Response,
  clientId: string | undefined,
): void {
  const { state, options } = ctx;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) {
    if (typeof v === 'string' && k !== 'frame') query.set(k, v);
  }
  const toolId = clientId ?? [...state.tools.keys()][0] ?? '';
  const tool = state.tools.get(toolId);
  const forwarder = `/platform-storage/forwarder?client_id=${encodeURIComponent(toolId)}`;
  const body = html` ${options.platformStorage ? html`<iframe name="${options.storageTarget}" title="Platform storage" src="${forwarder}" hidden></iframe>` : ''}
    <iframe
      name="tool_frame"
      class="tool"
      title="Tool"
      src="/launch?${query.toString()}"
      allow="clipboard-write"
    ></iframe>
    ${options.platformStorage && tool ? storageScript(toolOrigins(tool), options.storageTarget) : ''}`;
  res.type('html').send(page(tool?.name ?? 'Launch', body, { flavour: state.flavour }));
}

/**
 * LTI Client Side postMessages: answers lti.capabilities, lti.put_data and lti.get_data from the
 * framed tool. Values are kept per tool origin (a tool never reads another tool's keys) and replies
 * go only to the sender's origin.
 */
function storageScript(allowedOrigins: string[], target: string) {
  return html`<script>
    (function () {
      var allowed = ${jsonForScript(allowedOrigins)};
      var frame = ${jsonForScript(target)};
      var memory = {};
      function keyOf(origin, key) {
        return 'lti|' + origin + '|' + key;
      }
      function save(k, v) {
        memory[k] = v;
        try {
          sessionStorage.setItem(k, v);
        } catch (e) {}
      }
      function load(k) {
        if (Object.prototype.hasOwnProperty.call(memory, k)) return memory[k];
        try {
          var v = sessionStorage.getItem(k);
          return v === null ? undefined : v;
        } catch (e) {
          return undefined;
        }
      }
      window.addEventListener('message', function (event) {
        var data = event.data;
        if (!data || typeof data !== 'object' || typeof data.subject !== 'string') return;
        if (data.subject.indexOf('lti.') !== 0 || /\\.response$/.test(data.subject)) return;
        function reply(body) {
          body.message_id = data.message_id;
          if (event.source) event.source.postMessage(body, event.origin);
        }
        function fail(code, message) {
          reply({ subject: data.subject + '.response', error: { code: code, message: message } });
        }
        if (allowed.indexOf(event.origin) < 0)
          return fail('bad_request', 'origin is not a registered tool origin');
        if (typeof data.message_id !== 'string' && typeof data.message_id !== 'number') {
          return fail('bad_request', 'message_id is required');
        }
        switch (data.subject) {
          case 'lti.capabilities':
            return reply({
              subject: 'lti.capabilities.response',
              supported_messages: [
                { subject: 'lti.capabilities' },
                { subject: 'lti.put_data', frame: frame },
                { subject: 'lti.get_data', frame: frame },
              ],
            });
          case 'lti.put_data':
            if (typeof data.key !== 'string' || data.key === '')
              return fail('bad_request', 'key is required');
            if (typeof data.value !== 'string')
              return fail('bad_request', 'value must be a string');
            save(keyOf(event.origin, data.key), data.value);
            return reply({ subject: 'lti.put_data.response', key: data.key, value: data.value });
          case 'lti.get_data':
            if (typeof data.key !== 'string' || data.key === '')
              return fail('bad_request', 'key is required');
            var value = load(keyOf(event.origin, data.key));
            return reply({ subject: 'lti.get_data.response', key: data.key, value: value });
          default:
            return fail('unsupported_subject', 'unsupported subject ' + data.subject);
        }
      });
    })();
  </script>`;
}
