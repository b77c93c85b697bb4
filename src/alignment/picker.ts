import type { Kysely } from 'kysely';
import type { Item } from '../domain/standards-model.ts';
import {
  findItemsByIds,
  loadTree,
  searchStandards,
  type StandardsSearchCache,
  type StoredItem,
} from '../standards/queries.ts';
import { createSuggester, type Suggester } from '../standards/text/suggest.ts';
import { createCourseAssignmentRepository } from '../storage/courses/assignments.repository.ts';
import type { Database } from '../storage/schema.ts';
import { frameworkRevision } from '../storage/standards/standards.repository.ts';
import { isUuid } from '../ids.ts';

/** A standard as the picker, the editor and the coverage matrix show it. */
export interface StandardSummary {
  readonly id: string;
  readonly frameworkId: string;
  readonly frameworkTitle: string;
  readonly code: string | undefined;
  /** The abbreviated statement when there is one, else the full statement. */
  readonly statement: string;
  readonly fullStatement: string;
  readonly archived: boolean;
}

export interface PickerHit extends StandardSummary {
  readonly matchedBy: 'code' | 'text';
}

export interface SuggestedStandard extends StandardSummary {
  /** Similarity in [0, 1] (more when the assignment names the code), for ordering only. */
  readonly score: number;
}

export const PICKER_LIMIT = 20;

export function summarize(stored: StoredItem, frameworkTitle: string): StandardSummary {
  const { item } = stored;
  return {
    id: stored.id,
    frameworkId: stored.frameworkId,
    frameworkTitle,
    code: item.code,
    statement: item.abbreviatedStatement ?? item.fullStatement,
    fullStatement: item.fullStatement,
    archived: stored.archivedAt !== null,
  };
}

interface SuggesterEntry {
  readonly signature: string;
  readonly suggester: Suggester;
  readonly idOf: ReadonlyMap<Item, StandardSummary>;
}

/**
 * Standards search and suggestions over all of a district's frameworks (non-archived items only).
 * Indexes are cached per app instance and rebuilt when a framework's revision changes.
 */
export function createStandardsPicker(
  db: Kysely<Database>,
  now: () => Date,
  cache: StandardsSearchCache,
) {
  const suggesters = new Map<string, SuggesterEntry>();

  const repository = createCourseAssignmentRepository(db, now);
  const frameworksOf = (tenantId: string) => repository.frameworkTitles(tenantId);

  return {
    /**
     * Code matches of every framework first, then statement matches, each framework in title
     * order. The query is a code ("6.RP.A"), the start of one, or words of the statement.
     */
    search: async (tenantId: string, query: string, limit = PICKER_LIMIT): Promise<PickerHit[]> => {
      const trimmed = query.trim().slice(0, 200);
      if (trimmed === '') return [];
      const frameworks = await frameworksOf(tenantId);
      const byCode: PickerHit[] = [];
      const byText: PickerHit[] = [];
      for (const framework of frameworks) {
        const hits = await searchStandards(db, cache, {
          tenantId,
          frameworkId: framework.id,
          query: trimmed,
          limit,
        });
        for (const hit of hits) {
          const summary = { ...summarize(hit.stored, framework.title), matchedBy: hit.matchedBy };
          (hit.matchedBy === 'code' ? byCode : byText).push(summary);
        }
      }
      return [...byCode, ...byText].slice(0, limit);
    },

    /** Standards ranked by text similarity of their statements to the assignment's text. */
    suggest: async (
      tenantId: string,
      assignment: { readonly title: string; readonly description?: string | undefined },
      options: { readonly limit: number; readonly exclude: ReadonlySet<string> },
    ): Promise<SuggestedStandard[]> => {
      const frameworks = await frameworksOf(tenantId);
      const revisions = await Promise.all(
        frameworks.map(
          async (f) => `${f.id}@${(await frameworkRevision(db, tenantId, f.id)) ?? 0}`,
        ),
      );
      const signature = revisions.join(',');
      let entry = suggesters.get(tenantId);
      if (entry?.signature !== signature) {
        const items: Item[] = [];
        const idOf = new Map<Item, StandardSummary>();
        for (const framework of frameworks) {
          for (const stored of await loadTree(db, tenantId, framework.id)) {
            items.push(stored.item);
            idOf.set(stored.item, summarize(stored, framework.title));
          }
        }
        entry = { signature, suggester: createSuggester(items), idOf };
        suggesters.set(tenantId, entry);
      }
      const found = entry;
      const text = {
        title: assignment.title,
        ...(assignment.description === undefined ? {} : { description: assignment.description }),
      };
      return found.suggester
        .suggest(text, options.limit + options.exclude.size)
        .flatMap((suggestion) => {
          const summary = found.idOf.get(suggestion.item);
          return summary === undefined || options.exclude.has(summary.id)
            ? []
            : [{ ...summary, score: suggestion.score }];
        })
        .slice(0, options.limit);
    },

    /** Standards by id in the district (archived included: old alignments may point at them). */
    describe: async (
      tenantId: string,
      itemIds: readonly string[],
    ): Promise<Map<string, StandardSummary>> => {
      const stored = await findItemsByIds(db, tenantId, itemIds.filter(isUuid));
      const titles = new Map((await frameworksOf(tenantId)).map((f) => [f.id, f.title]));
      return new Map(stored.map((s) => [s.id, summarize(s, titles.get(s.frameworkId) ?? '')]));
    },
  };
}

export type StandardsPicker = ReturnType<typeof createStandardsPicker>;
