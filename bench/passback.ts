/**
 * Passback benchmark: `node bench/passback.ts [changes=10000] [--per-cell N] [--lms-rps 100]
 * [--worker-rps 95] [--burst 5] [--batch 200] [--flavour canvas]` (PGlite; with DATABASE_URL, a fresh PostgreSQL database).
 * Records `changes` grade changes (N per gradebook cell, so N > 1 shows coalescing), then drains them
 * with one worker into an LMS emulator that answers 429 beyond `--lms-rps`. Prints the wall time,
 * posts per grade change, token requests and the emulator's 429 count.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createAppServices } from '../src/app-services.ts';
import { ALL_SERVICE_SCOPES } from '../src/emulator/claims.ts';
import { createEmulator } from '../src/emulator/emulator.ts';
import type { Flavour } from '../src/emulator/types.ts';
import { createLogger } from '../src/logger.ts';
import { LTI_SCOPE } from '../src/lti/claims.ts';
import { resolveLmsFromServices } from '../src/app-services.ts';
import { createPassbackWorker } from '../src/passback/worker.ts';
import {
  ensureGradebookColumn,
  setDesiredGrade,
} from '../src/storage/passback/passback.repository.ts';
import { createTestDatabase } from '../test/support/database.ts';

const argsSchema = z.object({
  changes: z.coerce.number().int().positive().default(10_000),
  perCell: z.coerce.number().int().positive().default(1),
  lmsRps: z.coerce.number().positive().default(100),
  workerRps: z.coerce.number().positive().default(95),
  burst: z.coerce.number().int().positive().default(5),
  batch: z.coerce.number().int().positive().default(200),
  flavour: z.enum(['canvas', 'schoology', 'moodle']).default('canvas'),
});

function parseArgs(argv: readonly string[]): z.infer<typeof argsSchema> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) {
      const name = arg.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      raw[name] = argv[i + 1] ?? '';
      i += 1;
    } else {
      raw['changes'] = arg;
    }
  }
  return argsSchema.parse(raw);
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

const STANDARDS = 10;
const args = parseArgs(process.argv.slice(2));
const cells = Math.ceil(args.changes / args.perCell);
const studentCount = Math.ceil(cells / STANDARDS);

const database = await createTestDatabase();
// The real fetch, observed: how often the LMS answered 429 (the HTTP client retries those inline).
let rateLimited = 0;
const services = createAppServices({
  db: database.db,
  fetch: async (input, init) => {
    const response = await fetch(input, init);
    if (response.status === 429) rateLimited += 1;
    return response;
  },
  keyEncryptionSecret: 'bench-key-encryption-secret-0123456789abcdef',
});
await services.toolKeys.ensureCurrentKey();
const jwks = await listen((_req, res) => {
  void services.toolKeys.jwks().then((body) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(body));
  });
});
const lmsListener = createServer();
await new Promise<void>((resolve) => lmsListener.listen(0, '127.0.0.1', resolve));
const lmsOrigin = `http://127.0.0.1:${(lmsListener.address() as AddressInfo).port}`;
const emulator = await createEmulator({
  flavour: args.flavour,
  baseUrl: lmsOrigin,
  rateLimit: { requestsPerSecond: args.lmsRps },
});
lmsListener.on('request', emulator.app);

const tool = emulator.state.registerTool({
  toolJwksUrl: jwks.origin,
  oidcInitiationUrl: `${jwks.origin}/login`,
  targetLinkUri: `${jwks.origin}/launch`,
  redirectUris: [`${jwks.origin}/launch`],
  scopes: [...ALL_SERVICE_SCOPES],
});
const deployment = emulator.state.addDeployment(tool.clientId);
const course = emulator.state.addCourse({ title: 'Bench', label: 'BENCH' });

const tenant = await services.tenants.create({ slug: 'bench', name: 'Bench district' });
const platform = await services.platforms.create({
  issuer: emulator.issuer,
  clientId: tool.clientId,
  name: 'bench',
  flavour: args.flavour satisfies Flavour,
  authLoginUrl: emulator.urls.authorize,
  authTokenUrl: emulator.urls.token,
  jwksUrl: emulator.urls.jwks,
});
const deploymentRow = await services.deployments.create({
  platformId: platform.id,
  deploymentId: deployment.deploymentId,
  tenantId: tenant.id,
});
const now = new Date();
const courseRow = await database.db
  .insertInto('courses')
  .values({
    tenant_id: tenant.id,
    deployment_row_id: deploymentRow.id,
    context_id: course.contextId,
    title: course.title,
    label: course.label,
    ags_line_items_url: emulator.urls.lineItems(course.courseId),
    ags_scopes: [LTI_SCOPE.lineItem, LTI_SCOPE.score, LTI_SCOPE.resultReadonly],
    nrps_memberships_url: null,
    nrps_service_versions: [],
    updated_at: now,
  })
  .returning('id')
  .executeTakeFirstOrThrow();

const students: { userId: string; sub: string }[] = [];
for (let i = 0; i < studentCount; i += 1) {
  const person = emulator.state.addPerson({
    name: `Student ${i}`,
    givenName: 'Student',
    familyName: String(i),
    email: `s${i}@example.org`,
  });
  emulator.state.enroll(course.courseId, person.userId, 'Learner');
  const user = await database.db
    .insertInto('users')
    .values({
      tenant_id: tenant.id,
      issuer: emulator.issuer,
      sub: person.sub,
      name: null,
      given_name: null,
      family_name: null,
      email: null,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  students.push({ userId: user.id, sub: person.sub });
}
const columns: string[] = [];
for (let s = 0; s < STANDARDS; s += 1) {
  columns.push(
    await database.db.transaction().execute((tx) =>
      ensureGradebookColumn(tx, {
        tenantId: tenant.id,
        courseId: courseRow.id,
        kind: 'standard',
        key: `std-${s}`,
        label: `Standard ${s}`,
        scoreMaximum: 4,
        now,
      }),
    ),
  );
}

// The grade changes, as evidence writes would make them: N rounds over the cells.
const recordStart = performance.now();
let recorded = 0;
for (let round = 0; round < args.perCell && recorded < args.changes; round += 1) {
  for (let c = 0; c < cells && recorded < args.changes; c += 500) {
    await database.db.transaction().execute(async (tx) => {
      for (let k = c; k < Math.min(cells, c + 500) && recorded < args.changes; k += 1) {
        const student = students[Math.floor(k / STANDARDS)];
        const columnId = columns[k % STANDARDS];
        if (student === undefined || columnId === undefined) continue;
        await setDesiredGrade(tx, {
          tenantId: tenant.id,
          courseId: courseRow.id,
          columnId,
          userId: student.userId,
          lmsUserId: student.sub,
          value: 1 + ((k + round) % 4),
          now: new Date(),
        });
        recorded += 1;
      }
    });
  }
}
const recordMs = performance.now() - recordStart;

const worker = createPassbackWorker({
  db: database.db,
  resolveLms: resolveLmsFromServices(services),
  now: () => new Date(),
  sleep: (ms) => sleep(ms),
  logger: createLogger({ level: 'silent' }),
  limits: { requestsPerSecond: args.workerRps, burst: args.burst, batchSize: args.batch },
});
const drainStart = performance.now();
const result = await worker.drain(1_000_000);
const drainMs = performance.now() - drainStart;

console.log(`engine: ${database.engine}, flavour: ${args.flavour}`);
console.log(
  `grade changes: ${recorded} over ${cells} cells (${students.length} students x ${STANDARDS} standards)`,
);
console.log(`recording the changes: ${(recordMs / 1000).toFixed(1)} s`);
console.log(
  `drain wall time: ${(drainMs / 1000).toFixed(1)} s (LMS limit ${args.lmsRps}/s, worker ${args.workerRps}/s)`,
);
console.log(
  `worker: sent ${result.sent}, retrying ${result.retrying}, failed ${result.failed}, skipped ${result.skipped}`,
);
console.log(`score posts received by the LMS: ${emulator.state.counters.scorePosts}`);
console.log(
  `posts per grade change: ${(emulator.state.counters.scorePosts / recorded).toFixed(3)}`,
);
console.log(
  `service requests: ${emulator.state.counters.serviceRequests}, answered 429: ${rateLimited}`,
);
console.log(`token requests: ${emulator.state.counters.tokenRequests}`);

for (const server of [jwks.server, lmsListener]) {
  server.closeAllConnections();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}
await database.close();
