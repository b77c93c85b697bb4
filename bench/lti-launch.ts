// LTI 1.3 login + launch throughput on the tool side (issue: >= 500 launches/s on 2 cores, p99 <= 50 ms
// at 50 concurrent). Platform signing is excluded: the id_tokens are signed between the timed login
// phase and the timed launch phase, because each token must carry the nonce its login issued.
//
//   node bench/lti-launch.ts [--launches 2000] [--concurrency 50] [--warmup 300] [--prepared]
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/lti-launch.ts
//
// With DATABASE_URL a fresh database (mp_bench_<random>) is created on that server and dropped after;
// without it the embedded PGlite runs in a temporary folder. The tool runs in this process through
// `startService` (production config, JSON logs at info to /dev/null, metrics on). The load generator
// runs in a worker thread so its HTTP parsing does not share the tool's event loop, as browsers'
// would not; on a 2-core machine it still shares the CPUs with the tool and PostgreSQL.
//
// Besides throughput and latency it prints load-independent costs per request: round trips to
// PostgreSQL, CPU of the tool (all its threads) and of PostgreSQL. --prepared sends the statements
// marked `/* prepared */` as named prepared statements, as a pool set up with
// `namePreparedStatements` (src/storage/lti/prepared-statements.ts) would; PostgreSQL only.
//
// Note on the target: the load is closed-loop (50 requests always in flight), so by Little's law
// the mean login + launch latency is 50 / (launches per second) seconds: 100 ms at 500/s. A p99 of
// 50 ms at 50 concurrent therefore needs about 1000+ launches/s here, not 500.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { z } from 'zod';
import { defaultConfigFiles, loadConfig } from '../src/config/load.ts';
import { addDeployment, addPlatform, addTenant } from '../src/lti-admin/use-cases.ts';
import { createLogger } from '../src/logger.ts';
import { paths } from '../src/paths.ts';
import { preparedQuery } from '../src/storage/prepared-statements.ts';
import { startService } from '../src/service.ts';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim';
const ROLE_LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';
const ROLE_INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor';
/** A district's launch traffic: many courses, mostly students, a teacher per course. */
const COURSES = 20;
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;
const STUDENTS_PER_COURSE = 30;

const jobSchema = z.object({
  /** Where requests go (127.0.0.1: no name lookup per connection). */
  toolUrl: z.string(),
  /** The tool's PUBLIC_URL, which target_link_uri must name. */
  publicUrl: z.string(),
  issuer: z.string(),
  clientId: z.string(),
  deploymentId: z.string(),
  kid: z.string(),
  privateJwk: z.record(z.string(), z.unknown()),
  launches: z.number().int().positive(),
  warmup: z.number().int().min(0),
  concurrency: z.number().int().positive(),
});
type Job = z.infer<typeof jobSchema>;

interface PhaseResult {
  readonly wallMs: number;
  readonly latenciesMs: number[];
}
type MarkName = 'login-start' | 'login-end' | 'launch-start' | 'launch-end';
type WorkerMessage =
  | { readonly type: 'mark'; readonly name: MarkName; readonly workerCpu: NodeJS.CpuUsage }
  | { readonly type: 'result'; readonly result: ClientResult };

interface ClientResult {
  readonly login: PhaseResult;
  readonly launch: PhaseResult;
  readonly signMs: number;
}

// ---------------------------------------------------------------------------------------------------
// Load generator (worker thread)

interface HttpResponse {
  readonly status: number;
  readonly location: string | undefined;
  readonly setCookie: readonly string[];
}

function post(
  agent: Agent,
  url: URL,
  form: Record<string, string>,
  cookie?: string,
): Promise<HttpResponse> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'lti-launch-bench',
          ...(cookie === undefined ? {} : { Cookie: cookie }),
        },
      },
      (res) => {
        res.resume(); // the body is not needed; draining it frees the socket for keep-alive
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            setCookie: res.headers['set-cookie'] ?? [],
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function pool<T>(
  count: number,
  concurrency: number,
  run: (index: number) => Promise<T>,
): Promise<{ wallMs: number; results: T[] }> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await run(index);
      }
    }),
  );
  return { wallMs: performance.now() - started, results };
}

