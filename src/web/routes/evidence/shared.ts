import express, { type Request } from 'express';
import { z } from 'zod';
import type { CourseLearner } from '../../../evidence/use-cases.ts';
import type { ToolViewer } from '../../middleware/session.ts';
import type { FormBody } from '../../policy-form.ts';

/** The grid posts one field per cell: 35 students × 40 standards and more. */
export const gridForm = express.urlencoded({
  extended: false,
  limit: '1mb',
  parameterLimit: 20_000,
});
export const smallForm = express.urlencoded({
  extended: false,
  limit: '64kb',
  parameterLimit: 600,
});
export const csvForm = express.urlencoded({ extended: false, limit: '3mb', parameterLimit: 10 });

export function studentName(learner: CourseLearner): string {
  return learner.name ?? learner.givenName ?? `Student ${learner.sub.slice(0, 12)}`;
}

export function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

export function body(req: Request): FormBody {
  const value: unknown = req.body;
  return typeof value === 'object' && value !== null ? (value as FormBody) : {};
}

export function field(req: Request, name: string): string {
  const value = body(req)[name];
  return typeof value === 'string' ? value : '';
}

/** Opaque id of a person for `recorded_by` / `changed_by`: the tool's user id, never a name. */
export const actorOf = (v: ToolViewer): string => v.user.id;

/** A text field of a form: what was sent, or empty when it is missing or not text. */
export const textField = z.string().catch('');
