/**
 * Standards storage benchmark: `node bench/standards.ts` (PGlite), and with DATABASE_URL set it runs
 * the same on a fresh PostgreSQL database too. Prints the 20,000-item import time, re-import times and
 * search latency percentiles over 1,000 queries (codes and words).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseCasePackage } from '../src/standards/formats/case-import.ts';
import { generateLargeFramework } from '../src/standards/formats/generate.ts';
import type { Framework } from '../src/domain/standards-model.ts';
import { importFramework, type ImportReport } from '../src/standards/import.ts';
import { createStandardsSearchCache, searchStandards } from '../src/standards/queries.ts';
import { createTestDatabase } from '../test/support/database.ts';

const ITEMS = 20_000;
const QUERIES = 1_000;

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function queriesFor(framework: Framework): string[] {
  const random = seeded(42);
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(random() * list.length)];
  const out: string[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const item = pick(framework.items);
    if (item === undefined) continue;
    if (i % 2 === 0 && item.code !== undefined) {
      // A code, whole or as typed so far.
      out.push(i % 4 === 0 ? item.code : item.code.slice(0, Math.max(2, item.code.length - 2)));
    } else {
      const words = item.fullStatement.split(/\s+/).filter((w) => w.length > 3);
      const first: string | undefined = pick(words);
      const second: string | undefined = pick(words);
      const word = first ?? 'number';
      out.push(i % 3 === 0 ? `${word} ${second ?? ''}`.trim() : word.slice(0, 5));
    }
  }
  return out;
}

function assertOk(report: ImportReport): Extract<ImportReport, { ok: true }> {
  if (!report.ok) throw new Error(`import failed: ${JSON.stringify(report.errors)}`);
  return report;
}

async function run(label: string): Promise<void> {
  const database = await createTestDatabase();
  try {
    const tenant = await database.db
      .insertInto('tenants')
      .values({ slug: 'bench-district', name: 'Bench' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const parsed = parseCasePackage(generateLargeFramework(ITEMS, 1), {
      maxBytes: 200 * 1024 * 1024,
    });
    if (!parsed.ok) throw new Error('generated framework did not parse');
    const framework = parsed.framework;
    const deps = { now: () => new Date(), newId: randomUUID };
    const input = { tenantId: tenant.id, actor: 'bench', framework, source: 'case_file' as const };

    let started = performance.now();
    const first = assertOk(await importFramework(database.db, input, deps));
    const importMs = performance.now() - started;

    started = performance.now();
    const same = assertOk(await importFramework(database.db, input, deps));
    const reimportSameMs = performance.now() - started;

    const edited: Framework = {
      ...framework,
      items: framework.items.map((item) => ({
        ...item,
        fullStatement: `${item.fullStatement} (v2)`,
      })),
    };
    started = performance.now();
    const changed = assertOk(
      await importFramework(database.db, { ...input, framework: edited }, deps),
    );
    const reimportChangedMs = performance.now() - started;

    const cache = createStandardsSearchCache();
    const request = { tenantId: tenant.id, frameworkId: first.frameworkId, limit: 20 };
    started = performance.now();
    await searchStandards(database.db, cache, { ...request, query: 'ratio' });
    const coldMs = performance.now() - started;
    const latencies: number[] = [];
    let hits = 0;
    for (const query of queriesFor(edited)) {
      const t = performance.now();
      const found = await searchStandards(database.db, cache, { ...request, query });
      latencies.push(performance.now() - t);
      if (found.length > 0) hits++;
    }
    latencies.sort((a, b) => a - b);
    const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
    console.log(`\n${label} (${database.location.replace(/\/\/.*@/, '//')})`);
    console.log(
      `  import ${ITEMS} items:              ${ms(importMs)} (created ${first.counts.created})`,
    );
    console.log(
      `  re-import, nothing changed:       ${ms(reimportSameMs)} (unchanged ${same.counts.unchanged})`,
    );
    console.log(
      `  re-import, every statement edited: ${ms(reimportChangedMs)} (updated ${changed.counts.updated})`,
    );
    console.log(`  search, first query (builds index): ${ms(coldMs)}`);
    console.log(
      `  search x${QUERIES} (${hits} with hits): p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, p99 ${ms(percentile(latencies, 99))}`,
    );
  } finally {
    await database.close();
  }
}

const url = process.env.DATABASE_URL;
delete process.env.DATABASE_URL;
await run('PGlite');
if (url) {
  process.env.DATABASE_URL = url;
  await run('PostgreSQL');
}
