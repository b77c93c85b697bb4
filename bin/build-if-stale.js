#!/usr/bin/env node
// Compiles src/ to dist/ when dist/ is missing or older than any source file, so `npm start` is
// quick when nothing changed. Runs after `npm ci` (prepare) and before `npm start` (prestart).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const stamp = path.join(root, 'dist', '.tsbuildinfo');
const src = path.join(root, 'src');

/** @param {string} dir @returns {number} */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

if (!existsSync(src)) process.exit(0); // an installed build: nothing to compile
const builtAt =
  existsSync(stamp) && existsSync(path.join(root, 'dist', 'main.js')) ? statSync(stamp).mtimeMs : 0;
const configs = ['tsconfig.json', 'tsconfig.build.json'].map(
  (f) => statSync(path.join(root, f)).mtimeMs,
);
if (builtAt > Math.max(newestMtime(src), ...configs)) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error(
    'dist/ is missing or out of date and TypeScript is not installed: run "npm ci" first.',
  );
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

// A migrated empty embedded database, so the first start on a fresh data folder is quick.
const template = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `const m = await import(${JSON.stringify(new URL('../dist/storage/pglite-template.js', import.meta.url).href)}); await m.writePGliteTemplate();`,
  ],
  { stdio: 'inherit' },
);
process.exit(template.status ?? 1);
