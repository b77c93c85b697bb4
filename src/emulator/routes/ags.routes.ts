import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { MEDIA_TYPE, SCOPE } from '../claims.ts';
import type { EmulatorContext } from '../context.ts';
import type { AccessToken, Course, GradebookCell, LineItem, ReceivedScore } from '../types.ts';
import { canvasThrottle } from './canvas-throttle.ts';
import {
  appendPath,
  nextPageLink,
  requireToken,
  sendApiError,
  serviceGuard,
} from './service-guard.ts';

/** AGS 2.0 `timestamp`: ISO 8601 with sub-second precision and a zone. */
const ISO_WITH_FRACTION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,9}(Z|[+-]\d{2}:?\d{2})$/;

const lineItemBody = z.object({
  label: z.string().trim().min(1, 'label is required'),
  scoreMaximum: z.number().positive('scoreMaximum must be greater than 0'),
  resourceLinkId: z.string().min(1).optional(),
  resourceId: z.string().optional(),
  tag: z.string().optional(),
  startDateTime: z.string().optional(),
  endDateTime: z.string().optional(),
  gradesReleased: z.boolean().optional(),
});

const canvasSubmission = z.looseObject({
  new_submission: z.boolean().optional(),
  submitted_at: z.string().optional(),
  prioritize_non_tool_grade: z.boolean().optional(),
  submission_type: z.string().optional(),
  submission_data: z.string().optional(),
  content_items: z.unknown().optional(),
});

const CANVAS_SUBMISSION = 'https://canvas.instructure.com/lti/submission';

const scoreBody = z
  .object({
    userId: z.string().min(1),
    scoreGiven: z.number().min(0).optional(),
    scoreMaximum: z.number().positive().optional(),
    comment: z.string().optional(),
    activityProgress: z.enum(['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed']),
    gradingProgress: z.enum(['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady']),
    timestamp: z
      .string()
      .regex(ISO_WITH_FRACTION, 'timestamp must be ISO 8601 with fractional seconds'),
    [CANVAS_SUBMISSION]: canvasSubmission.optional(),
  })
  .refine((s) => s.scoreGiven === undefined || s.scoreMaximum !== undefined, {
    error: 'scoreMaximum is required when scoreGiven is present',
    path: ['scoreMaximum'],
  });

const pagingQuery = z.object({
  limit: z.coerce.number().int().positive().optional(),
  /** Canvas's own API page size parameter (its AGS maps `limit` onto it). */
  per_page: z.coerce.number().int().positive().optional(),
  page: z.coerce.number().int().positive().optional(),
});

/**
 * Canvas's API pagination (`lib/api.rb`): 10 items a page unless asked (`Api::PER_PAGE`), at most
 * 100 (`Api::MAX_PER_PAGE`); AGS lists take `limit` as `per_page` (gradebook_services.rb).
 */
const CANVAS_PER_PAGE = 10;
const CANVAS_MAX_PER_PAGE = 100;

const lineItemsQuery = pagingQuery.extend({
  resource_link_id: z.string().optional(),
  resource_id: z.string().optional(),
  tag: z.string().optional(),
});

const resultsQuery = pagingQuery.extend({ user_id: z.string().optional() });

