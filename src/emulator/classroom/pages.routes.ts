import express, { type Request, type Response, type Router } from 'express';
import { EmulatorError } from '../errors.ts';
import { html, jsonForScript, page, type SafeHtml } from '../html.ts';
import type { ClassroomContext } from './context.ts';
import { attachmentFrameUrl, discoveryFrameUrl } from './frames.ts';
import type { GoogleUser } from './types.ts';

/**
 * The human side of the emulated Classroom: courses, an assignment page listing its add-on
 * attachments, and pages that frame the add-on like Classroom does. Who is looking is the `user`
 * query parameter (Google user id or email): a local test double has no sign-in of its own.
 */
export function classroomPages(ctx: ClassroomContext): Router {
  const router = express.Router();
  const { state, urls } = ctx;
  const send = (res: Response, title: string, body: SafeHtml, status = 200): void => {
    res
      .status(status)
      .type('html')
      .send(page(title, body, { flavour: 'classroom' }));
  };
  const viewerOf = (req: Request): GoogleUser | undefined => {
    const raw = req.query.user;
    return typeof raw === 'string' ? state.findUser(raw) : undefined;
  };
  const param = (req: Request, name: string): string => {
    const value: unknown = (req.params as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : '';
  };
  const as = (user: GoogleUser): string => `?user=${encodeURIComponent(user.id)}`;

  /** A page with the add-on in an iframe; the add-on closes it with postMessage closeIframe. */
  const framePage = (res: Response, title: string, src: string, back: string): void => {
    send(
      res,
      title,
      html`<p><a href="${back}">Back to the assignment</a></p>
        <iframe class="tool" id="addon-frame" title="${title}" src="${src}"></iframe>
        <p id="addon-closed" hidden>The add-on closed this view.</p>
        <script>
          (function () {
            var back = ${jsonForScript(back)};
            window.addEventListener('message', function (event) {
              var data = event.data;
              if (data && data.type === 'Classroom' && data.action === 'closeIframe') {
                document.getElementById('addon-frame').remove();
                document.getElementById('addon-closed').hidden = false;
                window.location.assign(back);
              }
            });
          })();
        </script>`,
    );
  };

  router.get('/classroom', (_req, res) => {
    const courses = [...state.courses.values()];
    send(
      res,
      'Classroom',
      html`<p class="muted">
          Issuer <code>${ctx.options.issuer}</code>, API <code>${urls.apiBase}/v1/</code>
        </p>
        <h2>Courses</h2>
        <ul>
          ${courses.map(
            (course) =>
              html`<li>
                ${course.name} <span class="muted">${course.section}</span>
                <ul>
                  ${[...state.courseWork.values()]
                    .filter((w) => w.courseId === course.id && w.state !== 'DELETED')
                    .map(
                      (w) =>
                        html`<li>
                          ${w.title}: open as
                          ${[...course.teacherIds, ...course.studentIds].map((id) => {
                            const user = state.users.get(id);
                            return user
                              ? html`<a href="${urls.item(course.id, w.id)}${as(user)}"
                                  >${user.givenName} ${user.familyName}</a
                                > `
                              : '';
                          })}
                        </li>`,
                    )}
                </ul>
              </li>`,
          )}
        </ul>`,
    );
  });

  router.get('/classroom/c/:courseId/a/:itemId', (req, res) => {
    const course = state.courses.get(param(req, 'courseId'));
    const work = course ? state.findCourseWork(course.id, param(req, 'itemId')) : undefined;
    if (!course || !work) {
      send(res, 'Not found', html`<p>No such assignment.</p>`, 404);
      return;
    }
    const viewer = viewerOf(req);
    if (!viewer) {
      send(
        res,
        'Who is looking?',
        html`<p>Add <code>?user=</code> with a user id or email.</p>`,
        400,
      );
      return;
    }
    const teacher = course.teacherIds.includes(viewer.id);
    if (!teacher && !course.studentIds.includes(viewer.id)) {
      send(res, 'No access', html`<p>${viewer.email} is not in this class.</p>`, 403);
      return;
    }
    const itemUrl = urls.item(course.id, work.id);
    const attachments = state.attachmentsOf(work.id);
    const students = course.studentIds
      .map((id) => state.users.get(id))
      .filter((u): u is GoogleUser => u !== undefined);
    const body = html`<p>
        ${course.name} · signed in as ${viewer.givenName} ${viewer.familyName}
        (${teacher ? 'teacher' : 'student'})${
          work.maxPoints === undefined ? '' : html` · ${work.maxPoints} points`
        }
      </p>
      <h2>Add-on attachments</h2>
      ${
        attachments.length === 0
          ? html`<p>No add-on attachments yet.</p>`
          : html`<ul>
              ${attachments.map(
                (a) =>
                  html`<li>
                    ${a.title}${a.maxPoints === undefined ? '' : html` (${a.maxPoints} points)`}:
                    ${
                      teacher
                        ? html`<a href="${itemUrl}/attachments/${a.id}/teacher${as(viewer)}"
                            >Open teacher view<span class="muted"> of ${a.title}</span></a
                          >`
                        : html`<a href="${itemUrl}/attachments/${a.id}/student${as(viewer)}"
                            >Open<span class="muted"> ${a.title}</span></a
                          >`
                    }
                  </li>`,
              )}
            </ul>`
      }
      ${
        teacher
          ? html`<h2>Add-ons</h2>
              <ul>
                ${(viewer.addOnLicence ? [...state.addOns.values()] : []).map(
                  (addOn) =>
                    html`<li>
                      <a href="${itemUrl}/addons/${addOn.projectNumber}${as(viewer)}"
                        >Add ${addOn.name}</a
                      >
                    </li>`,
                )}
              </ul>
              <h2>Student work</h2>
              <table>
                <caption>
                  Grades of ${work.title}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Student</th>
                    <th scope="col">Draft grade</th>
                    <th scope="col">Assigned grade</th>
                    <th scope="col">Add-on</th>
                  </tr>
                </thead>
                <tbody>
                  ${students.map((student) => {
                    const entry = state.gradebookEntry(work.id, student.id);
                    const review = attachments.find((a) => a.studentWorkReviewUri !== undefined);
                    // The review iframe gets the ATTACHMENT submission's own id.
                    const reviewId =
                      review === undefined
                        ? undefined
                        : state.attachmentSubmission(review, state.submissionFor(work, student.id))
                            .id;
                    return html`<tr>
                      <th scope="row">${student.givenName} ${student.familyName}</th>
                      <td>${entry.draftGrade ?? '—'}</td>
                      <td>${entry.assignedGrade ?? '—'}</td>
                      <td>
                        ${
                          review && reviewId !== undefined
                            ? html`<a
                                href="${itemUrl}/attachments/${review.id}/review${as(
                                  viewer,
                                )}&amp;submissionId=${encodeURIComponent(reviewId)}"
                                >Review work<span class="muted">
                                  of ${student.givenName} ${student.familyName}</span
                                ></a
                              >`
                            : ''
                        }
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>`
          : ''
      }`;
    send(res, work.title, body);
  });

  router.get('/classroom/c/:courseId/a/:itemId/addons/:projectNumber', (req, res) => {
    const viewer = viewerOf(req);
    const courseId = param(req, 'courseId');
    const itemId = param(req, 'itemId');
    if (!viewer || !state.findCourseWork(courseId, itemId)) {
      send(res, 'Not found', html`<p>No such assignment or user.</p>`, 404);
      return;
    }
    try {
      const src = discoveryFrameUrl(state, {
        courseId,
        itemId,
        userId: viewer.id,
        projectNumber: param(req, 'projectNumber'),
      });
      framePage(res, 'Add-on attachment setup', src, `${urls.item(courseId, itemId)}${as(viewer)}`);
    } catch (error) {
      if (!(error instanceof EmulatorError)) throw error;
      send(res, 'Cannot open the add-on', html`<p>${error.message}</p>`, 403);
    }
  });

  router.get('/classroom/c/:courseId/a/:itemId/attachments/:attachmentId/:view', (req, res) => {
    const viewer = viewerOf(req);
    const courseId = param(req, 'courseId');
    const itemId = param(req, 'itemId');
    const view = param(req, 'view');
    const attachment = state.attachments.get(param(req, 'attachmentId'));
    if (
      !viewer ||
      !attachment ||
      attachment.courseId !== courseId ||
      attachment.itemId !== itemId ||
      (view !== 'teacher' && view !== 'student' && view !== 'review')
    ) {
      send(res, 'Not found', html`<p>No such attachment, view or user.</p>`, 404);
      return;
    }
    const teacher = state.isTeacher(courseId, viewer.id);
    const student = state.isStudent(courseId, viewer.id);
    if ((view === 'student' && !student) || (view !== 'student' && !teacher)) {
      send(res, 'No access', html`<p>This view is not for ${viewer.email}.</p>`, 403);
      return;
    }
    const submissionId = typeof req.query.submissionId === 'string' ? req.query.submissionId : '';
    try {
      const src = attachmentFrameUrl(state, {
        attachmentId: attachment.id,
        view,
        userId: viewer.id,
        ...(view === 'review' ? { submissionId } : {}),
      });
      const titles = {
        teacher: 'Add-on teacher view',
        student: 'Add-on student view',
        review: 'Add-on student work review',
      };
      framePage(res, titles[view], src, `${urls.item(courseId, itemId)}${as(viewer)}`);
    } catch (error) {
      if (!(error instanceof EmulatorError)) throw error;
      send(res, 'Cannot open the add-on', html`<p>${error.message}</p>`, 400);
    }
  });

  return router;
}
