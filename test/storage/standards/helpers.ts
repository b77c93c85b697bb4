import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import type { Framework, ImportResult } from '../../../src/domain/standards-model.ts';
import type { ImportDeps } from '../../../src/standards/import.ts';
import type { Database } from '../../../src/storage/schema.ts';

export const MAX_BYTES = 50 * 1024 * 1024;

export function fixtureText(relative: string): string {
  return readFileSync(new URL(`../../../${relative}`, import.meta.url), 'utf8');
}

export function frameworkOf(result: ImportResult): Framework {
  if (!result.ok) throw new Error(`parse failed: ${JSON.stringify(result.errors, null, 2)}`);
  return result.framework;
}

export function parseFixture(relative: string): Framework {
  return frameworkOf(parseCasePackage(fixtureText(relative), { maxBytes: MAX_BYTES }));
}

/** A clock that moves one second per reading, so timestamps differ and stay predictable. */
export function steppingClock(start = Date.parse('2026-11-27T09:00:00Z')): () => Date {
  let tick = 0;
  return () => new Date(start + 1000 * tick++);
}

export function deps(): ImportDeps {
  return { now: steppingClock(), newId: randomUUID };
}

export async function createTenant(db: Kysely<Database>, slug: string): Promise<string> {
  const row = await db
    .insertInto('tenants')
    .values({ slug, name: slug })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const CONTENT_TABLES = [
  'standard_frameworks',
  'standard_items',
  'standard_associations',
  'standard_audit',
] as const;

/** Every content row of the standards tables, for before/after comparisons. */
export async function snapshot(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of CONTENT_TABLES) {
    out[table] = await db.selectFrom(table).selectAll().orderBy('id').execute();
  }
  return out;
}

export async function counts(db: Kysely<Database>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of CONTENT_TABLES) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(row.n);
  }
  return out;
}
