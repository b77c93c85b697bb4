/**
 * Standalone LMS emulator: `node src/emulator/main.ts --flavour canvas --port 4000`.
 * Seeds a demo course; register the tool in the web UI (or through Dynamic Registration).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createEmulator } from './emulator.ts';
import { FLAVOURS } from './types.ts';

const args = z
  .object({
    flavour: z.enum(FLAVOURS).default('canvas'),
    port: z.coerce.number().int().min(0).max(65535).default(4000),
    host: z.string().default('127.0.0.1'),
    'base-url': z.url().optional(),
    issuer: z.url().optional(),
  })
  .parse(
    parseArgs({
      options: {
        flavour: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'base-url': { type: 'string' },
        issuer: { type: 'string' },
      },
    }).values,
  );

const baseUrl =
  args['base-url'] ?? `http://${args.host === '0.0.0.0' ? 'localhost' : args.host}:${args.port}`;
const emulator = await createEmulator({
  flavour: args.flavour,
  baseUrl,
  ...(args.issuer ? { issuer: args.issuer } : {}),
});
const seed = emulator.state.seedDemoCourse();
const server = emulator.app.listen(args.port, args.host, () => {
  console.log(`LMS emulator (${args.flavour}) on ${baseUrl}`);
  console.log(`  issuer         ${emulator.issuer}`);
  console.log(`  auth endpoint  ${emulator.urls.authorize}`);
  console.log(`  token endpoint ${emulator.urls.token}`);
  console.log(`  JWKS           ${emulator.urls.jwks}`);
  console.log(`  demo course    ${emulator.urls.course(seed.course.courseId)}`);
});
process.on('SIGTERM', () => server.close());
process.on('SIGINT', () => server.close());
