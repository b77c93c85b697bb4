/**
 * One passback worker as a process of its own, for the fault tests (SIGKILL at a random point,
 * several workers at once). PostgreSQL only: a PGlite data directory cannot be shared between
 * processes. Settings come from the environment:
 *   DATABASE_URL           the test database
 *   KEY_ENCRYPTION_SECRET  the secret the tool's private key was stored with
 *   WORKER_ID              names the worker in claims
 *   LEASE_MS               claim lease (short, so a killed worker's cells come back quickly)
 * Prints `{"msg":"worker started"}` once running; SIGTERM stops it gracefully.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createAppServices } from '../../src/app-services.ts';
import { createLogger } from '../../src/logger.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import { createPassbackWorker } from '../../src/passback/worker.ts';
import { openDatabase } from '../../src/storage/database.ts';

const url = process.env.DATABASE_URL;
const secret = process.env.KEY_ENCRYPTION_SECRET;
if (url === undefined || secret === undefined) {
  console.error('DATABASE_URL and KEY_ENCRYPTION_SECRET are required');
  process.exit(2);
}
const logger = createLogger({ level: 'warn' });
const database = openDatabase(
  { url, dataDir: 'unused', poolMax: 5, connectTimeoutMs: 5000 },
  logger,
);
const services = createAppServices({ db: database.db, keyEncryptionSecret: secret });
const worker = createPassbackWorker({
  db: database.db,
  resolveLms: resolveLmsFromServices(services),
  now: () => new Date(),
  sleep: (ms) => sleep(ms),
  logger,
  ...(process.env.WORKER_ID === undefined ? {} : { workerId: process.env.WORKER_ID }),
  platformLocks: true,
  limits: {
    requestsPerSecond: 2000,
    burst: 50,
    batchSize: 50,
    leaseMs: Number(process.env.LEASE_MS ?? 3000),
    pollIntervalMs: 100,
    baseBackoffMs: 200,
    maxBackoffMs: 1000,
  },
});
worker.start();
console.log(JSON.stringify({ msg: 'worker started', workerId: worker.workerId }));

process.once('SIGTERM', () => {
  void worker
    .stop()
    .then(() => database.close())
    .then(() => process.exit(0));
});
