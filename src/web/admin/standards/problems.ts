import type { ImportError } from '../../../domain/standards-model.ts';

/** A problem of an import as a row of the problems table: where, which field, what. */
export interface ProblemRow {
  readonly where: string;
  readonly field: string;
  readonly message: string;
}

/** Import problems (from a form check or a stored import's `errors`) as table rows. */
export function problemRows(errors: unknown): ProblemRow[] {
  if (!Array.isArray(errors)) return [];
  return errors.map((raw: unknown) => {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<ImportError>;
    const where =
      e.line !== undefined
        ? `Line ${e.line}`
        : e.path !== undefined
          ? e.path
          : e.itemGuid !== undefined
            ? `Item ${e.itemGuid}`
            : 'The whole file';
    const field =
      e.field ?? (e.path !== undefined && e.path.includes('.') ? e.path.split('.').at(-1) : '');
    return {
      where:
        e.itemGuid !== undefined && e.line !== undefined ? `${where} (item ${e.itemGuid})` : where,
      field: field ?? '',
      message: typeof e.message === 'string' ? e.message : 'A problem without a description.',
    };
  });
}
