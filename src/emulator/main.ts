/**
 * Standalone LMS emulator: `node src/emulator/main.ts --flavour canvas --port 4000`.
 * Seeds a demo course; register the tool in the web UI (or through Dynamic Registration).
 * `--flavour classroom` starts an emulated Google Classroom instead (see classroom/).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createClassroomEmulator, createEmulator } from './emulator.ts';
import { EMULATOR_FLAVOURS, type Flavour } from './types.ts';

const args = z
  .object({
    flavour: z.enum(EMULATOR_FLAVOURS).default('canvas'),
    port: z.coerce.number().int().min(0).max(65535).default(4000),
    host: z.string().default('127.0.0.1'),
    'base-url': z.url().optional(),
    issuer: z.url().optional(),
    /** Classroom: the OAuth client's redirect URI and the add-on's Attachment Setup URI. */
    'redirect-uri': z.url().optional(),
    'setup-uri': z.url().optional(),
  })
  .parse(
    parseArgs({
      options: {
        flavour: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'base-url': { type: 'string' },
        issuer: { type: 'string' },
        'redirect-uri': { type: 'string' },
        'setup-uri': { type: 'string' },
      },
    }).values,
  );

const baseUrl =
  args['base-url'] ?? `http://${args.host === '0.0.0.0' ? 'localhost' : args.host}:${args.port}`;
if (args.flavour === 'classroom') {
  const classroom = await createClassroomEmulator({
    flavour: 'classroom',
    baseUrl,
    ...(args.issuer ? { issuer: args.issuer } : {}),
  });
  const seed = classroom.state.seedCourse();
  const client = classroom.state.registerClient({
    name: 'Mastery Pathways',
    redirectUris: args['redirect-uri'] ? [args['redirect-uri']] : [],
  });
  if (args['setup-uri']) {
    classroom.state.registerAddOn({
      projectNumber: client.projectNumber,
      attachmentSetupUri: args['setup-uri'],
      name: 'Mastery Pathways',
    });
  }
  const server = classroom.app.listen(args.port, args.host, () => {
    console.log(`Google Classroom emulator on ${baseUrl}`);
    console.log(`  issuer (discovery) ${classroom.issuer}`);
    console.log(`  Classroom API base ${classroom.urls.apiBase}`);
    console.log(`  OAuth client id    ${client.clientId}`);
    console.log(`  OAuth secret       ${client.clientSecret}`);
    console.log(`  Workspace domain   ${seed.domain}`);
    console.log(
      `  assignment page    ${classroom.urls.item(seed.course.id, seed.courseWork.id)}?user=${seed.teacher.id}`,
    );
  });
  process.on('SIGTERM', () => server.close());
  process.on('SIGINT', () => server.close());
} else {
  await startLtiEmulator(args.flavour);
}

async function startLtiEmulator(flavour: Flavour): Promise<void> {
  const emulator = await createEmulator({
    flavour,
    baseUrl,
    ...(args.issuer ? { issuer: args.issuer } : {}),
  });
  const seed = emulator.state.seedDemoCourse();
  const server = emulator.app.listen(args.port, args.host, () => {
    console.log(`LMS emulator (${flavour}) on ${baseUrl}`);
    console.log(`  issuer         ${emulator.issuer}`);
    console.log(`  auth endpoint  ${emulator.urls.authorize}`);
    console.log(`  token endpoint ${emulator.urls.token}`);
    console.log(`  JWKS           ${emulator.urls.jwks}`);
    console.log(`  demo course    ${emulator.urls.course(seed.course.courseId)}`);
  });
  process.on('SIGTERM', () => server.close());
  process.on('SIGINT', () => server.close());
}
