import express, { type Request } from 'express';
import type { z } from 'zod';

/** The admin pages' form parser. */
export const adminForm = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });

/** Form fields are flat strings; anything else (arrays from repeated names) counts as missing. */
export function field(req: Request, name: string): string | undefined {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** A route parameter as one string ('' when absent or repeated). */
export function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

export const blankToUndefined = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/** Outcomes shown after a redirect (post/redirect/get), by a fixed code so the URL cannot inject text. */
const NOTICES: Readonly<Record<string, string>> = {
  'platform-added': 'The platform was added.',
  'platform-approved': 'The registration was approved. Its first launch records its deployment.',
  'platform-rejected': 'The pending registration was rejected and removed.',
  'origins-saved': 'The frame origins were saved. Pages allow the new origins within a minute.',
  'deployment-added': 'The deployment was added.',
  'deployment-removed': 'The deployment was removed.',
};

export function notice(req: Request): string | undefined {
  const code = req.query.done;
  return typeof code === 'string' ? NOTICES[code] : undefined;
}

export type FieldErrors = Partial<Record<string, string>>;

export function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? 'form');
    errors[key] ??= issue.message;
  }
  return errors;
}
