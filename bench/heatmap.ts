/**
 * Heatmap benchmark: `node bench/heatmap.ts [--students 200] [--standards 60] [--runs 20]`
 * (PGlite; with DATABASE_URL, a fresh PostgreSQL database). Seeds a course with `students` learners
 * and `standards` standards (10 per domain, one assignment per domain), records one piece of
 * evidence per cell through `services.mastery.recordEvidence`, then requests the class heatmap
 * page (`/course/mastery`, the whole request: session, queries, presenter, EJS) `runs` times over
 * HTTP after one warm-up, and the CSV export. Prints p50/p95/max. Target: p95 <= 200 ms for
 * 200 × 60.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { createLogger } from '../src/logger.ts';
import { createTestDatabase } from '../test/support/database.ts';
import { createLtiWorld, launch } from '../test/support/lti-world.ts';
import { LEARNER_ROLE, seedAssignment, seedStandards } from '../test/http/mastery-views-seed.ts';

const argsSchema = z.object({
  students: z.coerce.number().int().positive().default(200),
  standards: z.coerce.number().int().positive().default(60),
  runs: z.coerce.number().int().positive().default(20),
});

function parseArgs(argv: readonly string[]): z.infer<typeof argsSchema> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) {
      raw[arg.slice(2)] = argv[i + 1] ?? '';
      i += 1;
    }
  }
  return argsSchema.parse(raw);
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  createLogger({ level: 'silent' });
  const database = await createTestDatabase();
  const world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
  try {
    const { services } = world.tool;
    const teacher = await launch(world, { userId: world.seed.teacher.userId });
    if (teacher.status !== 303) throw new Error(`teacher launch answered ${teacher.status}`);
    const base = `${world.tool.origin}${(teacher.location ?? '').replace(/\/course$/, '')}`;
    const course = (await services.courses.listCourses(world.tenantId))[0];
    if (course === undefined) throw new Error('no course');
    const tenantId = world.tenantId;

    const seedStart = performance.now();
    await services.courses.syncRoster({
      tenantId,
      courseId: course.id,
      issuer: world.emulator.issuer,
      storeEmail: false,
      members: Array.from({ length: args.students }, (_, i) => ({
        userId: `bench-student-${i}`,
        name: `Student ${String(i).padStart(4, '0')}`,
        givenName: 'Student',
        familyName: String(i).padStart(4, '0'),
        email: undefined,
        sourcedId: undefined,
        roles: [LEARNER_ROLE],
        status: 'Active' as const,
      })),
    });
    const roster = await services.courses.listRoster(tenantId, course.id);
    const studentIds = roster.filter((r) => r.role === 'student').map((r) => r.userId);
    const domainCount = Math.ceil(args.standards / 10);
    const layout = Array.from({ length: domainCount }, (_, d) => ({
      code: `D${d + 1}`,
      statement: `Domain ${d + 1}`,
      children: Array.from({ length: Math.min(10, args.standards - d * 10) }, (_, c) => ({
        code: `D${d + 1}.${c + 1}`,
        statement: `Standard ${c + 1} of domain ${d + 1}`,
      })),
    }));
    const seeded = await seedStandards(database.db, tenantId, layout);
    const cells: { studentId: string; itemId: string; assignmentId: string; score: number }[] = [];
    for (const [d, { children }] of seeded.domains.entries()) {
      const assignmentId = await seedAssignment(database.db, {
        tenantId,
        courseId: course.id,
        title: `Unit ${d + 1} test`,
        itemIds: children.map((c) => c.id),
      });
      studentIds.forEach((studentId, s) => {
        children.forEach((child, c) => {
          cells.push({ studentId, itemId: child.id, assignmentId, score: 1 + ((s + c + d) % 4) });
        });
      });
    }
    for (let start = 0; start < cells.length; start += 2000) {
      await services.mastery.recordEvidence({
        tenantId,
        courseId: course.id,
        actor: 'bench',
        source: 'csv',
        entries: cells.slice(start, start + 2000),
      });
    }
    const seedMs = performance.now() - seedStart;

    // Wall time of the whole request, and this process's CPU time during it (the tool runs in
    // this process): on a shared, loaded machine the CPU figure shows the tool's own cost.
    const request = async (path: string): Promise<{ wall: number; cpu: number }> => {
      const cpuStart = process.cpuUsage();
      const started = performance.now();
      const res = await fetch(`${base}${path}`);
      const body = await res.text();
      const wall = performance.now() - started;
      const cpu = process.cpuUsage(cpuStart);
      if (res.status !== 200) {
        throw new Error(`${path} answered ${res.status}: ${body.slice(0, 200)}`);
      }
      return { wall, cpu: (cpu.user + cpu.system) / 1000 };
    };
    const summary = (values: number[]) => {
      values.sort((a, b) => a - b);
      return {
        p50: Number(percentile(values, 50).toFixed(1)),
        p95: Number(percentile(values, 95).toFixed(1)),
        max: Number((values.at(-1) ?? NaN).toFixed(1)),
      };
    };
    const measure = async (path: string) => {
      await request(path); // warm-up: template compilation, query plans
      const samples: { wall: number; cpu: number }[] = [];
      for (let i = 0; i < args.runs; i += 1) samples.push(await request(path));
      return {
        wallMs: summary(samples.map((s) => s.wall)),
        toolCpuMs: summary(samples.map((s) => s.cpu)),
      };
    };
    const page = await measure('/course/mastery');
    const sorted = await measure(`/course/mastery?sort=${seeded.leaves[0]?.id ?? ''}&dir=desc`);
    const csv = await measure('/course/mastery.csv');
    console.log(
      JSON.stringify(
        {
          engine: process.env.DATABASE_URL ? 'postgres' : 'pglite',
          students: studentIds.length,
          standards: seeded.leaves.length,
          evidenceRows: cells.length,
          seedSeconds: Number((seedMs / 1000).toFixed(1)),
          runs: args.runs,
          loadAverage: (await import('node:os')).loadavg().map((l) => Number(l.toFixed(1))),
          heatmap: page,
          heatmapSortedByStandard: sorted,
          csv,
          targetP95Ms: 200,
        },
        null,
        2,
      ),
    );
  } finally {
    await world.close();
    await database.close();
  }
}

await main();
