import type { Item } from '../../domain/standards-model.ts';
import { canonicalCode, codeSuffixes, normalizeCode, searchWords } from './tokenize.ts';

export interface SearchHit {
  readonly item: Item;
  /** "code": the query is the start of the item's code; "text": words of the statement matched. */
  readonly matchedBy: 'code' | 'text';
}

/** Built once per framework (or set of frameworks); read-only afterwards. */
export interface SearchIndex {
  readonly items: readonly Item[];
  /** [normalized code suffix, item index, suffix rank (0 = whole code)], sorted by key. */
  readonly codeKeys: readonly (readonly [string, number, number])[];
  /** Sorted vocabulary of statement words, for prefix lookup of the word being typed. */
  readonly words: readonly string[];
  readonly postings: ReadonlyMap<string, readonly number[]>;
  readonly statementLength: readonly number[];
  /** Each item's code in canonical form ("" without a code), computed once. */
  readonly canonicalCodes: readonly string[];
}

export function buildSearchIndex(items: readonly Item[]): SearchIndex {
  const codeKeys: [string, number, number][] = [];
  const postingSets = new Map<string, number[]>();
  const statementLength: number[] = [];
  const canonicalCodes: string[] = [];
  items.forEach((item, index) => {
    canonicalCodes.push(item.code === undefined ? '' : canonicalCode(item.code));
    if (item.code !== undefined) {
      codeSuffixes(item.code).forEach((suffix, rank) => {
        if (suffix !== '') codeKeys.push([suffix, index, rank]);
      });
    }
    const words = searchWords(
      `${item.code ?? ''} ${item.abbreviatedStatement ?? ''} ${item.fullStatement}`,
    );
    statementLength.push(words.length);
    for (const word of new Set(words)) {
      const list = postingSets.get(word);
      if (list) list.push(index);
      else postingSets.set(word, [index]);
    }
  });
  codeKeys.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  const words = [...postingSets.keys()].sort();
  return { items, codeKeys, words, postings: postingSets, statementLength, canonicalCodes };
}

/** First index whose key is >= prefix (binary search over a sorted array). */
function lowerBound<T>(sorted: readonly T[], prefix: string, key: (entry: T) => string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const entry = sorted[mid];
    if (entry !== undefined && key(entry) < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The `k` smallest entries by `compare`, in order: a sorted window of at most k kept while
 * scanning, so a broad query ("d") over 20,000 items does not sort every match for 20 results.
 */
export function smallest<T>(entries: Iterable<T>, k: number, compare: (a: T, b: T) => number): T[] {
  const kept: T[] = [];
  if (k <= 0) return kept;
  for (const entry of entries) {
    if (kept.length === k) {
      const last = kept[k - 1];
      if (last !== undefined && compare(entry, last) >= 0) continue;
      kept.pop();
    }
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const probe = kept[mid];
      if (probe !== undefined && compare(probe, entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    kept.splice(lo, 0, entry);
  }
  return kept;
}

function codeMatches(index: SearchIndex, query: string, limit: number): number[] {
  const prefix = normalizeCode(query);
  if (prefix === '') return [];
  const canonicalQuery = canonicalCode(query);
  // Tier per item, lower is better: 0 the code as typed, 1 same letters and digits,
  // 2 starts with the code as typed, 3 starts with the letters and digits, 4 a later segment does.
  const tier = new Map<number, number>();
  for (let i = lowerBound(index.codeKeys, prefix, (e) => e[0]); i < index.codeKeys.length; i++) {
    const entry = index.codeKeys[i];
    if (!entry?.[0].startsWith(prefix)) break;
    const [key, item, rank] = entry;
    let t = 4;
    if (rank === 0) {
      const canonical = index.canonicalCodes[item] ?? '';
      if (canonical === canonicalQuery) t = 0;
      else if (key === prefix) t = 1;
      else if (canonical.startsWith(canonicalQuery)) t = 2;
      else t = 3;
    }
    const seen = tier.get(item);
    if (seen === undefined || t < seen) tier.set(item, t);
  }
  const codeLength = (item: number): number => index.canonicalCodes[item]?.length ?? 0;
  return smallest(
    tier.entries(),
    limit,
    (a, b) => a[1] - b[1] || codeLength(a[0]) - codeLength(b[0]) || a[0] - b[0],
  ).map(([item]) => item);
}

function wordMatches(
  index: SearchIndex,
  query: string,
  exclude: ReadonlySet<number>,
  limit: number,
): number[] {
  const words = searchWords(query);
  if (words.length === 0) return [];
  const counts = new Map<number, number>();
  words.forEach((word, position) => {
    const matched = new Set<number>();
    const isLast = position === words.length - 1;
    if (isLast) {
      // The word being typed is a prefix ("fract" → fraction, fractions).
      for (let i = lowerBound(index.words, word, (w) => w); i < index.words.length; i++) {
        const candidate = index.words[i];
        if (candidate === undefined || !candidate.startsWith(word)) break;
        for (const item of index.postings.get(candidate) ?? []) matched.add(item);
      }
    } else {
      for (const item of index.postings.get(word) ?? []) matched.add(item);
    }
    for (const item of matched) counts.set(item, (counts.get(item) ?? 0) + 1);
  });
  for (const item of exclude) counts.delete(item);
  return smallest(
    counts.entries(),
    limit,
    (a, b) =>
      b[1] - a[1] ||
      (index.statementLength[a[0]] ?? 0) - (index.statementLength[b[0]] ?? 0) ||
      a[0] - b[0],
  ).map(([item]) => item);
}

/** Code prefix matches first, then statements containing the query's words (most words first). */
export function searchItems(index: SearchIndex, query: string, limit: number): SearchHit[] {
  const trimmed = query.trim();
  if (trimmed === '' || limit <= 0) return [];
  const hits: SearchHit[] = [];
  const byCode = codeMatches(index, trimmed, limit);
  const taken = new Set<number>();
  for (const position of byCode) {
    if (hits.length >= limit) return hits;
    const item = index.items[position];
    if (item) {
      hits.push({ item, matchedBy: 'code' });
      taken.add(position);
    }
  }
  // A query like "6.rp.a" is a code: its fragments ("rp", "a") would only add noise as words.
  // Words join in when nothing matched as a code or the query has a real word (3+ letters).
  const hasWord = searchWords(trimmed).some((word) => /[a-z]{3,}/.test(word));
  if (byCode.length > 0 && !hasWord) return hits;
  for (const position of wordMatches(index, trimmed, taken, limit - hits.length)) {
    if (hits.length >= limit) break;
    const item = index.items[position];
    if (item) hits.push({ item, matchedBy: 'text' });
  }
  return hits;
}
