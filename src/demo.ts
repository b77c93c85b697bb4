/**
 * `npm run demo`: the tool and an LMS emulator side by side, registered with each other, with a
 * seeded course, so a newcomer can click through a real LTI 1.3 launch (see docs/demo.md).
 *
 * The tool runs on http://localhost:3000 and the emulator on http://127.0.0.1:4000: two different
 * sites, so the launch crosses sites exactly as it does between a district's LMS and the tool.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import type { DestinationStream } from 'pino';
import { z } from 'zod';
import { defaultConfigFiles, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { ALL_SERVICE_SCOPES } from './emulator/claims.ts';
import { createEmulator, type Emulator } from './emulator/emulator.ts';
import type { DemoSeed } from './emulator/state.ts';
import { FLAVOURS, type Flavour } from './emulator/types.ts';
import { LtiAdminError } from './lti-admin/errors.ts';
import {
  addDeployment,
  addTenant,
  listDeployments,
  listPlatforms,
  requireTenant,
  type AdminContext,
} from './lti-admin/use-cases.ts';
import { createLogger, type Logger } from './logger.ts';
import { paths } from './paths.ts';
import { startService } from './service.ts';
import { LTI_PATHS } from './web/routes/lti.routes.ts';
import { parseCasePackage } from './standards/formats/case-import.ts';
import { importFramework } from './standards/import.ts';
import { migrateToLatest, openDatabase } from './storage/database.ts';
import type { Database } from './storage/schema.ts';
import { listFrameworks } from './storage/standards/standards.repository.ts';
import { createPlatformRepository, type Platform } from './storage/lti/platforms.repository.ts';
import type { Tenant } from './storage/lti/tenants.repository.ts';

export const DEMO_TENANT = { slug: 'demo-district', name: 'Demo District' } as const;

export interface DemoOptions {
  readonly flavour?: Flavour;
  /** The tool's port; 0 picks a free one. */
  readonly toolPort?: number;
  /** The emulator's port; 0 picks a free one. */
  readonly emulatorPort?: number;
  /** Embedded database folder (ignored with `databaseUrl`; still holds the key-encryption secret file). */
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  /** Base environment for the tool's configuration (LOG_LEVEL, KEY_ENCRYPTION_SECRET, ...). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the tool's JSON logs go; stdout when left out. */
  readonly logDestination?: DestinationStream;
  readonly now?: () => Date;
}

export interface RunningDemo {
  readonly flavour: Flavour;
  readonly toolUrl: string;
  readonly emulatorUrl: string;
  /** The emulator's course page, where the launch links are. */
  readonly courseUrl: string;
  readonly emulator: Emulator;
  readonly seed: DemoSeed;
  readonly clientId: string;
  readonly deploymentId: string;
  readonly tenant: Tenant;
  readonly platform: Platform;
  /** True when this start found the registration of an earlier run and reused it. */
  readonly reusedRegistration: boolean;
  /** Whether this start imported the sample grade 6 framework (only when the district had none). */
  readonly sampleStandardsImported: boolean;
  readonly logger: Logger;
  stop(): Promise<void>;
}

/**
 * The emulator keeps its state in memory, so every start seeds the course again. Seeding from a
 * fixed seed gives the same context id and the same people (`sub`s) each time, so the tool, whose
 * database persists, sees the same course and roster after a restart instead of a new copy.
 * Everything else (keys, tokens, hints) keeps real randomness.
 */
function demoRandomness(seed: string) {
  let seeded = false;
  let counter = 0;
  const seededBytes = (size: number): Uint8Array => {
    const out = new Uint8Array(size);
    for (let filled = 0; filled < size;) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      const take = Math.min(block.length, size - filled);
      out.set(block.subarray(0, take), filled);
      filled += take;
    }
    return out;
  };
  return {
    bytes: (size: number): Uint8Array =>
      seeded ? seededBytes(size) : new Uint8Array(randomBytes(size)),
    withSeed<T>(run: () => T): T {
      seeded = true;
      try {
        return run();
      } finally {
        seeded = false;
      }
    },
  };
}

async function listenOnLoopback(server: Server, port: number): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** PUBLIC_URL must be known before the tool starts, so port 0 is resolved to a free port first. */
async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenOnLoopback(probe, 0);
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  return port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => {
      resolve();
    });
  });
}

async function findOrAddTenant(ctx: AdminContext): Promise<Tenant> {
  try {
    return await requireTenant(ctx, DEMO_TENANT.slug);
  } catch (error) {
    if (!(error instanceof LtiAdminError && error.code === 'unknown_tenant')) throw error;
    return addTenant(ctx, DEMO_TENANT);
  }
}

interface Registration {
  readonly tenant: Tenant;
  readonly platform: Platform;
  readonly deploymentId: string;
  readonly reused: boolean;
}

/**
 * Registers the emulator in the tool as an admin would (tenant, platform, deployment) and the tool
 * in the emulator. Idempotent: a platform with the emulator's issuer is reused, and the emulator,
 * whose state is in memory, is given that platform's client id and deployment id again.
 *
 * The platform row is written through the repository rather than `addPlatform`: its presets carry
 * the vendors' real endpoints, and the generic preset would record flavour "generic", which turns off
 * flavour behaviour the demo should show (e.g. the Canvas submission extension on scores).
 */
