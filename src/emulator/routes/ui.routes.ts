import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { ALL_SERVICE_SCOPES } from '../claims.ts';
import type { EmulatorContext } from '../context.ts';
import { EmulatorError } from '../errors.ts';
import { html, page, type SafeHtml } from '../html.ts';
import { PLACEMENTS, type Course } from '../types.ts';

const checkbox = z
  .union([z.literal('on'), z.literal('1'), z.literal('true')])
  .optional()
  .transform((v) => v !== undefined);

const manualToolForm = z.object({
  name: z.string().trim().min(1),
  toolJwksUrl: z.url(),
  oidcInitiationUrl: z.url(),
  targetLinkUri: z.url(),
  redirectUris: z.string().trim().min(1),
  deepLinkingUrl: z.union([z.url(), z.literal('')]).optional(),
  services: checkbox,
});

const courseSettingsForm = z.object({ concluded: checkbox, hasGradingCategory: checkbox });
const teacherGradeForm = z.object({
  lineItemId: z.string().min(1),
  sub: z.string().min(1),
  grade: z.union([z.literal(''), z.coerce.number().min(0)]),
});
const missingForm = z.object({
  lineItemId: z.string().min(1),
  sub: z.string().min(1),
  missing: checkbox,
});
const publishForm = z.object({ published: checkbox });

/**
 * The human side of the emulator: courses, people, launch buttons and a gradebook that shows what
 * the tool wrote. It has no authentication or CSRF protection: it is a local test double.
 */
