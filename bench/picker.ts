/**
 * Standards picker benchmark: `node bench/picker.ts` (PGlite; with DATABASE_URL set, PostgreSQL).
 * A district with the sample framework and a generated 20,000-item one; a teacher launched from
 * the LMS emulator. Prints the picker's search latency over 1,000 queries (codes as typed and
 * words of statements), through the alignment service's search (every framework of the district)
 * and through the HTTP endpoint the combobox calls. Target: p95 <= 50 ms.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseCasePackage } from '../src/standards/formats/case-import.ts';
import { generateLargeFramework } from '../src/standards/formats/generate.ts';
import type { Framework } from '../src/domain/standards-model.ts';
import { importFramework } from '../src/standards/import.ts';
import { importSample, launchInto } from '../test/http/alignment-support.ts';
import { createTestDatabase } from '../test/support/database.ts';
import { createLtiWorld } from '../test/support/lti-world.ts';

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

/** What teachers type: a code growing key by key, or a word or two of a statement. */
function queriesFor(framework: Framework): string[] {
  const random = seeded(7);
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(random() * list.length)];
  const out: string[] = [];
  while (out.length < QUERIES) {
    const item = pick(framework.items);
    if (item === undefined) continue;
    if (out.length % 2 === 0 && item.code !== undefined) {
      const cut = 2 + Math.floor(random() * Math.max(1, item.code.length - 1));
      out.push(item.code.slice(0, cut));
    } else {
      const words = item.fullStatement.split(/\s+/).filter((w) => w.length > 3);
      const word = pick(words) ?? 'number';
      out.push(out.length % 3 === 0 ? `${word} ${pick(words) ?? ''}`.trim() : word.slice(0, 4));
    }
  }
  return out;
}

const ms = (n: number): string => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

function report(label: string, latencies: number[], hits: number): void {
  latencies.sort((a, b) => a - b);
  console.log(
    `  ${label} x${latencies.length} (${hits} with hits): p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, p99 ${ms(percentile(latencies, 99))}`,
  );
}

async function run(label: string): Promise<void> {
  const database = await createTestDatabase();
  const world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
  try {
    await importSample(database, world.tenantId);
    const parsed = parseCasePackage(generateLargeFramework(ITEMS, 1), {
      maxBytes: 200 * 1024 * 1024,
    });
    if (!parsed.ok) throw new Error('generated framework did not parse');
    const imported = await importFramework(
      database.db,
      {
        tenantId: world.tenantId,
        actor: 'bench',
        framework: parsed.framework,
        source: 'case_file',
      },
      { now: () => new Date(), newId: randomUUID },
    );
    if (!imported.ok) throw new Error('generated framework did not import');
    const queries = queriesFor(parsed.framework);
    const alignment = world.tool.services.alignment;

    console.log(`\n${label}: picker over ${ITEMS} + sample items`);
    let started = performance.now();
    await alignment.searchStandards(world.tenantId, 'ratio');
    console.log(`  first search (builds the indexes): ${ms(performance.now() - started)}`);

    const serviceLatencies: number[] = [];
    let serviceHits = 0;
    for (const query of queries) {
      started = performance.now();
      const hits = await alignment.searchStandards(world.tenantId, query);
      serviceLatencies.push(performance.now() - started);
      if (hits.length > 0) serviceHits++;
    }
    report('service search', serviceLatencies, serviceHits);

    const teacher = await launchInto(world, {
      courseId: world.seed.course.courseId,
      userId: world.seed.teacher.userId,
    });
    const httpLatencies: number[] = [];
    let httpHits = 0;
    for (const query of queries) {
      started = performance.now();
      const res = await fetch(
        `${world.tool.origin}${teacher.base}/course/standards/search?q=${encodeURIComponent(query)}`,
      );
      const body = (await res.json()) as { results: unknown[] };
      httpLatencies.push(performance.now() - started);
      if (body.results.length > 0) httpHits++;
    }
    report('HTTP /course/standards/search', httpLatencies, httpHits);
  } finally {
    await world.close();
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