function bodyIsOf(req: Request, mediaType: string): boolean {
  return (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() === mediaType;
}

/** Assignment and Grade Services 2.0, with the flavour's quirks (see ../shared/LMS-NOTES.md). */
export function agsRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state, options, urls } = ctx;
  const flavour = state.flavour;
  const json = express.json({ type: ['application/json', 'application/*+json'] });
  const base = '/api/lti/courses/:courseId/line_items';

  // Canvas throttles before anything else runs (a Rack middleware around the whole request).
  router.use(base, canvasThrottle(ctx), serviceGuard(ctx));

  /** The page size of a list answer, per flavour. */
  function pageSize(query: { limit?: number | undefined; per_page?: number | undefined }): number {
    if (flavour === 'canvas') {
      return Math.min(query.limit ?? query.per_page ?? CANVAS_PER_PAGE, CANVAS_MAX_PER_PAGE);
    }
    return Math.min(query.limit ?? options.lineItemsMaxPageSize, options.lineItemsMaxPageSize);
  }

  /** Course checks shared by every AGS route; answers and returns undefined on failure. */
  function courseFor(req: Request, res: Response, token: AccessToken): Course | undefined {
    const course = state.courses.get(String(req.params['courseId']));
    if (!course) {
      sendApiError(res, 404, 'not_found', 'The specified resource does not exist.');
      return undefined;
    }
    if (flavour === 'canvas' && course.concluded) {
      if (options.concludedCourseStatus === 422) {
        sendApiError(
          res,
          422,
          'unprocessable_entity',
          'This course has concluded. AGS requests will no longer be accepted for this course.',
        );
      } else {
        res.status(404).json({ errors: [{ message: 'The specified resource does not exist.' }] });
      }
      return undefined;
    }
    const deployed = state
      .deploymentsOf(token.clientId)
      .some((d) => d.courseIds === undefined || d.courseIds.includes(course.courseId));
    if (!deployed) {
      sendApiError(res, 403, 'forbidden', 'Tool is not installed in this context');
      return undefined;
    }
    return course;
  }

  function lineItemFor(req: Request, res: Response, course: Course, token: AccessToken) {
    const item = state.lineItems.get(String(req.params['lineItemId']));
    if (!item || item.courseId !== course.courseId || item.clientId !== token.clientId) {
      sendApiError(res, 404, 'not_found', 'The specified resource does not exist.');
      return undefined;
    }
    return item;
  }

  /** The bearer token (one of `scopes`) and the course it may use; answers and returns undefined on failure. */
  function courseRequest(req: Request, res: Response, scopes: readonly string[]) {
    const token = requireToken(ctx, req, res, [...scopes]);
    if (!token) return undefined;
    const course = courseFor(req, res, token);
    if (!course) return undefined;
    return { token, course };
  }

  /** As `courseRequest`, plus the tool's own line item named in the path. */
  function lineItemRequest(req: Request, res: Response, scopes: readonly string[]) {
    const found = courseRequest(req, res, scopes);
    if (!found) return undefined;
    const item = lineItemFor(req, res, found.course, found.token);
    if (!item) return undefined;
    return { ...found, item };
  }

  function lineItemJson(item: LineItem): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: urls.lineItem(item.courseId, item.lineItemId),
      label: item.label,
      scoreMaximum: item.scoreMaximum,
    };
    if (item.resourceLinkId !== undefined) out['resourceLinkId'] = item.resourceLinkId;
    if (item.resourceId !== undefined) out['resourceId'] = item.resourceId;
    if (item.tag !== undefined) out['tag'] = item.tag;
    if (item.startDateTime !== undefined) out['startDateTime'] = item.startDateTime;
    if (item.endDateTime !== undefined) out['endDateTime'] = item.endDateTime;
    if (item.gradesReleased !== undefined) out['gradesReleased'] = item.gradesReleased;
    return out;
  }

  function send(res: Response, status: number, mediaType: string, body: unknown): void {
    res.status(status).type(mediaType).send(JSON.stringify(body));
  }

  function validationError(res: Response, error: z.ZodError): void {
    sendApiError(res, 400, 'bad_request', error.issues.map((i) => i.message).join('; '));
  }

  router.get(base, (req, res) => {
    const found = courseRequest(req, res, [SCOPE.lineItem, SCOPE.lineItemReadonly]);
    if (!found) return;
    const { token, course } = found;
    const q = lineItemsQuery.safeParse(req.query);
    if (!q.success) {
      validationError(res, q.error);
      return;
    }
    const items = state
      .lineItemsOf(course.courseId, token.clientId)
      .filter(
        (li) =>
          (q.data.resource_link_id === undefined ||
            li.resourceLinkId === q.data.resource_link_id) &&
          (q.data.resource_id === undefined || li.resourceId === q.data.resource_id) &&
          (q.data.tag === undefined || li.tag === q.data.tag),
      );
    const limit = pageSize(q.data);
    const page = q.data.page ?? 1;
    const slice = items.slice((page - 1) * limit, page * limit);
    if (page * limit < items.length) res.set('Link', nextPageLink(options.baseUrl, req, page));
    send(res, 200, MEDIA_TYPE.lineItemContainer, slice.map(lineItemJson));
  });

  router.post(base, json, (req, res) => {
    const found = courseRequest(req, res, [SCOPE.lineItem]);
    if (!found) return;
    const { token, course } = found;
    if (!bodyIsOf(req, MEDIA_TYPE.lineItem) && !bodyIsOf(req, 'application/json')) {
      sendApiError(
        res,
        415,
        'unsupported_media_type',
        `Content-Type must be ${MEDIA_TYPE.lineItem}`,
      );
      return;
    }
    const body = lineItemBody.safeParse(req.body);
    if (!body.success) {
      validationError(res, body.error);
      return;
    }
    const linkId = body.data.resourceLinkId;
    if (linkId !== undefined) {
      const link = state.resourceLinks.get(linkId);
      if (!link || link.courseId !== course.courseId || link.clientId !== token.clientId) {
        sendApiError(
          res,
          422,
          'unprocessable_entity',
          'Resource link id points to Tool not associated with this Context',
        );
        return;
      }
    }
    const item = state.createLineItem({
      ...body.data,
      // Schoology ignores endDateTime (district live tests, 2026-10).
      endDateTime: flavour === 'schoology' ? undefined : body.data.endDateTime,
      courseId: course.courseId,
      clientId: token.clientId,
    });
    send(res, 201, MEDIA_TYPE.lineItem, lineItemJson(item));
  });

  router.get(`${base}/:lineItemId`, (req, res) => {
    const found = lineItemRequest(req, res, [SCOPE.lineItem, SCOPE.lineItemReadonly]);
    if (!found) return;
    const { item } = found;
    send(res, 200, MEDIA_TYPE.lineItem, lineItemJson(item));
  });

  router.put(`${base}/:lineItemId`, json, (req, res) => {
    const found = lineItemRequest(req, res, [SCOPE.lineItem]);
    if (!found) return;
    const { item } = found;
    const body = lineItemBody.safeParse(req.body);
    if (!body.success) {
      validationError(res, body.error);
      return;
    }
    // A line item's resource link cannot change (AGS §3.2.7); the field is ignored.
    item.label = body.data.label;
    item.scoreMaximum = body.data.scoreMaximum;
    item.resourceId = body.data.resourceId;
    item.tag = body.data.tag;
    item.startDateTime = body.data.startDateTime;
    item.endDateTime = flavour === 'schoology' ? undefined : body.data.endDateTime;
    item.gradesReleased = body.data.gradesReleased;
    send(res, 200, MEDIA_TYPE.lineItem, lineItemJson(item));
  });

  router.delete(`${base}/:lineItemId`, (req, res) => {
    const found = lineItemRequest(req, res, [SCOPE.lineItem]);
    if (!found) return;
    const { item } = found;
    state.deleteLineItem(item.lineItemId);
    res.status(204).end();
  });

  router.post(`${base}/:lineItemId/scores`, json, (req, res) => {
    const found = lineItemRequest(req, res, [SCOPE.score]);
    if (!found) return;
    const { course, item } = found;
    state.counters.scorePosts++;
    if (!bodyIsOf(req, MEDIA_TYPE.score)) {
      sendApiError(res, 415, 'unsupported_media_type', `Content-Type must be ${MEDIA_TYPE.score}`);
      return;
    }
    const body = scoreBody.safeParse(req.body);
    if (!body.success) {
      validationError(res, body.error);
      return;
    }
    const score = body.data;
    const person = state.personBySub(score.userId);
    // Current Canvas accepts scores for the Test Student (Student View): it is a student of the
    // course (gradebook_services.rb `verify_user_in_context`, `context.user_is_student?`).
    const isLearner =
      person !== undefined && state.rolesIn(course.courseId, person.userId).includes('Learner');
    if (!person || !isLearner) {
      sendApiError(
        res,
        422,
        'unprocessable_entity',
        'User not found in course or is not a student',
      );
      return;
    }
    if (flavour === 'canvas' && !item.published) {
      res.status(422).json({
        errors: [
          {
            field: 'grade',
            message: 'cannot be changed at this time: This assignment is still unpublished',
            error_code: null,
          },
        ],
      });
      return;
    }
    const cell = state.cell(item.lineItemId, score.userId);
    const previous = cell.lastScore?.timestamp;
    if (previous !== undefined && Date.parse(score.timestamp) < Date.parse(previous)) {
      if (flavour === 'canvas') {
        sendApiError(
          res,
          400,
          'bad_request',
          `Provided timestamp of ${score.timestamp} before last updated timestamp of ${previous}`,
        );
        return;
      }
      // AGS §3.4: a score older than the stored one must not replace it; others ignore it quietly.
      cell.postCount++;
      res.status(204).end();
      return;
    }
    const received: ReceivedScore = {
      userId: score.userId,
      scoreGiven: score.scoreGiven,
      scoreMaximum: score.scoreMaximum,
      comment: score.comment,
      activityProgress: score.activityProgress,
      gradingProgress: score.gradingProgress,
      timestamp: score.timestamp,
      canvasSubmission: flavour === 'canvas' ? score[CANVAS_SUBMISSION] : undefined,
      receivedAt: options.now(),
    };
    applyScore(item, cell, received);
    const resultUrl = appendPath(
      urls.lineItem(course.courseId, item.lineItemId),
      `/results/${encodeURIComponent(score.userId)}`,
    );
    if (flavour === 'canvas') {
      res.status(200).json({ resultUrl });
    } else {
      res.status(204).end();
    }
  });

  /** What a score does to the gradebook cell, per flavour. */
  function applyScore(item: LineItem, cell: GradebookCell, score: ReceivedScore): void {
    cell.postCount++;
    cell.history.push(score);
    cell.lastScore = score;
    // Schoology: re-posting a score clears the teacher's Missing flag (LMS-NOTES, 2026-10 tests).
    if (flavour === 'schoology') cell.missing = false;
    // Canvas: every post carrying a comment adds a NEW submission comment, even when the score is
    // skipped below (scores_controller.rb `score_submission`: `add_comment` after grading).
    if (flavour === 'canvas' && score.comment !== undefined && score.comment !== '') {
      cell.comments.push(score.comment);
    }
    // Canvas ignores NotReady/Failed/Pending for the grade itself.
    const gradeBearing =
      flavour !== 'canvas' ||
      score.gradingProgress === 'FullyGraded' ||
      score.gradingProgress === 'PendingManual';
    if (!gradeBearing) return;
    // Canvas's rule: under `prioritize_non_tool_grade` the update is skipped whenever the submission
    // already has ANY score, the tool's own earlier score included (LMS-NOTES; docs/lms/canvas.md).
    const skipUpdate =
      flavour === 'canvas' &&
      score.canvasSubmission?.prioritize_non_tool_grade === true &&
      cell.displayedScore !== undefined;
    if (skipUpdate) return;
    cell.teacherGrade = undefined;
    cell.displayedScore =
      score.scoreGiven === undefined || score.scoreMaximum === undefined
        ? undefined
        : (score.scoreGiven / score.scoreMaximum) * item.scoreMaximum;
  }

  router.get(`${base}/:lineItemId/results`, (req, res) => {
    const found = lineItemRequest(req, res, [SCOPE.resultReadonly]);
    if (!found) return;
    const { course, item } = found;
    const q = resultsQuery.safeParse(req.query);
    if (!q.success) {
      validationError(res, q.error);
      return;
    }
    const lineItemUrl = urls.lineItem(course.courseId, item.lineItemId);
    const results = [...state.cells.values()]
      .filter((c) => c.lineItemId === item.lineItemId)
      .filter((c) => q.data.user_id === undefined || c.userId === q.data.user_id)
      .filter((c) => c.lastScore !== undefined || c.teacherGrade !== undefined)
      .map((c) => {
        const result: Record<string, unknown> = {
          id: appendPath(lineItemUrl, `/results/${encodeURIComponent(c.userId)}`),
          scoreOf: lineItemUrl,
          userId: c.userId,
          resultMaximum: item.scoreMaximum,
        };
        if (c.displayedScore !== undefined) result['resultScore'] = c.displayedScore;
        if (c.lastScore?.comment !== undefined) result['comment'] = c.lastScore.comment;
        return result;
      });
    const limit = pageSize(q.data);
    const page = q.data.page ?? 1;
    if (page * limit < results.length) res.set('Link', nextPageLink(options.baseUrl, req, page));
    send(res, 200, MEDIA_TYPE.resultContainer, results.slice((page - 1) * limit, page * limit));
  });

  return router;
}
