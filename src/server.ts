import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from './logger.ts';

export interface RunningServer {
  readonly server: Server;
  /** The port actually bound (useful when the configured port is 0). */
  readonly port: number;
  /**
   * Stops accepting connections and waits for in-flight requests to finish. Connections still
   * busy after `timeoutMs` are cut so shutdown always ends.
   */
  close(timeoutMs: number): Promise<void>;
}

export async function listen(
  app: Express,
  options: { host: string; port: number },
  logger: Logger,
): Promise<RunningServer> {
  const server = app.listen(options.port, options.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  // Slow-loris guard and a bound on hung requests; LMS services are called from jobs, not requests.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  return {
    server,
    port,
    close: async (timeoutMs) => {
      const closed = new Promise<void>((resolve, reject) => {
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      });
      // Keep-alive connections with no request in flight would hold close() open.
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        logger.warn({ timeoutMs }, 'shutdown timeout reached; closing open connections');
        server.closeAllConnections();
      }, timeoutMs);
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
