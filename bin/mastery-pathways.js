#!/usr/bin/env node
// Runs the sources directly in a checkout (Node strips the TypeScript types), or the compiled
// build where the sources are absent (the Docker image, an installed package).
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);
const entry =
  existsSync(source) && process.features.typescript
    ? source
    : new URL('../dist/cli.js', import.meta.url);
/** @type {{ runCli: (argv: string[], io: object) => Promise<number> }} */
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- the entry is chosen at run time
const cli = await import(entry.href);
try {
  process.exitCode = await cli.runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (/** @type {string} */ line) => {
      console.log(line);
    },
    stderr: (/** @type {string} */ line) => {
      console.error(line);
    },
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
