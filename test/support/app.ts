import { Writable } from 'node:stream';
import type { Express } from 'express';
import { loadConfig, defaultConfigFiles } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { paths } from '../../src/paths.ts';
import { Readiness } from '../../src/readiness.ts';
import type { DatabaseHandle } from '../../src/storage/database.ts';
import { createApp, type AppDeps } from '../../src/web/app.ts';

/** Log lines written by an app under test, parsed, so tests can assert what was (not) logged. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });

  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

/** The bearer token test apps and test service processes want on /metrics (`METRICS_TOKEN`). */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789abcdef0123';

/** `Authorization` for reading /metrics of a test app. */
export const metricsAuthorization = { authorization: `Bearer ${TEST_METRICS_TOKEN}` } as const;

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    env: { NODE_ENV: 'test', LOG_LEVEL: 'info', METRICS_TOKEN: TEST_METRICS_TOKEN, ...env },
    files: defaultConfigFiles(paths.config, 'test'),
  });
}

export interface TestApp {
  readonly app: Express;
  readonly config: Config;
  readonly logs: LogCapture;
  readonly logger: Logger;
  readonly deps: AppDeps;
}

export function buildTestApp(
  database: DatabaseHandle,
  options: { env?: Record<string, string>; platformOrigins?: () => readonly string[] } = {},
): TestApp {
  const config = testConfig(options.env);
  const logs = new LogCapture();
  const logger = createLogger({ level: config.log.level }, logs.stream);
  const deps: AppDeps = {
    logger,
    database,
    readiness: new Readiness(database.db),
    metrics: createMetrics({ defaultMetrics: false }),
    ...(options.platformOrigins ? { platformOrigins: options.platformOrigins } : {}),
  };
  return { app: createApp(config, deps), config, logs, logger, deps };
}