async function registerBothWays(
  ctx: AdminContext,
  emulator: Emulator,
  toolUrl: string,
): Promise<Registration> {
  const tenant = await findOrAddTenant(ctx);
  const existing = (await listPlatforms(ctx)).find((p) => p.issuer === emulator.issuer);
  const tool = emulator.state.registerTool({
    // Left out on the first run: the emulator makes an id in its flavour's format.
    ...(existing === undefined ? {} : { clientId: existing.clientId }),
    name: 'Mastery Pathways',
    toolJwksUrl: `${toolUrl}${LTI_PATHS.jwks}`,
    oidcInitiationUrl: `${toolUrl}${LTI_PATHS.login}`,
    targetLinkUri: `${toolUrl}${LTI_PATHS.launch}`,
    redirectUris: [`${toolUrl}${LTI_PATHS.launch}`],
    // Deep Linking requests arrive at the same redirect URI as resource link launches.
    deepLinkingUrl: `${toolUrl}${LTI_PATHS.launch}`,
    scopes: [...ALL_SERVICE_SCOPES],
  });
  const platform =
    existing ??
    (await createPlatformRepository(ctx.db).create({
      issuer: emulator.issuer,
      clientId: tool.clientId,
      name: `Demo LMS (${emulator.flavour} emulator)`,
      flavour: emulator.flavour,
      authLoginUrl: emulator.urls.authorize,
      authTokenUrl: emulator.urls.token,
      jwksUrl: emulator.urls.jwks,
    }));
  const known = (await listDeployments(ctx)).find(
    (d) => d.platformId === platform.id && d.tenantId === tenant.id,
  );
  const deployment = emulator.state.addDeployment(
    tool.clientId,
    known === undefined ? {} : { deploymentId: known.deploymentId },
  );
  if (known === undefined) {
    await addDeployment(ctx, {
      platformId: platform.id,
      deploymentId: deployment.deploymentId,
      tenantSlug: DEMO_TENANT.slug,
      label: `Demo (${emulator.flavour} emulator)`,
    });
  }
  return {
    tenant,
    platform,
    deploymentId: deployment.deploymentId,
    reused: existing !== undefined,
  };
}

/** The sample grade 6 framework shipped with the tool, so the demo's teacher has standards to tag. */
const SAMPLE_FRAMEWORK = new URL('./standards/samples/district-grade6.case.json', import.meta.url);

async function ensureSampleStandards(
  db: Kysely<Database>,
  tenantId: string,
  now: () => Date,
): Promise<boolean> {
  if ((await listFrameworks(db, tenantId)).length > 0) return false;
  const parsed = parseCasePackage(await readFile(SAMPLE_FRAMEWORK, 'utf8'), {
    maxBytes: 10 * 1024 * 1024,
  });
  const report = await importFramework(
    db,
    { tenantId, actor: 'demo', framework: parsed, source: 'case_file' },
    { now, newId: randomUUID },
  );
  if (!report.ok) throw new Error('the sample framework did not import');
  return true;
}

function toolConfig(options: DemoOptions, toolPort: number): Config {
  const base = options.env ?? {};
  const nodeEnv = base.NODE_ENV ?? 'development';
  return loadConfig({
    env: {
      ...base,
      NODE_ENV: nodeEnv,
      // Loopback only: the emulator lets anyone launch as anyone, and the demo's tool trusts it.
      HOST: base.HOST ?? '127.0.0.1',
      // The emulator's Dynamic Registration is served on loopback http: let the tool fetch it.
      ALLOW_LOOPBACK_REGISTRATION:
        base.ALLOW_LOOPBACK_REGISTRATION ?? (nodeEnv === 'production' ? undefined : 'true'),
      PORT: String(toolPort),
      PUBLIC_URL: `http://localhost:${toolPort}`,
      DATA_DIR: options.dataDir,
      DATABASE_URL: options.databaseUrl,
    },
    files: defaultConfigFiles(paths.config, nodeEnv),
  });
}

