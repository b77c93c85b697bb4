/**
 * What the presenters read: the shapes of the mastery pages' read queries
 * (`src/storage/mastery/views.repository.ts` returns them), declared once in
 * `src/domain/mastery-rows.ts` so the presenters stay pure and import nothing of storage.
 */
export type * from '../domain/mastery-rows.ts';
