import { z } from 'zod';
import { LTI_SCOPE } from './claims.ts';
import {
  authorizedRequest,
  fetchAllPages,
  parseJsonBody,
  requireScope,
} from './service-request.ts';
import type { LtiServiceContext } from './service-request.ts';

/** Assignment and Grade Services 2.0 media types (AGS 2.0 §3.2–3.4). */
export const AGS_MEDIA_TYPE = {
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
  resultContainer: 'application/vnd.ims.lis.v2.resultcontainer+json',
} as const;

/**
 * Canvas's score extension. We send `new_submission: false` only: `prioritize_non_tool_grade` makes
 * Canvas skip every update once the submission has any score, the tool's own included.
 */
export const CANVAS_SUBMISSION_EXTENSION = 'https://canvas.instructure.com/lti/submission';

export const lineItemSchema = z.looseObject({
  id: z.url(),
  scoreMaximum: z.number(),
  label: z.string(),
  resourceId: z.string().optional(),
  resourceLinkId: z.string().optional(),
  tag: z.string().optional(),
  startDateTime: z.string().optional(),
  endDateTime: z.string().optional(),
  gradesReleased: z.boolean().optional(),
});

export type LineItem = z.infer<typeof lineItemSchema>;

export const resultSchema = z.looseObject({
  id: z.string(),
  scoreOf: z.string().optional(),
  userId: z.string(),
  resultScore: z.number().nullish(),
  resultMaximum: z.number().nullish(),
  comment: z.string().nullish(),
});

export type Result = z.infer<typeof resultSchema>;

export interface NewLineItem {
  readonly label: string;
  readonly scoreMaximum: number;
  readonly resourceId?: string | undefined;
  /** Omit for a standalone gradebook column (Canvas: a line item without resourceLinkId is its own assignment). */
  readonly resourceLinkId?: string | undefined;
  readonly tag?: string | undefined;
  readonly startDateTime?: Date | undefined;
  readonly endDateTime?: Date | undefined;
  readonly gradesReleased?: boolean | undefined;
}

export interface LineItemFilters {
  readonly resourceLinkId?: string;
  readonly resourceId?: string;
  readonly tag?: string;
  /** Page size asked for (default `AGS_PAGE_SIZE`); all pages are still followed. */
  readonly limit?: number;
}

export type ActivityProgress = 'Initialized' | 'Started' | 'InProgress' | 'Submitted' | 'Completed';
export type GradingProgress = 'FullyGraded' | 'Pending' | 'PendingManual' | 'Failed' | 'NotReady';

export interface CanvasSubmissionExtension {
  readonly newSubmission?: boolean;
  readonly submittedAt?: Date;
  readonly prioritizeNonToolGrade?: boolean;
}

export interface Score {
  readonly userId: string;
  readonly scoreGiven?: number | undefined;
  /** Required whenever scoreGiven is sent (AGS 2.0 §3.4.3). */
  readonly scoreMaximum?: number | undefined;
  readonly comment?: string | undefined;
  readonly activityProgress: ActivityProgress;
  /** Canvas ignores NotReady/Failed/Pending: use FullyGraded for a grade (LMS-NOTES). */
  readonly gradingProgress: GradingProgress;
  /** Must increase per user and line item: Canvas rejects a timestamp older than the last one stored. */
  readonly timestamp: Date;
  readonly canvasSubmission?: CanvasSubmissionExtension | undefined;
}

/**
 * Appends `/scores` or `/results` to a line item URL before its query string. Canvas line item URLs may
 * carry one (`.../line_items/7?include=...`), and AGS 2.0 §3.4 asks for the path to be extended, not
 * the query.
 */
