/**
 * Text normalization shared by standards search and alignment suggestions. Pure and deterministic:
 * no locale-dependent behaviour beyond Unicode case folding.
 */

/**
 * English function words and words every standard uses ("students", "grade"), which carry no
 * signal for matching an assignment to a standard.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'about',
  'above',
  'after',
  'again',
  'all',
  'also',
  'an',
  'and',
  'any',
  'are',
  'as',
  'at',
  'be',
  'been',
  'before',
  'being',
  'between',
  'both',
  'but',
  'by',
  'can',
  'could',
  'did',
  'do',
  'does',
  'doing',
  'during',
  'each',
  'either',
  'etc',
  'for',
  'from',
  'further',
  'had',
  'has',
  'have',
  'having',
  'he',
  'her',
  'here',
  'his',
  'how',
  'i',
  'if',
  'in',
  'into',
  'is',
  'it',
  'its',
  'itself',
  'just',
  'may',
  'me',
  'more',
  'most',
  'must',
  'my',
  'no',
  'nor',
  'not',
  'of',
  'off',
  'on',
  'once',
  'one',
  'only',
  'or',
  'other',
  'our',
  'out',
  'over',
  'own',
  'same',
  'she',
  'should',
  'so',
  'some',
  'such',
  'than',
  'that',
  'the',
  'their',
  'them',
  'then',
  'there',
  'these',
  'they',
  'this',
  'those',
  'through',
  'to',
  'too',
  'under',
  'until',
  'up',
  'upon',
  'use',
  'using',
  'very',
  'was',
  'we',
  'were',
  'what',
  'when',
  'where',
  'which',
  'while',
  'who',
  'whom',
  'why',
  'will',
  'with',
  'within',
  'would',
  'you',
  'your',
  // Standards boilerplate.
  'student',
  'students',
  'grade',
  'grades',
  'level',
  'levels',
  'e.g',
  'eg',
  'ie',
  'including',
  'understand',
  'understanding',
  'demonstrate',
  'apply',
  'able',
  'ability',
  'appropriate',
  'assignment',
  'homework',
  'worksheet',
  'quiz',
  'test',
  'unit',
  'lesson',
  'week',
  'day',
  'page',
  'pages',
  'complete',
  'due',
]);

/** Markdown emphasis, links and HTML tags are presentation, not words. */
function stripMarkup(text: string): string {
  return text
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z]+;|&#\d+;/gi, ' ')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
}

/** Lower case without accents ("Résumé" → "resume"). */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/**
 * A deliberately light suffix stemmer (plural and common verb endings), so "fractions" finds
 * "fraction" and "comparing" finds "compare", without Porter's surprises on short math words.
 */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ing') && word.length > 5) return trimE(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4) return trimE(word.slice(0, -2));
  if (word.endsWith('es') && /(ch|sh|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is')) {
    return trimE(word.slice(0, -1));
  }
  return trimE(word);
}

/** "compare"/"comparing"/"compared" all become "compar". */
function trimE(word: string): string {
  return word.length > 4 && word.endsWith('e') ? word.slice(0, -1) : word;
}

/** Words of a statement or query: folded, markup removed, stop words dropped, stemmed. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of fold(stripMarkup(text)).split(/[^a-z0-9]+/)) {
    if (raw === '' || STOP_WORDS.has(raw)) continue;
    if (raw.length < 2 && !/\d/.test(raw)) continue;
    out.push(stem(raw));
  }
  return out;
}

/** Words without stop-word removal or stemming, for prefix search as the user types. */
export function searchWords(text: string): string[] {
  return fold(stripMarkup(text))
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/**
 * A code reduced to letters and digits, lower case: "6.RP.A.1", "6 rp a 1" and "6-RP-A-1" are the
 * same code to a teacher typing it.
 */
export function normalizeCode(code: string): string {
  return fold(code).replace(/[^a-z0-9]/g, '');
}

/** A code with any run of separators written as one dot: "6 rp-a.1" → "6.rp.a.1". */
export function canonicalCode(code: string): string {
  return fold(code)
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.|\.$/g, '');
}

/**
 * The code from each segment on ("CCSS.ELA-Literacy.RL.6.1" → "ccsselaliteracyrl61",
 * "elaliteracyrl61", "literacyrl61", "rl61", "61", "1"), so "RL.6.1" finds the long form.
 */
export function codeSuffixes(code: string): string[] {
  const segments = fold(code)
    .split(/[^a-z0-9]+/)
    .filter((segment) => segment !== '');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) out.push(segments.slice(i).join(''));
  return out;
}

/** Code-like tokens in free text ("6.RP.A.1", "RL.6.1", "W.6.3a"): letters/digits joined by dots or dashes. */
export function codesInText(text: string): string[] {
  const matches = text.match(/[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)+/g) ?? [];
  return matches.filter((m) => /\d/.test(m) && /[A-Za-z]/.test(m)).map(normalizeCode);
}
