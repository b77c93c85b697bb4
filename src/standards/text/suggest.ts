import type { Item } from '../../domain/standards-model.ts';
import { codesInText, normalizeCode, tokenize } from './tokenize.ts';

export interface AssignmentText {
  readonly title: string;
  readonly description?: string;
}

export interface Suggestion {
  readonly item: Item;
  /** Cosine similarity in [0, 1], plus 1 when the assignment names the item's code. */
  readonly score: number;
}

export interface Suggester {
  readonly suggest: (assignment: AssignmentText | string, k: number) => Suggestion[];
}

type Vector = Map<string, number>;

/** Sublinear term frequency (1 + ln tf): a word said five times is not five times the evidence. */
function termFrequencies(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  for (const [token, count] of counts) counts.set(token, 1 + Math.log(count));
  return counts;
}

function normalize(vector: Vector): Vector {
  let norm = 0;
  for (const value of vector.values()) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm === 0) return vector;
  for (const [token, value] of vector) vector.set(token, value / norm);
  return vector;
}

function itemText(item: Item): string {
  return [item.fullStatement, item.abbreviatedStatement ?? '', item.alternativeLabel ?? '']
    .concat(item.conceptKeywords ?? [])
    .join(' ');
}

/**
 * Builds a TF-IDF model over the items' statements once; `suggest` then ranks items by cosine
 * similarity to an assignment's title and description. Local and deterministic: no service.
 */
export function createSuggester(items: readonly Item[]): Suggester {
  const documentFrequency = new Map<string, number>();
  const termSets = items.map((item) => {
    const tf = termFrequencies(tokenize(itemText(item)));
    for (const token of tf.keys())
      documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
    return tf;
  });
  const total = items.length;
  const idf = (token: string): number =>
    Math.log((total + 1) / ((documentFrequency.get(token) ?? 0) + 1)) + 1;
  const itemVectors: Vector[] = termSets.map((tf) => {
    const vector: Vector = new Map();
    for (const [token, weight] of tf) vector.set(token, weight * idf(token));
    return normalize(vector);
  });
  const postings = new Map<string, number[]>();
  itemVectors.forEach((vector, index) => {
    for (const token of vector.keys()) {
      const list = postings.get(token);
      if (list) list.push(index);
      else postings.set(token, [index]);
    }
  });
  const byCode = new Map<string, number[]>();
  items.forEach((item, index) => {
    if (item.code === undefined) return;
    const key = normalizeCode(item.code);
    if (key === '') return;
    const list = byCode.get(key);
    if (list) list.push(index);
    else byCode.set(key, [index]);
  });

  return {
    suggest(assignment, k) {
      const { title, description } =
        typeof assignment === 'string' ? { title: assignment, description: '' } : assignment;
      // The title names the skill; the description adds context and noise. Weight the title twice.
      const tokens = [...tokenize(title), ...tokenize(title), ...tokenize(description ?? '')];
      const query: Vector = new Map();
      for (const [token, weight] of termFrequencies(tokens)) {
        if (documentFrequency.has(token)) query.set(token, weight * idf(token));
      }
      normalize(query);
      const scores = new Map<number, number>();
      for (const [token, weight] of query) {
        for (const index of postings.get(token) ?? []) {
          const itemWeight = itemVectors[index]?.get(token) ?? 0;
          scores.set(index, (scores.get(index) ?? 0) + weight * itemWeight);
        }
      }
      for (const code of codesInText(`${title} ${description ?? ''}`)) {
        for (const index of byCode.get(code) ?? []) scores.set(index, (scores.get(index) ?? 0) + 1);
      }
      return [...scores.entries()]
        .filter(([, score]) => score > 0)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, Math.max(0, k))
        .flatMap(([index, score]) => {
          const item = items[index];
          return item ? [{ item, score }] : [];
        });
    },
  };
}

/** One-off ranking; build a `createSuggester` once when ranking many assignments against one framework. */
export function rankSuggestions(
  assignment: AssignmentText | string,
  items: readonly Item[],
  k: number,
): Suggestion[] {
  return createSuggester(items).suggest(assignment, k);
}
