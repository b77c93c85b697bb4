import { ConfigError, defaultConfigFiles, loadConfig } from './config/load.ts';
import { createLogger } from './logger.ts';
import { paths } from './paths.ts';
import { startService } from './service.ts';

/** Composition root: config → logger → service; SIGTERM/SIGINT stop it gracefully. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({
      env: process.env,
      files: defaultConfigFiles(paths.config, process.env.NODE_ENV),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG: a supervisor should not restart into the same error
    }
    throw error;
  }
  const logger = createLogger({ level: config.log.level });
  const service = await startService(config, logger);

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received');
    // Flush before exiting: on a pipe pino may still hold the last lines.
    const exit = (code: number): void => {
      logger.flush(() => process.exit(code));
    };
    service.stop().then(
      () => {
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

await main();
