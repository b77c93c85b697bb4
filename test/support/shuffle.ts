/**
 * A mocha root-hook plugin (`.mocharc.json` "require") that runs the tests of every suite in a
 * random order, so a test that only passes after another one (it needs that test's data) fails
 * in CI instead of hiding. The order comes from a seed printed at the start; replay a failing
 * order with `MOCHA_SHUFFLE_SEED=<seed> npm test`, or turn shuffling off with `MOCHA_SHUFFLE=0`.
 * Files keep their order; hooks (`before`, `beforeEach`, …) are untouched.
 */
import type { Context, Suite } from 'mocha';

/** mulberry32: a small seeded generator; the same seed gives the same order on every machine. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items: unknown[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/** Shuffles the tests and nested suites inside each suite, depth first; the files keep their order. */
export function shuffleSuite(suite: Suite, random: () => number, isRoot = true): void {
  shuffle(suite.tests, random);
  if (!isRoot) shuffle(suite.suites, random);
  for (const child of suite.suites) shuffleSuite(child, random, false);
}

/** The seed of this run: `MOCHA_SHUFFLE_SEED` when set (replay), else a new one. */
export function shuffleSeed(env: NodeJS.ProcessEnv): number | undefined {
  if (env.MOCHA_SHUFFLE === '0') return undefined;
  const given = env.MOCHA_SHUFFLE_SEED;
  if (given !== undefined && given !== '') {
    if (!/^\d{1,10}$/.test(given)) {
      throw new Error(`MOCHA_SHUFFLE_SEED must be a whole number, got ${JSON.stringify(given)}`);
    }
    return Number(given) >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32);
}

export const mochaHooks = {
  beforeAll(this: Context): void {
    const seed = shuffleSeed(process.env);
    const root = this.test?.parent;
    if (seed === undefined || root === undefined) return;
    console.log(
      `Tests run in a shuffled order, seed ${seed} (replay: MOCHA_SHUFFLE_SEED=${seed} npm test; off: MOCHA_SHUFFLE=0).`,
    );
    shuffleSuite(root, generator(seed));
  },
};
