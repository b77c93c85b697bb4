// Runs every benchmark script in turn and prints their figures. Benchmarks never fail on time;
// they report. Pass names to run a subset: `npm run bench -- standards`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const BENCHES = ['standards', 'picker', 'mastery', 'heatmap', 'lti-launch', 'passback'] as const;
const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? BENCHES.filter((b) => wanted.includes(b)) : [...BENCHES];
const here = path.dirname(new URL(import.meta.url).pathname);

let failed = false;
for (const name of selected) {
  const file = path.join(here, `${name}.ts`);
  if (!existsSync(file)) {
    console.log(`\n## ${name}: no script yet (bench/${name}.ts)`);
    continue;
  }
  console.log(`\n## ${name}`);
  const result = spawnSync(process.execPath, [file], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
