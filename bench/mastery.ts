/**
 * Mastery recomputation benchmark: `node bench/mastery.ts` (PGlite; with DATABASE_URL set, a fresh
 * PostgreSQL database). One section of 35 students × 40 standards × 10 evidence (14,000 rows):
 * - incremental: one new/changed evidence row through `recordEvidence` (validate, write with
 *   history, recompute the cell and its parent roll-up, update desired grades, commit), p50/p95
 *   over 300 writes (target p95 <= 10 ms on PostgreSQL); then this area's share alone (the same
 *   write without the desired-grade update, which the passback area owns);
 * - section: the whole section recomputed in one transaction (read 14,000 rows, 1,400 + roll-up
 *   results, write them, update desired grades), median and p95 over 40 runs (target <= 50 ms);
 *   this area's share alone, both when nothing changed (results are left alone) and when the
 *   policy changed (every result rewritten);
 * - district: a generated district course of MASTERY_DISTRICT_STUDENTS students (default 10,000
 *   on PostgreSQL: the target's 10 M evidence rows, about 4 minutes to generate; 100 on PGlite)
 *   × 50 standards × 20 evidence recomputed after a policy change exactly as the app does it
 *   (`savePolicy` → the recompute job: batches of 100 students, each its own transaction with
 *   desired grades), then this area's share alone; evidence rows/s (with fewer rows, the time
 *   10 M rows would take at that rate; target <= 120 s), and peak RSS of this process.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { createAppServices } from '../src/app-services.ts';
import { loadCoursePolicy } from '../src/policy/store.ts';
import { recomputeCells } from '../src/evidence/recompute.ts';
import { RECOMPUTE_BATCH } from '../src/evidence/recompute-jobs.ts';
import { createPolicyRepository } from '../src/storage/mastery/policy.repository.ts';
import { updateDesiredGrades } from '../src/passback/desired-grades.ts';
import { masteryFixture } from '../test/storage/mastery/fixture.ts';
import { createTestDatabase, testEngine } from '../test/support/database.ts';

const STUDENTS = 35;
const STANDARDS = 40;
const EVIDENCE = 10;
const INCREMENTAL_RUNS = 300;
const SECTION_RUNS = 40;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const database = await createTestDatabase();
const db = database.db;
const now = () => new Date();
const services = createAppServices({ db, keyEncryptionSecret: 'x'.repeat(40), now });
const f = await masteryFixture(database, 'bench', new Date(), STUDENTS);

// 40 leaf standards under one parent: copies of a sample leaf.
const template = await db
  .selectFrom('standard_items')
  .selectAll()
  .where('id', '=', f.leaves[0])
  .executeTakeFirstOrThrow();
const itemIds: string[] = [];
for (let i = 0; i < STANDARDS; i += 1) {
  const id = randomUUID();
  itemIds.push(id);
  await db
    .insertInto('standard_items')
    .values({
      ...template,
      id,
      guid: randomUUID(),
      uri: `urn:bench:${id}`,
      code: `BENCH.${i + 1}`,
      position: i + 1,
      sequence: 100_000 + i,
      extra: JSON.stringify(template.extra),
      parent_item_id: f.parentId,
    })
    .execute();
}
// 10 assignments, each aligned to all 40 standards; one evidence row per (assignment, student, standard).
const assignmentIds: string[] = [];
for (let a = 0; a < EVIDENCE; a += 1) {
  const row = await db
    .insertInto('course_assignments')
    .values({
      tenant_id: f.tenantId,
      course_id: f.courseId,
      title: `Bench task ${a + 1}`,
      source: 'teacher',
      score_maximum: 40,
      created_by: f.teacherId,
      created_at: new Date(),
      updated_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  assignmentIds.push(row.id);
  await db
    .insertInto('assignment_alignments')
    .values(
      itemIds.map((itemId, position) => ({
        tenant_id: f.tenantId,
        course_id: f.courseId,
        assignment_id: row.id,
        item_id: itemId,
        points: 1,
        position,
        created_by: f.teacherId,
        created_at: new Date(),
        updated_at: new Date(),
      })),
    )
    .execute();
}
const random = seeded(7);
const base = Date.UTC(2026, 8, 1);
for (let a = 0; a < EVIDENCE; a += 1) {
  const assignmentId = assignmentIds[a] ?? '';
  await db
    .insertInto('evidence')
    .values(
      f.students.flatMap((student) =>
        itemIds.map((itemId) => ({
          tenant_id: f.tenantId,
          course_id: f.courseId,
          student_id: student.id,
          item_id: itemId,
          assignment_id: assignmentId,
          score: 1 + Math.floor(random() * 4),
          assessed_at: new Date(base + a * 86_400_000),
          due_at: null,
          graded_at: null,
          points: null,
          points_possible: null,
          comment: null,
          source: 'teacher' as const,
          recorded_by: f.teacherId,
          recorded_at: new Date(base + a * 86_400_000),
        })),
      ),
    )
    .execute();
}
const studentIds = f.students.map((s) => s.id);
await sql`ANALYZE`.execute(db);

/**
 * One transaction as the recompute job runs it: load the policy, recompute the students' cells and,
 * unless only this area's share is timed, update desired grades with the policy already loaded.
 */
