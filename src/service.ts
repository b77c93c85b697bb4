import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config/schema.ts';
import type { Logger } from './logger.ts';
import {
  createAppServices,
  createFrameOriginCache,
  resolveLmsFromServices,
  sessionLifetime,
  sweepExpired,
  type AppServices,
} from './app-services.ts';
import { ROSTER_SYNC_JOB_KIND, rosterSyncJobHandler } from './courses/roster-job.ts';
import { resolveKeyEncryptionSecret } from './lti-admin/tool-key-service.ts';
import { createMetrics } from './metrics.ts';
import { createPassbackWorker, type PassbackWorker } from './passback/worker.ts';
import { Readiness } from './readiness.ts';
import { listen } from './server.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './storage/database.ts';
import { deleteExpiredAudit } from './storage/passback/passback.repository.ts';
import { createApp } from './web/app.ts';

/** How often expired login states, nonces, sessions and Deep Linking requests are deleted. */
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export interface RunningService {
  readonly port: number;
  readonly database: DatabaseHandle;
  /** Resolves once migrations are applied (it never rejects: failures are retried and logged). */
  readonly migrated: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Registers the job kinds whose handlers need the whole app's services (the areas built from
 * `AreaDeps` register their own, e.g. mastery recomputes). Call once per `createAppServices`.
 */
export function registerJobHandlers(services: AppServices): void {
  services.jobs.register(ROSTER_SYNC_JOB_KIND, rosterSyncJobHandler(services));
}

/**
 * Starts the HTTP service, then brings the database schema up to date in the background. An
 * unreachable database leaves the process serving (with /readyz at 503 and the reason) and
 * retrying with backoff, instead of exiting into a restart loop.
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const database = openDatabase(
    {
      url: config.database.url,
      dataDir: config.database.dataDir,
      poolMax: config.database.poolMax,
      connectTimeoutMs: config.database.connectTimeoutMs,
    },
    logger,
  );
  logger.info({ engine: database.engine, location: database.location }, 'database selected');
  const readiness = new Readiness(database.db);
  const metrics = createMetrics({ defaultMetrics: true });
  const services = createAppServices({
    db: database.db,
    keyEncryptionSecret: resolveKeyEncryptionSecret(config, logger),
    logger,
    session: sessionLifetime(config),
  });
  registerJobHandlers(services);
  const frameOrigins = createFrameOriginCache(services, logger);
  const app = createApp(config, {
    logger,
    database,
    readiness,
    metrics,
    services,
    platformOrigins: frameOrigins.current,
  });
  const server = await listen(app, config.server, logger);
  logger.info({ port: server.port, publicUrl: config.server.publicUrl }, 'listening');

  const stopping = new AbortController();
  let passbackWorker: PassbackWorker | undefined;
  const migrated = migrateWithRetry(database, logger, stopping.signal).then(async () => {
    if (stopping.signal.aborted) return;
    // The tool's signing key must exist before the first launch or service call.
    await services.toolKeys.ensureCurrentKey();
    await frameOrigins.refresh();
    if (config.passback.worker) {
      passbackWorker = createPassbackWorker({
        db: database.db,
        resolveLms: resolveLmsFromServices(services),
        now: services.now,
        sleep: (ms) => sleep(ms),
        logger,
        metrics: metrics.registry,
        limits: { requestsPerSecond: config.passback.requestsPerSecond },
        // Several instances share PostgreSQL: one of them calls a platform at a time.
        platformLocks: database.engine === 'postgres',
      });
      passbackWorker.start();
      logger.info({ workerId: passbackWorker.workerId }, 'grade passback worker started');
    }
    // Background jobs (recomputes, roster syncs, standards imports): a job another process left
    // running is taken up again once its lease has run out.
    services.jobs.start();
    logger.info({ workerId: services.jobs.workerId }, 'background job runner started');
    // A policy change's recompute that a stopped process left half done and that the job runner
    // does not hold is run again (a recompute is idempotent: it starts from the stored evidence).
    services.mastery.resumeInterruptedJobs().then(
      (resumed) => {
        if (resumed > 0) logger.info({ resumed }, 'resumed interrupted mastery recomputes');
      },
      (error: unknown) => {
        logger.error({ err: error }, 'could not resume interrupted mastery recomputes');
      },
    );
  });
  const refreshTimer = setInterval(() => void frameOrigins.refresh(), 60_000);
  refreshTimer.unref();
  const sweepTimer = setInterval(() => {
    sweepExpired(services).then(
      (swept) => {
        logger.debug(swept, 'expired launch data removed');
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'could not remove expired launch data; will try again');
      },
    );
  }, SWEEP_INTERVAL_MS);
  sweepTimer.unref();
  const auditTimer = setInterval(() => {
    // Each district's own retention (tenant settings), else the deployment's.
    deleteExpiredAudit(database.db, services.now(), config.passback.auditRetentionDays).then(
      (deleted) => {
        logger.debug({ deleted }, 'old grade passback audit lines removed');
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'could not remove old passback audit lines; will try again');
      },
    );
  }, SWEEP_INTERVAL_MS);
  auditTimer.unref();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      readiness.markShuttingDown();
      stopping.abort();
      clearInterval(refreshTimer);
      clearInterval(sweepTimer);
      clearInterval(auditTimer);
      await server.close(config.shutdown.timeoutMs);
      await migrated.catch((error: unknown) => {
        logger.warn({ err: error }, 'start-up work did not finish');
      });
      // The post in flight finishes and is recorded; the rest of its batch is given back. Should
      // the process die first, the claim lease runs out and another worker posts the cells.
      if (passbackWorker !== undefined) {
        await passbackWorker.stop();
        logger.info({ workerId: passbackWorker.workerId }, 'grade passback worker stopped');
      }
      // A running job is told to stop: one that stops in time is given back and the next process
      // starts it again at once; one that cannot is left to its lease.
      await services.jobs.stop();
      logger.info({ workerId: services.jobs.workerId }, 'background job runner stopped');
      await database.close();
      logger.info('shutdown complete');
    })();
    return stopped;
  };
  return { port: server.port, database, migrated, stop };
}

async function migrateWithRetry(
  database: DatabaseHandle,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  let delayMs = 1000;
  while (!signal.aborted) {
    try {
      const result = await migrateToLatest(database.db);
      const applied = (result.results ?? []).map((r) => r.migrationName);
      logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
      return;
    } catch (error) {
      logger.warn(
        { err: error, retryInMs: delayMs },
        'database not ready; will retry (see /readyz for the reason)',
      );
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        return; // aborted by shutdown
      }
      delayMs = Math.min(delayMs * 2, 30_000);
    }
  }
}