/**
 * Starts the emulator and the tool, registers each with the other and seeds a course. The
 * registration is written before the tool starts, so the tool's frame-ancestors list includes the
 * emulator from the first request (the list is otherwise refreshed only once a minute).
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const flavour = options.flavour ?? 'canvas';
  const now = options.now ?? (() => new Date());

  const emulatorServer = createServer();
  const emulatorPort = await listenOnLoopback(emulatorServer, options.emulatorPort ?? 4000);
  const toolPort = options.toolPort === 0 ? await freePort() : (options.toolPort ?? 3000);
  const config = toolConfig(options, toolPort);
  const logger = createLogger({ level: config.log.level }, options.logDestination);

  try {
    const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
    // One issuer per flavour: switching `--flavour` gives a second platform instead of a
    // registration whose flavour no longer matches what the emulator sends.
    const issuer = `${emulatorUrl}/${flavour}`;
    const randomness = demoRandomness(`mastery-pathways-demo|${issuer}`);
    const emulator = await createEmulator({
      flavour,
      baseUrl: emulatorUrl,
      issuer,
      now,
      randomBytes: randomness.bytes,
      platformName: `Demo LMS (${flavour})`,
    });
    emulatorServer.on('request', emulator.app);
    // Seeded before the tool is registered: the id sequence then starts the same way every run.
    const seed = randomness.withSeed(() => emulator.state.seedDemoCourse());

    const database = openDatabase(config.database, logger);
    let registration: Registration;
    let sampleStandardsImported: boolean;
    try {
      await migrateToLatest(database.db);
      registration = await registerBothWays(
        { db: database.db, now },
        emulator,
        config.server.publicUrl,
      );
      sampleStandardsImported = await ensureSampleStandards(
        database.db,
        registration.tenant.id,
        now,
      );
    } finally {
      await database.close();
    }

    const service = await startService(config, logger);
    // Migrations are already applied; this waits for the tool's signing key.
    await service.migrated;

    let stopped: Promise<void> | undefined;
    return {
      flavour,
      toolUrl: config.server.publicUrl,
      emulatorUrl,
      courseUrl: emulator.urls.course(seed.course.courseId),
      emulator,
      seed,
      clientId: registration.platform.clientId,
      deploymentId: registration.deploymentId,
      tenant: registration.tenant,
      platform: registration.platform,
      reusedRegistration: registration.reused,
      sampleStandardsImported,
      logger,
      stop: () => {
        stopped ??= (async () => {
          await service.stop();
          await closeServer(emulatorServer);
        })();
        return stopped;
      },
    };
  } catch (error) {
    await closeServer(emulatorServer);
    throw error;
  }
}

/** The plain-words instructions printed once both servers are up. */
export function instructions(demo: RunningDemo): string {
  const { seed } = demo;
  const student = seed.students[0];
  const lines = [
    '',
    `Mastery Pathways demo is running (${demo.flavour} flavour of the LMS emulator).`,
    '',
    `  Tool          ${demo.toolUrl}`,
    `  LMS emulator  ${demo.emulatorUrl}`,
    demo.reusedRegistration
      ? `  Registration  reused from an earlier run (tenant "${demo.tenant.slug}", client id ${demo.clientId})`
      : `  Registration  created (tenant "${demo.tenant.slug}", client id ${demo.clientId})`,
    '',
    'Open the course in the LMS emulator:',
    '',
    `  ${demo.courseUrl}`,
    '',
    'In the "People" table, each row has launch links; click "Mastery Pathways: course_navigation" on:',
    `  - ${seed.teacher.name} (Instructor)     to launch as the teacher (course page with the teacher tools)`,
    ...(student === undefined
      ? []
      : [
          `  - ${student.name} (Learner)           to launch as a student: their own progress only`,
        ]),
    `  - ${seed.admin.name} (Administrator)   to launch as a course administrator`,
    '',
    'Walkthrough: docs/demo.md. Press Ctrl-C to stop both servers.',
    '',
  ];
  return lines.join('\n');
}

const cliArgs = z.object({
  flavour: z.enum(FLAVOURS).default('canvas'),
  'emulator-port': z.coerce.number().int().min(0).max(65535).default(4000),
});

async function main(): Promise<void> {
  const parsed = cliArgs.safeParse(
    parseArgs({
      options: { flavour: { type: 'string' }, 'emulator-port': { type: 'string' } },
    }).values,
  );
  if (!parsed.success) {
    console.error(
      'Usage: npm run demo -- [--flavour canvas|schoology|moodle] [--emulator-port 4000]',
    );
    console.error(parsed.error.issues.map((issue) => `  ${issue.message}`).join('\n'));
    process.exit(64); // EX_USAGE
  }
  console.log(
    `Starting the LMS emulator (${parsed.data.flavour}) and Mastery Pathways; the first start creates the database and takes a little longer...`,
  );
  const portFromEnv = z.coerce.number().int().min(0).max(65535).default(3000);
  const demo = await startDemo({
    flavour: parsed.data.flavour,
    emulatorPort: parsed.data['emulator-port'],
    toolPort: portFromEnv.parse(process.env.PORT === '' ? undefined : process.env.PORT),
    dataDir: process.env.DATA_DIR ?? path.join(paths.root, 'data', 'demo'),
    databaseUrl: process.env.DATABASE_URL === '' ? undefined : process.env.DATABASE_URL,
    env: process.env,
  });
  console.log(instructions(demo));

  let signalled = false;
  const onSignal = (): void => {
    if (signalled) process.exit(1);
    signalled = true;
    console.log('Stopping the tool and the LMS emulator...');
    demo.stop().then(
      () => {
        demo.logger.flush(() => process.exit(0));
      },
      (error: unknown) => {
        demo.logger.error({ err: error }, 'demo shutdown failed');
        demo.logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

// Run only as a program (`node src/demo.ts`), not when a test imports startDemo.
if (import.meta.main) {
  await main();
}
