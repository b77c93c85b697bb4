import express, { type Request, type Router } from 'express';
import type { EmulatorContext } from '../context.ts';
import { EmulatorError } from '../errors.ts';
import { autoSubmitForm, html, page } from '../html.ts';
import { beginLaunch } from '../launch.ts';
import { MOODLE_SESSION_COOKIE } from '../moodle.ts';

function sessionUser(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === MOODLE_SESSION_COOKIE) {
      try {
        return decodeURIComponent(value.join('='));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Moodle's own pages around a launch (moodle flavour only): opening a course page signs the user in
 * to the site (a first-party session cookie, as Moodle's `MoodleSession`), and
 * `mod/lti/launch.php?id=<cmid>` starts a fresh login for an activity for whoever is signed in,
 * at top level when opened in its own window (docs/lms/moodle.md).
 */
export function moodleRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state } = ctx;
  if (state.flavour !== 'moodle') return router;

  router.get('/launch', (req, _res, next) => {
    const user = req.query['user'];
    if (typeof user === 'string' && user !== '') {
      _res.append(
        'Set-Cookie',
        `${MOODLE_SESSION_COOKIE}=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax`,
      );
    }
    next();
  });

  router.get('/mod/lti/launch.php', (req, res) => {
    const user = sessionUser(req);
    const cmid = typeof req.query['id'] === 'string' ? req.query['id'] : '';
    const link = state.resourceLinks.get(cmid);
    if (user === undefined) {
      res
        .status(403)
        .type('html')
        .send(
          page('Log in', html`<p class="error">You are not logged in.</p>`, {
            flavour: state.flavour,
          }),
        );
      return;
    }
    if (link === undefined) {
      res
        .status(404)
        .type('html')
        .send(
          page('Not found', html`<p class="error">No such activity.</p>`, {
            flavour: state.flavour,
          }),
        );
      return;
    }
    try {
      const initiation = beginLaunch(ctx, {
        courseId: link.courseId,
        userId: user,
        placement: link.placement ?? 'course_navigation',
        resourceLinkId: link.resourceLinkId,
        clientId: link.clientId,
        deploymentId: link.deploymentId,
      });
      res.type('html').send(autoSubmitForm(initiation.url, initiation.params, 'POST'));
    } catch (error) {
      if (!(error instanceof EmulatorError)) throw error;
      res
        .status(400)
        .type('html')
        .send(
          page('Launch refused', html`<p class="error">${error.code}: ${error.message}</p>`, {
            flavour: state.flavour,
          }),
        );
    }
  });

  return router;
}
