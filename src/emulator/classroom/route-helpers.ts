import type { Request, Response } from 'express';
import { z } from 'zod';
import { GOOGLE_MESSAGE, sendGoogleError } from './google-errors.ts';

/*
 * Request steps the Classroom API routes share. Each one either returns what it read or sends
 * Google's error body and returns undefined (or false), so a handler stops at the first failure.
 */

export function notFound(res: Response): void {
  sendGoogleError(res, 'NOT_FOUND', GOOGLE_MESSAGE.notFound);
}

export function denied(res: Response, message: string = GOOGLE_MESSAGE.callerNoPermission): void {
  sendGoogleError(res, 'PERMISSION_DENIED', message);
}

export function invalid(res: Response, message: string): void {
  sendGoogleError(res, 'INVALID_ARGUMENT', message);
}

/** A route parameter as a string ('' when Express gave none). */
export function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

/** A repeated query parameter, each value also split on commas (`?states=A&states=B,C`). */
export function queryList(req: Request, name: string): string[] {
  const raw = req.query[name];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.filter((v): v is string => typeof v === 'string').flatMap((v) => v.split(','));
}

/** The `updateMask` fields, if one was sent and every field is `allowed`. */
export function updateMask(
  req: Request,
  res: Response,
  allowed: readonly string[],
): string[] | undefined {
  const raw = req.query.updateMask;
  const mask =
    typeof raw !== 'string' || raw.trim() === ''
      ? undefined
      : raw
          .split(',')
          .map((f) => f.trim())
          .filter((f) => f !== '');
  if (!mask) {
    invalid(res, 'updateMask is required.');
    return undefined;
  }
  const unknown = mask.filter((f) => !allowed.includes(f));
  if (unknown.length > 0) {
    invalid(res, `Non-supported update mask fields specified: ${unknown.join(', ')}`);
    return undefined;
  }
  return mask;
}

/** The INVALID_ARGUMENT message naming the bad fields of a resource ("Invalid CourseWork: title"). */
export const invalidResource =
  (resource: string) =>
  (error: z.ZodError): string =>
    `Invalid ${resource}: ${error.issues.map((i) => i.path.join('.')).join(', ')}`;

/** The JSON body read with `schema` (an absent body counts as `{}`). */
export function parseBody<Schema extends z.ZodType>(
  schema: Schema,
  req: Request,
  res: Response,
  message: string | ((error: z.ZodError) => string),
): z.output<Schema> | undefined {
  const body = schema.safeParse(req.body ?? {});
  if (!body.success) {
    invalid(res, typeof message === 'string' ? message : message(body.error));
    return undefined;
  }
  return body.data;
}

/** Fields that cannot be empty may not be cleared (named in the mask, absent in the body). */
export function noRequiredCleared<Body extends object>(
  res: Response,
  mask: readonly string[],
  body: Body,
  required: readonly (keyof Body & string)[],
): boolean {
  const cleared = required.filter((f) => mask.includes(f) && body[f] === undefined);
  if (cleared.length > 0) {
    invalid(res, `${cleared.join(', ')} cannot be cleared.`);
    return false;
  }
  return true;
}

const pageToken = z.object({ list: z.string(), offset: z.number().int().min(0) });

/**
 * One page of a list method, Google style: `pageSize` (0 or absent = the largest page) and an
 * opaque `pageToken` bound to the list's path; the page's items under `key` and `nextPageToken`,
 * each left out when empty.
 */
export function sendListPage<T>(
  req: Request,
  res: Response,
  list: { key: string; items: T[]; maxPageSize: number; toJson: (item: T) => unknown },
): void {
  const listKey = req.path;
  const rawSize = req.query.pageSize;
  const size = rawSize === undefined ? 0 : Number(rawSize);
  if (!Number.isInteger(size) || size < 0) {
    invalid(res, 'pageSize must be a non-negative integer.');
    return;
  }
  const pageSize = Math.min(size === 0 ? list.maxPageSize : size, list.maxPageSize);
  let offset = 0;
  const rawToken = req.query.pageToken;
  if (typeof rawToken === 'string' && rawToken !== '') {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(rawToken, 'base64url').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    const token = pageToken.safeParse(decoded);
    if (!token.success || token.data.list !== listKey) {
      invalid(res, 'Invalid page token.');
      return;
    }
    offset = token.data.offset;
  }
  const next = offset + pageSize;
  const items = list.items.slice(offset, next).map(list.toJson);
  const nextPageToken =
    next < list.items.length
      ? Buffer.from(JSON.stringify({ list: listKey, offset: next })).toString('base64url')
      : undefined;
  res.json({
    ...(items.length > 0 ? { [list.key]: items } : {}),
    ...(nextPageToken ? { nextPageToken } : {}),
  });
}