export function uiRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state, options, urls } = ctx;
  const form = express.urlencoded({ extended: false });
  const send = (res: Response, title: string, body: SafeHtml, status = 200): void => {
    res
      .status(status)
      .type('html')
      .send(page(title, body, { flavour: state.flavour }));
  };
  const withCourse = (id: string, res: Response): Course | undefined => {
    const course = state.courses.get(id);
    if (!course) send(res, 'Not found', html`<p>No course ${id}.</p>`, 404);
    return course;
  };

  router.get('/', (_req, res) => {
    const tools = [...state.tools.values()];
    const body = html` <dl>
        <dt>Issuer</dt>
        <dd><code>${options.issuer}</code></dd>
        <dt>OIDC authorization endpoint</dt>
        <dd><code>${urls.authorize}</code></dd>
        <dt>Token endpoint</dt>
        <dd><code>${urls.token}</code></dd>
        <dt>Platform JWKS</dt>
        <dd><code>${urls.jwks}</code></dd>
        ${
          options.dynamicRegistration
            ? html`<dt>OpenID configuration</dt>
                <dd><code>${urls.openidConfiguration}</code></dd>`
            : ''
        }
      </dl>
      <h2>Courses</h2>
      <ul>
        ${[...state.courses.values()].map((c) => html`<li><a href="/ui/courses/${c.courseId}">${c.title}</a> <span class="muted">${c.label}</span></li>`)}
      </ul>
      <h2>Tools</h2>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>client_id</th>
            <th>Deployments</th>
            <th>Registered</th>
          </tr>
        </thead>
        <tbody>
          ${tools.map(
            (t) =>
              html`<tr>
                <td>${t.name}</td>
                <td><code>${t.clientId}</code></td>
                <td>
                  ${state.deploymentsOf(t.clientId).map((d) => html`<code>${d.deploymentId}</code> `)}
                </td>
                <td>${t.registeredVia}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${options.dynamicRegistration ? html`<p><a href="/ui/dynamic-registration">Register a tool with Dynamic Registration</a></p>` : ''}
      <h2>Register a tool by hand</h2>
      <form method="post" action="/ui/tools">
        <p>
          <label>Name <input name="name" required /></label>
        </p>
        <p>
          <label
            >Public JWK set URL <input type="url" name="toolJwksUrl" required size="60"
          /></label>
        </p>
        <p>
          <label
            >OIDC login initiation URL
            <input type="url" name="oidcInitiationUrl" required size="60"
          /></label>
        </p>
        <p>
          <label
            >Target link URI <input type="url" name="targetLinkUri" required size="60"
          /></label>
        </p>
        <p>
          <label
            >Redirect URIs (one a line)
            <textarea name="redirectUris" rows="2" cols="60" required></textarea>
          </label>
        </p>
        <p>
          <label>Deep linking URL <input type="url" name="deepLinkingUrl" size="60" /></label>
        </p>
        <p>
          <label><input type="checkbox" name="services" checked /> Grant AGS and NRPS scopes</label>
        </p>
        <p><button type="submit">Register and deploy</button></p>
      </form>`;
    send(res, options.platformName, body);
  });

  router.post('/ui/tools', form, (req, res) => {
    const parsed = manualToolForm.safeParse(req.body);
    if (!parsed.success) {
      send(res, 'Registration refused', html`<p class="error">${parsed.error.message}</p>`, 400);
      return;
    }
    const f = parsed.data;
    const tool = state.registerTool({
      name: f.name,
      toolJwksUrl: f.toolJwksUrl,
      oidcInitiationUrl: f.oidcInitiationUrl,
      targetLinkUri: f.targetLinkUri,
      redirectUris: f.redirectUris.split(/\s+/).filter((u) => u !== ''),
      ...(f.deepLinkingUrl ? { deepLinkingUrl: f.deepLinkingUrl } : {}),
      scopes: f.services ? [...ALL_SERVICE_SCOPES] : [],
    });
    state.addDeployment(tool.clientId);
    res.redirect(303, '/');
  });

  router.get('/ui/courses/:courseId', (req, res) => {
    const course = withCourse(req.params.courseId, res);
    if (!course) return;
    const tools = [...state.tools.values()].filter((t) =>
      state
        .deploymentsOf(t.clientId)
        .some((d) => d.courseIds === undefined || d.courseIds.includes(course.courseId)),
    );
    const members = state.members(course.courseId);
    const launchHref = (
      clientId: string,
      userId: string,
      placement: string,
      extra: Record<string, string> = {},
    ) =>
      `/launch?${new URLSearchParams({ course: course.courseId, user: userId, placement, client_id: clientId, frame: '1', ...extra }).toString()}`;
    const links = [...state.resourceLinks.values()].filter((l) => l.courseId === course.courseId);
    const body = html` <p>
        ${course.label} · context id <code>${course.contextId}</code> ·
        <a href="/ui/courses/${course.courseId}/gradebook">Gradebook</a>
      </p>
      <form method="post" action="/ui/courses/${course.courseId}/settings">
        <label
          ><input type="checkbox" name="concluded" ${course.concluded ? html` checked` : ''} />
          Course concluded</label
        >
        <label
          ><input
            type="checkbox"
            name="hasGradingCategory"
            ${course.hasGradingCategory ? html` checked` : ''}
          />
          Has a grading category</label
        >
        <button type="submit">Save</button>
      </form>
      <h2>People</h2>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Roles</th>
            <th>LTI sub</th>
            <th>Launch</th>
          </tr>
        </thead>
        <tbody>
          ${members.map(
            ({ person, roles }) =>
              html`<tr>
                <td>${person.name}${person.isTestStudent ? ' (Test Student)' : ''}</td>
                <td>${roles.join(', ')}</td>
                <td><code>${person.sub}</code></td>
                <td>
                  ${tools.map((t) => PLACEMENTS.map((p) => html`<a href="${launchHref(t.clientId, person.userId, p)}">${t.name}: ${p}</a> `))}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Resource links</h2>
      <table>
        <thead>
          <tr>
            <th>Title</th>
            <th>Made by</th>
            <th>Launch as</th>
          </tr>
        </thead>
        <tbody>
          ${links.map(
            (l) =>
              html`<tr>
                <td>${l.title}</td>
                <td>${l.createdBy}${l.placement ? ` (${l.placement})` : ''}</td>
                <td>
                  <form method="get" action="/launch" class="inline">
                    <input type="hidden" name="course" value="${course.courseId}" /><input
                      type="hidden"
                      name="placement"
                      value="${l.placement ?? 'course_navigation'}"
                    />
                    <input type="hidden" name="message_type" value="LtiResourceLinkRequest" /><input
                      type="hidden"
                      name="client_id"
                      value="${l.clientId}"
                    />
                    <input type="hidden" name="resource_link" value="${l.resourceLinkId}" /><input
                      type="hidden"
                      name="frame"
                      value="1"
                    />
                    <label
                      >Person
                      <select name="user">
                        ${members.map(({ person }) => html`<option value="${person.userId}">${person.name}</option>`)}
                      </select></label
                    >
                    <button type="submit">Launch</button>
                  </form>
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`;
    send(res, course.title, body);
  });

  router.post('/ui/courses/:courseId/settings', form, (req, res) => {
    const course = withCourse(req.params.courseId, res);
    if (!course) return;
    const f = courseSettingsForm.parse(req.body);
    state.setCourseConcluded(course.courseId, f.concluded);
    state.setGradingCategory(course.courseId, f.hasGradingCategory);
    res.redirect(303, `/ui/courses/${course.courseId}`);
  });

  router.get('/ui/courses/:courseId/gradebook', (req, res) => {
    const course = withCourse(req.params.courseId, res);
    if (!course) return;
    const columns = state.gradebookColumns(course.courseId);
    const hidden = state.lineItemsOf(course.courseId).filter((li) => !columns.includes(li));
    const learners = state.members(course.courseId).filter((m) => m.roles.includes('Learner'));
    const body = html` ${
        state.flavour === 'schoology' && !course.hasGradingCategory
          ? html`<p class="error">This course has no grading category: tool columns are hidden.</p>`
          : ''
      }
      <table>
        <thead>
          <tr>
            <th>Student</th>
            ${columns.map(
              (li) =>
                html`<th>
                  ${li.label}<br /><span class="muted"
                    >${li.scoreMaximum} pts${li.tag ? ` · ${li.tag}` : ''}</span
                  >
                  ${
                    state.flavour === 'canvas'
                      ? html`<form
                          method="post"
                          action="/ui/courses/${course.courseId}/line-items/${li.lineItemId}/publish"
                          class="inline"
                        >
                          ${li.published ? '' : html`<input type="hidden" name="published" value="on" />`}
                          <button type="submit">${li.published ? 'Unpublish' : 'Publish'}</button>
                        </form>`
                      : ''
                  }
                </th>`,
            )}
          </tr>
        </thead>
        <tbody>
          ${learners.map(
            ({ person }) =>
              html`<tr>
                <td>${person.name}</td>
                ${columns.map((li) => {
                  const cell = state.findCell(li.lineItemId, person.sub);
                  return html`<td data-line-item="${li.lineItemId}" data-sub="${person.sub}">
                    <strong>${cell?.displayedScore ?? '–'}</strong>
                    <span class="muted"
                      >${cell ? `posts: ${cell.postCount}` : ''}${cell?.teacherGrade !== undefined ? ' · manual' : ''}${cell?.missing ? ' · missing' : ''}${cell !== undefined && cell.comments.length > 0 ? ` · comments: ${cell.comments.length}` : ''}</span
                    >
                    <form
                      method="post"
                      action="/ui/courses/${course.courseId}/gradebook/manual-grade"
                      class="inline"
                    >
                      <input type="hidden" name="lineItemId" value="${li.lineItemId}" /><input
                        type="hidden"
                        name="sub"
                        value="${person.sub}"
                      />
                      <input
                        name="grade"
                        size="3"
                        aria-label="Manual grade for ${person.name}, ${li.label}"
                        value="${cell?.teacherGrade ?? ''}"
                      /><button type="submit">Set</button>
                    </form>
                    ${
                      state.flavour === 'schoology'
                        ? html`<form
                            method="post"
                            action="/ui/courses/${course.courseId}/gradebook/missing"
                            class="inline"
                          >
                            <input type="hidden" name="lineItemId" value="${li.lineItemId}" /><input
                              type="hidden"
                              name="sub"
                              value="${person.sub}"
                            />
                            ${cell?.missing ? '' : html`<input type="hidden" name="missing" value="on" />`}<button
                              type="submit"
                            >
                              ${cell?.missing ? 'Clear missing' : 'Mark missing'}
                            </button>
                          </form>`
                        : ''
                    }
                  </td>`;
                })}
              </tr>`,
          )}
        </tbody>
      </table>
      ${
        hidden.length > 0
          ? html`<h2>Line items without a column</h2>
              <ul>
                ${hidden.map((li) => html`<li>${li.label} (${li.scoreMaximum} pts)</li>`)}
              </ul>`
          : ''
      }
      <p><a href="/ui/courses/${course.courseId}">Back to the course</a></p>`;
    send(res, `Gradebook: ${course.title}`, body);
  });

  router.post('/ui/courses/:courseId/gradebook/manual-grade', form, (req, res) => {
    const course = withCourse(req.params.courseId, res);
    if (!course) return;
    const f = teacherGradeForm.safeParse(req.body);
    if (!f.success) {
      send(res, 'Invalid grade', html`<p class="error">${f.error.message}</p>`, 400);
      return;
    }
    state.setTeacherGrade(
      f.data.lineItemId,
      f.data.sub,
      f.data.grade === '' ? undefined : f.data.grade,
    );
    res.redirect(303, `/ui/courses/${course.courseId}/gradebook`);
  });

  router.post('/ui/courses/:courseId/gradebook/missing', form, (req, res) => {
    const course = withCourse(req.params.courseId, res);
    if (!course) return;
    const f = missingForm.parse(req.body);
    state.setMissing(f.lineItemId, f.sub, f.missing);
    res.redirect(303, `/ui/courses/${course.courseId}/gradebook`);
  });

  router.post('/ui/courses/:courseId/line-items/:lineItemId/publish', form, (req, res) => {
    const course = withCourse(req.params.courseId, res);
    if (!course) return;
    const f = publishForm.parse(req.body);
    state.setLineItemPublished(req.params.lineItemId, f.published);
    res.redirect(303, `/ui/courses/${course.courseId}/gradebook`);
  });

  router.use((error: unknown, _req: express.Request, res: Response, next: express.NextFunction) => {
    if (error instanceof EmulatorError || error instanceof z.ZodError) {
      send(res, 'Request refused', html`<p class="error">${error.message}</p>`, 400);
      return;
    }
    next(error);
  });

  return router;
}
