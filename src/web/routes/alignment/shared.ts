import express, { type Request } from 'express';
import type { Assignment } from '../../../alignment/course-assignments.ts';
import { AlignmentError } from '../../../alignment/errors.ts';
import type { StandardSummary } from '../../../alignment/picker.ts';
import type { ToolViewer } from '../../middleware/session.ts';

export const form = express.urlencoded({ extended: false, limit: '256kb' });

export const SOURCE_LABELS: Readonly<Record<Assignment['source'], string>> = {
  lms_line_item: 'LMS gradebook column',
  deep_link: 'Added through Mastery Pathways',
  teacher: 'Created here',
};

export function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function firstQuery(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** A refusal the editor shows beside the form (422) rather than as an error page. */
export function isRefusedInput(error: unknown): error is AlignmentError {
  return (
    error instanceof AlignmentError &&
    (error.code === 'invalid_input' || error.code === 'standard_unavailable')
  );
}

export function standardLabel(standard: StandardSummary | undefined): string {
  if (standard === undefined) return 'A standard no longer in the district’s library';
  return [standard.code, standard.statement].filter((part) => part !== undefined).join(' ');
}

export const assignmentsUrl = (v: ToolViewer): string => `${v.base}/course/assignments`;

export const editorUrl = (v: ToolViewer, id: string): string =>
  `${v.base}/course/assignments/${id}`;