async function recomputeStudents(
  courseId: string,
  ids: readonly string[],
  options: { readonly desiredGrades: boolean },
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const policy = await loadCoursePolicy(tx, f.tenantId, courseId);
    await recomputeCells(tx, policy, { tenantId: f.tenantId, courseId, studentIds: ids }, now);
    if (options.desiredGrades) {
      await updateDesiredGrades(
        tx,
        { tenantId: f.tenantId, courseId, studentIds: ids, policy },
        new Date(),
      );
    }
  });
}

const recomputeSection = (desiredGrades = true) =>
  recomputeStudents(f.courseId, studentIds, { desiredGrades });

// Section recompute (first run warms caches and writes the results the incremental runs read).
await recomputeSection();
// Statistics now that results exist (a running server's autovacuum/autoanalyze does this): without
// them PostgreSQL reads a whole course's results for one student.
await sql`ANALYZE`.execute(db);
const sectionTimes: number[] = [];
for (let i = 0; i < SECTION_RUNS; i += 1) {
  const start = performance.now();
  await recomputeSection();
  sectionTimes.push(performance.now() - start);
}
sectionTimes.sort((a, b) => a - b);
// This area's share: the same recompute without the desired-grade update.
const sectionOwn: number[] = [];
for (let i = 0; i < SECTION_RUNS; i += 1) {
  const start = performance.now();
  await recomputeSection(false);
  sectionOwn.push(performance.now() - start);
}
sectionOwn.sort((a, b) => a - b);
// The same when every result changes (a policy change): alternate the method between runs.
const policyStore = createPolicyRepository(db, now);
const sectionChanged: number[] = [];
for (let i = 0; i < SECTION_RUNS + 1; i += 1) {
  await policyStore.save({
    tenantId: f.tenantId,
    courseId: f.courseId,
    policy: { calculation: { method: { kind: i % 2 === 0 ? 'mean' : 'mostRecent' } } },
    actor: f.teacherId,
  });
  const start = performance.now();
  await recomputeSection(false);
  sectionChanged.push(performance.now() - start);
}
sectionChanged.sort((a, b) => a - b);
const results = await db
  .selectFrom('mastery_results')
  .select(sql<number>`count(*)`.as('n'))
  .where('course_id', '=', f.courseId)
  .executeTakeFirstOrThrow();

// Incremental: one changed evidence row per write.
const incremental: number[] = [];
for (let i = 0; i < INCREMENTAL_RUNS + 20; i += 1) {
  const student = studentIds[Math.floor(random() * studentIds.length)] ?? '';
  const itemId = itemIds[Math.floor(random() * itemIds.length)] ?? '';
  const assignmentId = assignmentIds[Math.floor(random() * assignmentIds.length)] ?? '';
  const start = performance.now();
  await services.mastery.recordEvidence({
    tenantId: f.tenantId,
    courseId: f.courseId,
    actor: f.teacherId,
    source: 'teacher',
    entries: [{ studentId: student, itemId, assignmentId, score: 1 + (i % 4) }],
  });
  const elapsed = performance.now() - start;
  if (i >= 20) incremental.push(elapsed); // the first 20 warm up
}
incremental.sort((a, b) => a - b);

// This area's share of the same write: validate, write with history, recompute, commit.
const incrementalOwn: number[] = [];
for (let i = 0; i < INCREMENTAL_RUNS + 20; i += 1) {
  const student = studentIds[Math.floor(random() * studentIds.length)] ?? '';
  const itemId = itemIds[Math.floor(random() * itemIds.length)] ?? '';
  const assignmentId = assignmentIds[Math.floor(random() * assignmentIds.length)] ?? '';
  const start = performance.now();
  await db.transaction().execute((tx) =>
    services.mastery.writeEvidenceWithoutGradesIn(tx, {
      tenantId: f.tenantId,
      courseId: f.courseId,
      actor: f.teacherId,
      source: 'teacher',
      entries: [{ studentId: student, itemId, assignmentId, score: 1 + (i % 4) }],
    }),
  );
  const elapsed = performance.now() - start;
  if (i >= 20) incrementalOwn.push(elapsed);
}
incrementalOwn.sort((a, b) => a - b);