interface LoginOutcome {
  readonly ms: number;
  readonly state: string;
  readonly nonce: string;
  readonly cookie: string;
  readonly user: { sub: string; course: number; instructor: boolean };
}

function userFor(index: number): LoginOutcome['user'] {
  const course = index % COURSES;
  const seat = Math.floor(index / COURSES) % (STUDENTS_PER_COURSE + 1);
  const instructor = seat === 0;
  return {
    sub: instructor ? `teacher-${course}` : `student-${course}-${seat}`,
    course,
    instructor,
  };
}

async function runClient(job: Job): Promise<ClientResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const loginUrl = new URL('/lti/login', job.toolUrl);
  const launchUrl = new URL('/lti/launch', job.toolUrl);
  const targetLinkUri = new URL('/lti/launch', job.publicUrl).toString();
  const privateKey = await importJWK(job.privateJwk as JWK, 'RS256');

  const login = async (index: number): Promise<LoginOutcome> => {
    const user = userFor(index);
    const started = performance.now();
    const res = await post(agent, loginUrl, {
      iss: job.issuer,
      login_hint: user.sub,
      target_link_uri: targetLinkUri,
      lti_message_hint: `hint-${index}`,
      client_id: job.clientId,
      lti_deployment_id: job.deploymentId,
    });
    const ms = performance.now() - started;
    const { location } = res;
    if (res.status !== 302 || typeof location !== 'string') {
      throw new Error(`login answered ${res.status}`);
    }
    const auth = new URL(location);
    return {
      ms,
      state: auth.searchParams.get('state') ?? '',
      nonce: auth.searchParams.get('nonce') ?? '',
      cookie: res.setCookie.map((c) => c.split(';')[0] ?? '').join('; '),
      user,
    };
  };

  const sign = (outcome: LoginOutcome, index: number): Promise<string> => {
    const { user } = outcome;
    return new SignJWT({
      nonce: outcome.nonce,
      azp: job.clientId,
      name: `Person ${user.sub}`,
      [`${LTI}/message_type`]: 'LtiResourceLinkRequest',
      [`${LTI}/version`]: '1.3.0',
      [`${LTI}/deployment_id`]: job.deploymentId,
      [`${LTI}/target_link_uri`]: targetLinkUri,
      [`${LTI}/resource_link`]: { id: `rl-${user.course}`, title: 'Mastery Pathways' },
      [`${LTI}/roles`]: [user.instructor ? ROLE_INSTRUCTOR : ROLE_LEARNER],
      [`${LTI}/context`]: {
        id: `course-${user.course}`,
        label: `C${user.course}`,
        title: `Course ${user.course}`,
        type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
      },
    })
      .setProtectedHeader({ alg: 'RS256', kid: job.kid, typ: 'JWT' })
      .setIssuer(job.issuer)
      .setAudience(job.clientId)
      .setSubject(user.sub)
      .setJti(`${index}-${randomUUID()}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  };

  const launch = async (outcome: LoginOutcome, idToken: string): Promise<number> => {
    const started = performance.now();
    const res = await post(
      agent,
      launchUrl,
      { id_token: idToken, state: outcome.state },
      outcome.cookie,
    );
    const ms = performance.now() - started;
    if (res.status !== 303) throw new Error(`launch answered ${res.status}`);
    return ms;
  };

  const mark = (name: MarkName, measured: boolean): void => {
    // The load generator's own CPU time, so the tool's share of the process can be told apart.
    if (measured)
      parentPort?.postMessage({ type: 'mark', name, workerCpu: process.threadCpuUsage() });
  };
  const phases = async (count: number, measured: boolean): Promise<ClientResult> => {
    mark('login-start', measured);
    const logins = await pool(count, job.concurrency, login);
    mark('login-end', measured);
    const signStarted = performance.now();
    const tokens = await Promise.all(logins.results.map((o, i) => sign(o, i)));
    const signMs = performance.now() - signStarted;
    mark('launch-start', measured);
    const launches = await pool(count, job.concurrency, (i) =>
      launch(logins.results[i]!, tokens[i]!),
    );
    mark('launch-end', measured);
    return {
      login: { wallMs: logins.wallMs, latenciesMs: logins.results.map((o) => o.ms) },
      launch: { wallMs: launches.wallMs, latenciesMs: launches.results },
      signMs,
    };
  };

  if (job.warmup > 0) await phases(job.warmup, false);
  const result = await phases(job.launches, true);
  agent.destroy();
  return result;
}

if (!isMainThread) {
  const job = jobSchema.parse(workerData);
  parentPort?.postMessage({ type: 'result', result: await runClient(job) });
}

// ---------------------------------------------------------------------------------------------------
// Tool, platform and report (main thread)

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

function row(label: string, count: number, wallMs: number, latencies: readonly number[]): string[] {
  const sorted = [...latencies].sort((a, b) => a - b);
  return [
    label,
    String(count),
    (wallMs / 1000).toFixed(2),
    ((count * 1000) / wallMs).toFixed(0),
    percentile(sorted, 50).toFixed(1),
    percentile(sorted, 90).toFixed(1),
    percentile(sorted, 99).toFixed(1),
    (sorted.at(-1) ?? Number.NaN).toFixed(1),
  ];
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) =>
        c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!),
      );
      const text = `| ${line.join(' | ')} |`;
      return i === 0 ? `${text}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|` : text;
    })
    .join('\n');
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(serverUrl: string, statement: (db: Kysely<unknown>) => Promise<unknown>) {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: serverUrl, max: 1 }) }),
  });
  try {
    await statement(db);
  } finally {
    await db.destroy();
  }
}

async function serveJwks(jwk: JWK): Promise<{ server: Server; url: string }> {
  const body = JSON.stringify({ keys: [jwk] });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks` };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => probe.once('listening', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  return port;
}

/** CPU time (ms) used so far by the PostgreSQL server processes connected to `database` (Linux). */
function postgresCpuMs(database: string): number {
  let ticks = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return Number.NaN;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      // Backends are titled "postgres: <user> <database> <client> <activity>".
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.includes(` ${database} `)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Counts pg.Client#query calls in this process (the tool's pool); PGlite is not counted. With
 * `prepare`, statements marked `/* prepared *\/` go out as named prepared statements, as they
 * would from a pool set up with `namePreparedStatements` (src/storage/lti/prepared-statements.ts).
 */
function countPostgresQueries(prepare: boolean): { readonly count: () => number } {
  let count = 0;
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function countedQuery(this: unknown, ...args: unknown[]): unknown {
    count += 1;
    const named = prepare ? preparedQuery(args[0], args[1]) : undefined;
    return named === undefined
      ? original.apply(this, args)
      : original.call(this, named, ...args.slice(2));
  };
  return { count: () => count };
}

async function main(): Promise<void> {
  const args = z
    .object({
      launches: z.coerce.number().int().positive().default(2000),
      concurrency: z.coerce.number().int().positive().default(50),
      warmup: z.coerce.number().int().min(0).default(300),
      prepared: z.boolean().default(false),
    })
    .parse(
      parseArgs({
        options: {
          launches: { type: 'string' },
          concurrency: { type: 'string' },
          warmup: { type: 'string' },
          prepared: { type: 'boolean' },
        },
      }).values,
    );

  const serverUrl = process.env.DATABASE_URL === '' ? undefined : process.env.DATABASE_URL;
  const workDir = await mkdtemp(path.join(tmpdir(), 'mp-bench-launch-'));
  const benchDb =
    serverUrl === undefined ? undefined : `mp_bench_${randomBytes(5).toString('hex')}`;
  if (serverUrl === undefined) {
    console.log('DATABASE_URL is not set: using the embedded PGlite (in a temporary folder).');
    console.log('The issue target is for PostgreSQL; set DATABASE_URL to measure that.');
  } else if (benchDb !== undefined) {
    await adminQuery(serverUrl, (db) => sql`CREATE DATABASE ${sql.id(benchDb)}`.execute(db));
    console.log(`PostgreSQL: fresh database ${benchDb} (dropped at the end).`);
  }

  const port = await freePort();
  const env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    DATA_DIR: path.join(workDir, 'pglite'),
    KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ...(serverUrl === undefined || benchDb === undefined
      ? {}
      : { DATABASE_URL: withDatabase(serverUrl, benchDb) }),
    ...(process.env.DB_POOL_MAX ? { DB_POOL_MAX: process.env.DB_POOL_MAX } : {}),
  };
  const config = loadConfig({ env, files: defaultConfigFiles(paths.config, 'production') });
  // Production logs at info; written to /dev/null so the terminal is not the bottleneck.
  const logger = createLogger({ level: config.log.level }, pino.destination({ dest: '/dev/null' }));

  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'bench-key-1';
  const jwks = await serveJwks({ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' });

  // Round trips: every statement the tool sends to PostgreSQL goes through pg.Client#query (BEGIN
  // and COMMIT included), so counting calls there counts round trips, whatever the load.
  const roundTrips = countPostgresQueries(args.prepared);
  const service = await startService(config, logger);
  let failed = false;
  try {
    await service.migrated;
    const ctx = { db: service.database.db, now: () => new Date() };
    const tenant = await addTenant(ctx, { slug: 'bench-district', name: 'Bench District' });
    const issuer = 'https://bench-lms.example.org';
    const platform = await addPlatform(ctx, {
      preset: 'generic',
      clientId: 'bench-client-1',
      issuer,
      authLoginUrl: `${issuer}/auth`,
      authTokenUrl: `${issuer}/token`,
      jwksUrl: jwks.url,
    });
    await addDeployment(ctx, {
      platformId: platform.id,
      deploymentId: 'bench-deployment-1',
      tenantSlug: tenant.slug,
    });

    const job: Job = {
      toolUrl: `http://127.0.0.1:${port}`,
      publicUrl: config.server.publicUrl,
      issuer,
      clientId: platform.clientId,
      deploymentId: 'bench-deployment-1',
      kid,
      privateJwk: { ...(await exportJWK(privateKey)) },
      launches: args.launches,
      warmup: args.warmup,
      concurrency: args.concurrency,
    };
    console.log(
      `Node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), ` +
        `database ${service.database.engine}, pool ${config.database.poolMax}, log level ${config.log.level}` +
        (args.prepared ? ', marked statements prepared (--prepared)' : ''),
    );
    console.log(
      `${args.launches} launches (after ${args.warmup} warm-up), ${args.concurrency} concurrent, ` +
        `${COURSES} courses x ${STUDENTS_PER_COURSE + 1} people`,
    );
    // Load-independent costs per request, taken at the phase marks:
    // - main thread CPU (the tool's event loop; includes PGlite when embedded);
    // - tool CPU: the whole process minus the load generator thread (adds RS256 verification on the
    //   libuv pool, pg parsing, GC threads);
    // - PostgreSQL CPU: the server processes serving the bench database (Linux /proc);
    // - round trips: statements sent to PostgreSQL.
    // Event loop busy time is wall-clock, so it grows when other processes hold the CPUs.
    interface Mark {
      readonly elu: EventLoopUtilization;
      readonly mainCpu: NodeJS.CpuUsage;
      readonly processCpu: NodeJS.CpuUsage;
      readonly workerCpu: NodeJS.CpuUsage;
      readonly postgresCpuMs: number;
      readonly queries: number;
    }
    const marks = new Map<MarkName, Mark>();
    const loadBefore = loadavg()[0] ?? 0;
    const result = await new Promise<ClientResult>((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: job });
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'mark') {
          marks.set(message.name, {
            elu: performance.eventLoopUtilization(),
            mainCpu: process.threadCpuUsage(),
            processCpu: process.cpuUsage(),
            workerCpu: message.workerCpu,
            postgresCpuMs: benchDb === undefined ? Number.NaN : postgresCpuMs(benchDb),
            queries: roundTrips.count(),
          });
        } else resolve(message.result);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (code !== 0) reject(new Error(`load generator exited with ${code}`));
      });
    });

    const n = args.launches;
    const loadAfter = loadavg()[0] ?? 0;
    const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
    interface Cost {
      readonly busyMs: number;
      readonly mainCpuMs: number;
      readonly toolCpuMs: number;
      readonly postgresCpuMs: number;
      readonly loadGeneratorCpuMs: number;
      readonly roundTrips: number;
    }
    const perRequest = (from: MarkName, to: MarkName): Cost => {
      const start = marks.get(from);
      const end = marks.get(to);
      if (start === undefined || end === undefined) {
        return {
          busyMs: Number.NaN,
          mainCpuMs: Number.NaN,
          toolCpuMs: Number.NaN,
          postgresCpuMs: Number.NaN,
          loadGeneratorCpuMs: Number.NaN,
          roundTrips: Number.NaN,
        };
      }
      const toolCpu =
        cpuMs(end.processCpu) -
        cpuMs(start.processCpu) -
        (cpuMs(end.workerCpu) - cpuMs(start.workerCpu));
      return {
        busyMs: performance.eventLoopUtilization(end.elu, start.elu).active / n,
        mainCpuMs: (cpuMs(end.mainCpu) - cpuMs(start.mainCpu)) / n,
        toolCpuMs: toolCpu / n,
        postgresCpuMs: (end.postgresCpuMs - start.postgresCpuMs) / n,
        loadGeneratorCpuMs: (cpuMs(end.workerCpu) - cpuMs(start.workerCpu)) / n,
        roundTrips: (end.queries - start.queries) / n,
      };
    };
    const loginCost = perRequest('login-start', 'login-end');
    const launchCost = perRequest('launch-start', 'launch-end');
    const combined = result.login.latenciesMs.map(
      (ms, i) => ms + (result.launch.latenciesMs[i] ?? 0),
    );
    const combinedWall = result.login.wallMs + result.launch.wallMs;
    console.log('');
    console.log(
      table([
        ['phase', 'requests', 'wall s', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        row('POST /lti/login', n, result.login.wallMs, result.login.latenciesMs),
        row('POST /lti/launch', n, result.launch.wallMs, result.launch.latenciesMs),
        row('login + launch', n, combinedWall, combined),
      ]),
    );
    console.log(
      `\n"login + launch": per launch, its login latency plus its launch latency; launches/s = ` +
        `launches / (login wall time + launch wall time). Signing ${n} id_tokens took ` +
        `${(result.signMs / 1000).toFixed(2)} s, outside both timed phases.`,
    );
    const postgres = service.database.engine === 'postgres';
    const costRow = (label: string, cost: Cost): string[] => [
      label,
      postgres ? cost.roundTrips.toFixed(2) : 'n/a',
      cost.mainCpuMs.toFixed(2),
      cost.toolCpuMs.toFixed(2),
      Number.isNaN(cost.postgresCpuMs) ? 'n/a' : cost.postgresCpuMs.toFixed(2),
      cost.loadGeneratorCpuMs.toFixed(2),
      cost.busyMs.toFixed(2),
    ];
    const both: Cost = {
      busyMs: loginCost.busyMs + launchCost.busyMs,
      mainCpuMs: loginCost.mainCpuMs + launchCost.mainCpuMs,
      toolCpuMs: loginCost.toolCpuMs + launchCost.toolCpuMs,
      postgresCpuMs: loginCost.postgresCpuMs + launchCost.postgresCpuMs,
      loadGeneratorCpuMs: loginCost.loadGeneratorCpuMs + launchCost.loadGeneratorCpuMs,
      roundTrips: loginCost.roundTrips + launchCost.roundTrips,
    };
    console.log('');
    console.log(
      table([
        [
          'per request',
          'round trips',
          'main thread CPU ms',
          'tool CPU ms',
          'PostgreSQL CPU ms',
          'load generator CPU ms',
          'event loop busy ms',
        ],
        costRow('POST /lti/login', loginCost),
        costRow('POST /lti/launch', launchCost),
        costRow('login + launch', both),
      ]),
    );
    const cpuPerLaunch =
      both.toolCpuMs + (Number.isNaN(both.postgresCpuMs) ? 0 : both.postgresCpuMs);
    const cores = availableParallelism();
    console.log(
      `\nRound trips: statements sent to PostgreSQL (BEGIN/COMMIT included). Tool CPU: this process ` +
        `minus the load generator thread (RS256 verification on the libuv pool included). ` +
        (postgres
          ? `PostgreSQL CPU: its processes serving the bench database. `
          : `PGlite runs on the main thread, so its CPU is in the tool's. `) +
        `\nCPU per login + launch: ${cpuPerLaunch.toFixed(2)} ms (tool + database), ` +
        `${(cpuPerLaunch + both.loadGeneratorCpuMs).toFixed(2)} ms with this load generator. ` +
        `${cores} cores doing nothing else top out near ` +
        `${((cores * 1000) / (cpuPerLaunch + both.loadGeneratorCpuMs)).toFixed(0)} launches/s in this bench ` +
        `(${((cores * 1000) / cpuPerLaunch).toFixed(0)}/s with the load generated elsewhere); one tool ` +
        `process is also bound by its main thread: ${(1000 / both.mainCpuMs).toFixed(0)} launches/s.`,
    );
    // Closed loop: `concurrency` requests always in flight, so mean latency = concurrency / rate.
    console.log(
      `Little's law: with ${args.concurrency} in flight, a mean login + launch latency of 50 ms needs ` +
        `${((args.concurrency * 1000) / 50).toFixed(0)} launches/s; at 500 launches/s the mean is ` +
        `${((args.concurrency * 1000) / 500).toFixed(0)} ms.`,
    );
    console.log(
      `Load average (1 min) ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ` +
        `${availableParallelism()} CPUs` +
        (loadBefore > availableParallelism()
          ? ': the machine was busy with other work, so these figures understate the tool.'
          : '.'),
    );
    const launchesPerSecond = (n * 1000) / combinedWall;
    const p99 = percentile(
      [...combined].sort((a, b) => a - b),
      99,
    );
    const met = launchesPerSecond >= 500 && p99 <= 50;
    console.log(
      `Target (PostgreSQL, 2 cores): >= 500 launches/s and p99 <= 50 ms: ${met ? 'MET' : 'MISSED'} ` +
        `(${launchesPerSecond.toFixed(0)} launches/s, p99 ${p99.toFixed(1)} ms` +
        `${service.database.engine === 'postgres' ? '' : ', measured on PGlite'}).`,
    );
  } catch (error) {
    failed = true;
    console.error(error);
  } finally {
    await service.stop();
    await new Promise<void>((resolve) =>
      jwks.server.close(() => {
        resolve();
      }),
    );
    if (serverUrl !== undefined && benchDb !== undefined) {
      await adminQuery(serverUrl, (db) =>
        sql`DROP DATABASE IF EXISTS ${sql.id(benchDb)} WITH (FORCE)`.execute(db),
      );
    }
    await rm(workDir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

if (isMainThread) await main();
