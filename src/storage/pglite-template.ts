import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { paths } from '../paths.ts';
import { fromPGlite, migrateToLatest } from './database.ts';

/**
 * A migrated, empty embedded database, packed at build time. Creating a PGlite cluster and running
 * every migration takes several seconds on a small machine; unpacking this takes about one, so a
 * first `npm start` is ready quickly. Built by `npm ci`/`npm start` (bin/build-if-stale.js) next to
 * the compiled code, so it always matches the migrations of that build.
 */
export const PGLITE_TEMPLATE_FILE = path.join(paths.root, 'dist', 'pglite-template.tar.gz');

export async function writePGliteTemplate(file = PGLITE_TEMPLATE_FILE): Promise<void> {
  const pglite = new PGlite();
  const handle = fromPGlite(pglite, 'pglite:memory');
  try {
    await migrateToLatest(handle.db);
    const dump = await pglite.dumpDataDir('gzip');
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await handle.close();
  }
}

/** The packed template, when a build made one and the data folder is still empty. */
export function templateFor(dataDir: string, file = PGLITE_TEMPLATE_FILE): Blob | undefined {
  if (existsSync(path.join(dataDir, 'PG_VERSION')) || !existsSync(file)) return undefined;
  return new Blob([readFileSync(file)]);
}