// The two halves of an incremental write, apart: this area's recompute of one cell (+ roll-up)
// and the passback area's desired-grade update for one student, each in its own transaction.
const policy = await loadCoursePolicy(db, f.tenantId, f.courseId);
const recomputeOnly: number[] = [];
const desiredOnly: number[] = [];
for (let i = 0; i < 100; i += 1) {
  const student = studentIds[Math.floor(random() * studentIds.length)] ?? '';
  const itemId = itemIds[Math.floor(random() * itemIds.length)] ?? '';
  let start = performance.now();
  await db
    .transaction()
    .execute((tx) =>
      recomputeCells(
        tx,
        policy,
        { tenantId: f.tenantId, courseId: f.courseId, studentIds: [student], itemIds: [itemId] },
        now,
      ),
    );
  recomputeOnly.push(performance.now() - start);
  start = performance.now();
  await db
    .transaction()
    .execute((tx) =>
      updateDesiredGrades(
        tx,
        { tenantId: f.tenantId, courseId: f.courseId, studentIds: [student] },
        new Date(),
      ),
    );
  desiredOnly.push(performance.now() - start);
}
recomputeOnly.sort((a, b) => a - b);
desiredOnly.sort((a, b) => a - b);

const ms = (n: number) => `${n.toFixed(2)} ms`;
console.log(`engine: ${testEngine}`);
console.log(
  `section (${STUDENTS} students × ${STANDARDS} standards × ${EVIDENCE} evidence = ${STUDENTS * STANDARDS * EVIDENCE} rows, ${String(results.n)} results): median ${ms(percentile(sectionTimes, 50))}, p95 ${ms(percentile(sectionTimes, 95))} (target <= 50 ms)`,
);
console.log(
  `  of which: recompute alone (read evidence, calculate, write results) median ${ms(percentile(sectionOwn, 50))}, p95 ${ms(percentile(sectionOwn, 95))}`,
);
console.log(
  `  this area's share when every result changes (policy method switched between runs): median ${ms(percentile(sectionChanged, 50))}, p95 ${ms(percentile(sectionChanged, 95))}`,
);
console.log(
  `incremental write + recompute + desired grades (${INCREMENTAL_RUNS} writes): p50 ${ms(percentile(incremental, 50))}, p95 ${ms(percentile(incremental, 95))}, max ${ms(incremental.at(-1) ?? NaN)} (target p95 <= 10 ms)`,
);
console.log(
  `  of which: this area's share (validate, write with history, recompute, commit; no desired grades) p50 ${ms(percentile(incrementalOwn, 50))}, p95 ${ms(percentile(incrementalOwn, 95))}, max ${ms(incrementalOwn.at(-1) ?? NaN)}`,
);
console.log(
  `  of which: recompute one cell + roll-up p50 ${ms(percentile(recomputeOnly, 50))}, p95 ${ms(percentile(recomputeOnly, 95))}; updateDesiredGrades (one student) p50 ${ms(percentile(desiredOnly, 50))}, p95 ${ms(percentile(desiredOnly, 95))}`,
);
await benchDistrict();
await database.close();

/**
 * A district-scale recomputation: a second course with generated learners, 50 standards and 20
 * evidence per (student, standard), all generated in SQL. First the app's own path after a policy
 * change (the job, with desired grades), then this area's share alone (the same batches without
 * desired grades and progress), each after a policy change so every result is rewritten.
 */