export function lineItemServiceUrl(lineItemUrl: string, service: 'scores' | 'results'): URL {
  const url = new URL(lineItemUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${service}`;
  return url;
}

function lineItemBody(item: NewLineItem): Record<string, unknown> {
  const body: Record<string, unknown> = { label: item.label, scoreMaximum: item.scoreMaximum };
  if (item.resourceId !== undefined) body['resourceId'] = item.resourceId;
  if (item.resourceLinkId !== undefined) body['resourceLinkId'] = item.resourceLinkId;
  if (item.tag !== undefined) body['tag'] = item.tag;
  if (item.startDateTime !== undefined) body['startDateTime'] = item.startDateTime.toISOString();
  if (item.endDateTime !== undefined) body['endDateTime'] = item.endDateTime.toISOString();
  if (item.gradesReleased !== undefined) body['gradesReleased'] = item.gradesReleased;
  return body;
}

export function scoreBody(score: Score): Record<string, unknown> {
  if (score.scoreGiven !== undefined && score.scoreMaximum === undefined) {
    throw new RangeError('scoreMaximum is required when scoreGiven is sent');
  }
  const body: Record<string, unknown> = {
    userId: score.userId,
    activityProgress: score.activityProgress,
    gradingProgress: score.gradingProgress,
    timestamp: score.timestamp.toISOString(),
  };
  if (score.scoreGiven !== undefined) body['scoreGiven'] = score.scoreGiven;
  if (score.scoreMaximum !== undefined) body['scoreMaximum'] = score.scoreMaximum;
  if (score.comment !== undefined) body['comment'] = score.comment;
  if (score.canvasSubmission !== undefined) {
    const extension: Record<string, unknown> = {};
    const { newSubmission, submittedAt, prioritizeNonToolGrade } = score.canvasSubmission;
    if (newSubmission !== undefined) extension['new_submission'] = newSubmission;
    if (submittedAt !== undefined) extension['submitted_at'] = submittedAt.toISOString();
    if (prioritizeNonToolGrade !== undefined)
      extension['prioritize_non_tool_grade'] = prioritizeNonToolGrade;
    body[CANVAS_SUBMISSION_EXTENSION] = extension;
  }
  return body;
}

const READ_LINE_ITEMS = [LTI_SCOPE.lineItem, LTI_SCOPE.lineItemReadonly];

/**
 * The page size asked of line item and result lists (`limit`, AGS 2.0 §3.2.3). Canvas maps `limit` to
 * its API `per_page`, 10 by default and at most 100 (`lib/api.rb`, `Api::MAX_PER_PAGE`), so without
 * it a course of 60 columns costs 6 calls instead of 1.
 */
export const AGS_PAGE_SIZE = 100;

export interface AgsClient {
  listLineItems(lineItemsUrl: string, filters?: LineItemFilters): Promise<LineItem[]>;
  getLineItem(lineItemUrl: string): Promise<LineItem>;
  createLineItem(lineItemsUrl: string, item: NewLineItem): Promise<LineItem>;
  updateLineItem(lineItemUrl: string, item: NewLineItem): Promise<LineItem>;
  deleteLineItem(lineItemUrl: string): Promise<void>;
  postScore(lineItemUrl: string, score: Score): Promise<void>;
  listResults(
    lineItemUrl: string,
    filters?: { userId?: string; limit?: number },
  ): Promise<Result[]>;
}

const AGS_SCOPE_PREFIX = 'https://purl.imsglobal.org/spec/lti-ags/scope/';

export function createAgsClient(granted: LtiServiceContext): AgsClient {
  // One token for all granted AGS scopes, and only those: Canvas refuses the whole token request
  // (invalid_scope) when any scope asked for is not enabled on the developer key.
  const context: LtiServiceContext = {
    ...granted,
    scopes: granted.scopes.filter((scope) => scope.startsWith(AGS_SCOPE_PREFIX)),
  };
  return {
    async listLineItems(lineItemsUrl, filters = {}) {
      requireScope(context, READ_LINE_ITEMS, 'listing line items');
      const url = new URL(lineItemsUrl);
      if (filters.resourceLinkId !== undefined)
        url.searchParams.set('resource_link_id', filters.resourceLinkId);
      if (filters.resourceId !== undefined) url.searchParams.set('resource_id', filters.resourceId);
      if (filters.tag !== undefined) url.searchParams.set('tag', filters.tag);
      url.searchParams.set('limit', String(filters.limit ?? AGS_PAGE_SIZE));
      return fetchAllPages(context, url.toString(), AGS_MEDIA_TYPE.lineItemContainer, (response) =>
        parseJsonBody(response, z.array(lineItemSchema), 'line item container'),
      );
    },

    async getLineItem(lineItemUrl) {
      requireScope(context, READ_LINE_ITEMS, 'reading a line item');
      const response = await authorizedRequest(context, {
        url: lineItemUrl,
        accept: AGS_MEDIA_TYPE.lineItem,
      });
      return parseJsonBody(response, lineItemSchema, 'line item');
    },

    async createLineItem(lineItemsUrl, item) {
      requireScope(context, [LTI_SCOPE.lineItem], 'creating a line item');
      const response = await authorizedRequest(context, {
        method: 'POST',
        url: lineItemsUrl,
        accept: AGS_MEDIA_TYPE.lineItem,
        contentType: AGS_MEDIA_TYPE.lineItem,
        body: JSON.stringify(lineItemBody(item)),
      });
      return parseJsonBody(response, lineItemSchema, 'created line item');
    },

    async updateLineItem(lineItemUrl, item) {
      requireScope(context, [LTI_SCOPE.lineItem], 'updating a line item');
      const response = await authorizedRequest(context, {
        method: 'PUT',
        url: lineItemUrl,
        accept: AGS_MEDIA_TYPE.lineItem,
        contentType: AGS_MEDIA_TYPE.lineItem,
        body: JSON.stringify({ id: lineItemUrl, ...lineItemBody(item) }),
      });
      return parseJsonBody(response, lineItemSchema, 'updated line item');
    },

    async deleteLineItem(lineItemUrl) {
      requireScope(context, [LTI_SCOPE.lineItem], 'deleting a line item');
      await authorizedRequest(context, {
        method: 'DELETE',
        url: lineItemUrl,
        accept: AGS_MEDIA_TYPE.lineItem,
      });
    },

    async postScore(lineItemUrl, score) {
      requireScope(context, [LTI_SCOPE.score], 'posting a score');
      await authorizedRequest(context, {
        method: 'POST',
        url: lineItemServiceUrl(lineItemUrl, 'scores').toString(),
        accept: 'application/json',
        contentType: AGS_MEDIA_TYPE.score,
        body: JSON.stringify(scoreBody(score)),
        // Posting the same score (same timestamp) twice leaves the same result: safe to retry.
        idempotent: true,
      });
    },

    async listResults(lineItemUrl, filters = {}) {
      requireScope(context, [LTI_SCOPE.resultReadonly], 'reading results');
      const url = lineItemServiceUrl(lineItemUrl, 'results');
      if (filters.userId !== undefined) url.searchParams.set('user_id', filters.userId);
      if (filters.limit !== undefined) url.searchParams.set('limit', String(filters.limit));
      return fetchAllPages(context, url.toString(), AGS_MEDIA_TYPE.resultContainer, (response) =>
        parseJsonBody(response, z.array(resultSchema), 'result container'),
      );
    },
  };
}