async function benchDistrict(): Promise<void> {
  const districtStudents = Number(
    process.env.MASTERY_DISTRICT_STUDENTS ?? (testEngine === 'postgres' ? 10_000 : 100),
  );
  if (!(districtStudents > 0)) return; // MASTERY_DISTRICT_STUDENTS=0: section only
  const districtStandards = 50;
  const districtEvidence = 20;
  const rows = districtStudents * districtStandards * districtEvidence;
  const course = await db
    .selectFrom('courses')
    .selectAll()
    .where('id', '=', f.courseId)
    .executeTakeFirstOrThrow();
  const courseId = randomUUID();
  await db
    .insertInto('courses')
    .values({ ...course, id: courseId, context_id: `district-${courseId}` })
    .execute();
  const districtItems: string[] = [];
  for (let i = 0; i < districtStandards; i += 1) {
    const id = randomUUID();
    districtItems.push(id);
    await db
      .insertInto('standard_items')
      .values({
        ...template,
        id,
        guid: randomUUID(),
        uri: `urn:bench:district:${id}`,
        code: `DIST.${i + 1}`,
        position: i + 1,
        sequence: 200_000 + i,
        extra: JSON.stringify(template.extra),
        parent_item_id: f.parentId,
      })
      .execute();
  }
  const at = new Date();
  const generateStart = performance.now();
  await sql`
    INSERT INTO users (tenant_id, issuer, sub, name, family_name, created_at, updated_at)
    SELECT ${f.tenantId}, ${f.issuer}, 'district-' || n, 'district-' || n, 'district-' || n, ${at}, ${at}
    FROM generate_series(1, ${districtStudents}) AS n
  `.execute(db);
  await sql`
    INSERT INTO enrollments (tenant_id, course_id, user_id, roles, status, source, updated_at)
    SELECT ${f.tenantId}, ${courseId}, id,
           ARRAY['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'], 'active', 'roster', ${at}
    FROM users WHERE tenant_id = ${f.tenantId} AND sub LIKE 'district-%'
  `.execute(db);
  const users = await db
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', f.tenantId)
    .where('sub', 'like', 'district-%')
    .orderBy('id')
    .execute();
  // Evidence in slices of 50 students (bounded statements on PGlite too).
  for (let start = 0; start < users.length; start += 50) {
    const slice = users.slice(start, start + 50).map((u) => u.id);
    await sql`
      INSERT INTO evidence (tenant_id, course_id, student_id, item_id, score, assessed_at,
                            recorded_at, source, recorded_by)
      SELECT ${f.tenantId}, ${courseId}, s, i, 1 + floor(random() * 4),
             ${new Date(base)}::timestamptz + make_interval(days => k),
             ${new Date(base)}::timestamptz + make_interval(days => k), 'teacher', ${f.teacherId}
      FROM unnest(${slice}::uuid[]) AS s, unnest(${districtItems}::uuid[]) AS i,
           generate_series(1, ${districtEvidence}) AS k
    `.execute(db);
  }
  await sql`ANALYZE`.execute(db);
  const generated = performance.now() - generateStart;
  const rssBefore = process.resourceUsage().maxRSS;

  // The app's path: a course policy change starts the recompute job (desired grades included).
  const jobStart = performance.now();
  const { job, finished } = await services.mastery.savePolicy({
    tenantId: f.tenantId,
    courseId,
    policy: { calculation: { method: { kind: 'mean' } } },
    actor: f.teacherId,
  });
  await finished;
  const jobTime = performance.now() - jobStart;
  const done = await services.mastery.job(f.tenantId, job.id);
  if (done?.status !== 'succeeded') throw new Error(`district job ${done?.status}: ${done?.error}`);

  // This area's share: the same batches, without desired grades and progress.
  await policyStore.save({
    tenantId: f.tenantId,
    courseId,
    policy: { calculation: { method: { kind: 'mostRecent' } } },
    actor: f.teacherId,
  });
  const ids = users.map((u) => u.id);
  const ownStart = performance.now();
  for (let start = 0; start < ids.length; start += RECOMPUTE_BATCH) {
    const batch = ids.slice(start, start + RECOMPUTE_BATCH);
    await recomputeStudents(courseId, batch, { desiredGrades: false });
  }
  const ownTime = performance.now() - ownStart;
  const resultCount = await db
    .selectFrom('mastery_results')
    .select(sql<number>`count(*)`.as('n'))
    .where('course_id', '=', courseId)
    .executeTakeFirstOrThrow();
  const rate = (time: number) => rows / (time / 1000);
  const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
  console.log(
    `district (${districtStudents} students × ${districtStandards} standards × ${districtEvidence} evidence = ${rows} rows, ${String(resultCount.n)} results; generated in ${(generated / 1000).toFixed(1)} s):`,
  );
  console.log(
    `  policy change → recompute job (batches of ${RECOMPUTE_BATCH}, desired grades included): ${(jobTime / 1000).toFixed(1)} s, ${Math.round(rate(jobTime))} evidence rows/s${rows >= 10_000_000 ? '' : ` → 10 M rows ≈ ${(10_000_000 / rate(jobTime)).toFixed(0)} s at this rate`} (target: 10 M rows <= 120 s)`,
  );
  console.log(
    `  this area's share (same batches, no desired grades): ${(ownTime / 1000).toFixed(1)} s, ${Math.round(rate(ownTime))} rows/s → 10 M rows ≈ ${(10_000_000 / rate(ownTime)).toFixed(0)} s`,
  );
  console.log(
    `  peak RSS of this process: ${mib(process.resourceUsage().maxRSS)} (${mib(rssBefore)} before the district recompute; memory per batch is bounded by ${RECOMPUTE_BATCH} students)`,
  );
}
