import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, defaultConfigFiles, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { LtiAdminError, type LtiAdminErrorCode } from './lti-admin/errors.ts';
import { generatePassword } from './lti-admin/password.ts';
import { PLATFORM_PRESETS } from './lti-admin/platform-presets.ts';
import { createToolKeyService, resolveKeyEncryptionSecret } from './lti-admin/tool-key-service.ts';
import {
  addDeployment,
  addPlatform,
  addTenant,
  createAdminUser,
  disableAdminUser,
  listAdminUsers,
  listDeployments,
  listPlatforms,
  listTenants,
  removeDeployment,
  removePlatform,
  type AdminContext,
} from './lti-admin/use-cases.ts';
import { createLogger, type Logger } from './logger.ts';
import { paths } from './paths.ts';
import {
  migrateToLatest,
  migrationStatus,
  openDatabase,
  type DatabaseHandle,
} from './storage/database.ts';
import { createTenantRepository } from './storage/lti/tenants.repository.ts';
import { createToolKeyRepository } from './storage/lti/tool-keys.repository.ts';
import {
  createDeletionRecordRepository,
  createPersonHasher,
} from './storage/privacy/deletion-records.repository.ts';
import { deletePerson, deleteTenant, exportTenant } from './storage/tenant-data.repository.ts';
import { isUuid } from './ids.ts';
import { reencryptSealedSecrets } from './lti-admin/secret-rotation.ts';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /**
   * Reads a password for `admin create`. Defaults to the first line of standard input, or a hidden
   * prompt when standard input is a terminal. Tests inject it.
   */
  readonly readPassword?: (prompt: string) => Promise<string>;
}

const USAGE = `Usage: mastery-pathways <command> [options]

Commands:
  migrate            apply pending database migrations (also done at every start)
  migrate:status     list applied and pending migrations

  tenant add --slug SLUG --name NAME
                     add a tenant (a district or school)
  tenant list        list tenants
  tenant export --tenant SLUG [--out FILE]
                     write every row of the tenant's data as JSON lines (to FILE or stdout),
                     read from one consistent snapshot
  tenant delete --tenant SLUG --confirm SLUG
                     delete the tenant and ALL its data (one transaction); --confirm repeats
                     the slug
  tenant delete-person --tenant SLUG (--user-id ID | --sub LMS_USER_ID [--issuer URL])
                     delete one person's data (a student's evidence, mastery, grades to send,
                     sessions, enrolments) and their user record, on a deletion request; a
                     deletion record (a keyed hash, no name) keeps roster syncs and launches from
                     adding them again while the LMS still lists them
  tenant deletion-records --tenant SLUG
                     list the tenant's deletion records (id and date; nothing else is kept)
  tenant lift-deletion --tenant SLUG (--record ID | --sub LMS_USER_ID [--issuer URL])
                     lift a deletion record: the person is added again by their next launch or
                     roster sync (with no earlier data: that stays deleted)

  platform add --preset PRESET --client-id ID [--name NAME]
                     register an LMS. PRESET is one of ${PLATFORM_PRESETS.join(', ')}.
                     moodle also takes --issuer (the site URL, exactly as its wwwroot);
                     generic takes --issuer --auth-login-url --auth-token-url --jwks-url
                     [--token-audience]
                     --capture-first-deployment-for SLUG: record the deployment of the
                     FIRST launch for tenant SLUG (Canvas Dynamic Registration gives no
                     deployment id); otherwise only listed deployments may launch
  platform list      list registered platforms
  platform remove --id ID
                     remove a platform that has no deployments left

  deployment add --platform-id ID --deployment-id DEPLOYMENT --tenant SLUG [--label TEXT]
                     allow launches from one deployment (install) and bind it to a tenant
  deployment list    list allowed deployments
  deployment remove --id ID

  keys list          list the tool's signing keys
  keys rotate [--force]
                     first run: publish a new key; next run (a day later): make it the
                     signing key. --force: switch at once and unpublish the old key
                     (only if the old key leaked)
  keys reencrypt --from-secret-env VAR
                     re-encrypt everything sealed with the secret in environment variable
                     VAR (the tool's private keys, Google Classroom client secrets and
                     refresh tokens, the deletion records' hash key) to the configured
                     KEY_ENCRYPTION_SECRET, all or nothing

  admin create --username NAME [--tenant SLUG] [--generate]
                     add an admin user; without --tenant the user is an operator for all
                     tenants. The password is read from standard input (or prompted for);
                     --generate prints a random one once instead
  admin list         list admin users
  admin disable --username NAME

  help               show this help

Options:
  -h, --help         show this help
  -v, --version      print the version

Exit codes: 0 done, 64 wrong command or option, 65 invalid value (bad URL, unknown tenant,
duplicate...), 78 configuration problem.

The database is chosen as the server does: DATABASE_URL for PostgreSQL, otherwise the embedded
database in DATA_DIR (default ./data/pglite). See README.md for every setting.`;

const EXIT = { ok: 0, usage: 64, dataErr: 65, config: 78 } as const;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(`${paths.root}package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

/** Pino lines go to the CLI's stderr, so stdout stays the command's output. */
function cliLogger(io: CliIo): Logger {
  return createLogger(
    { level: 'warn' },
    {
      write: (line: string) => {
        io.stderr(line.trimEnd());
      },
    },
  );
}

async function withDatabase<T>(
  config: Config,
  logger: Logger,
  run: (db: DatabaseHandle) => Promise<T>,
): Promise<T> {
  const database = openDatabase(
    {
      url: config.database.url,
      dataDir: config.database.dataDir,
      poolMax: 1,
      connectTimeoutMs: config.database.connectTimeoutMs,
    },
    logger,
  );
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

function parseFlags<O extends Options>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`${flag} is required.`);
  return value;
}

function optional(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The first line of piped standard input, or a prompt with the typed characters hidden. */
async function readPasswordFromTerminal(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Uint8Array));
    return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').trim();
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const onData = (key: string): void => {
      for (const char of key) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(typed);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new UsageError('Cancelled.'));
          return;
        }
        if (char === '\u007f') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

const table = (rows: readonly (readonly string[])[]): string => {
  const widths = rows.reduce<number[]>(
    (acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)),
    [],
  );
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
};

/** A new file for an export; an existing file is never overwritten. */
async function openNewFile(file: string) {
  try {
    return await open(file, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LtiAdminError(
      'invalid_input',
      code === 'EEXIST'
        ? `${file} already exists; choose a new file name (an export never overwrites a file).`
        : `Cannot create ${file} (${code ?? 'error'}).`,
    );
  }
}

async function tenantBySlug(ctx: AdminContext, slug: string) {
  const tenant = await createTenantRepository(ctx.db).findBySlug(slug);
  if (tenant === undefined) {
    throw new LtiAdminError('unknown_tenant', `There is no tenant "${slug}". See "tenant list".`);
  }
  return tenant;
}

/** The user row a deletion request names: by our id, or by the LMS's user id (`sub`). */
async function personId(
  ctx: AdminContext,
  tenantId: string,
  who: { userId?: string | undefined; sub?: string | undefined; issuer?: string | undefined },
): Promise<string> {
  if ((who.userId === undefined) === (who.sub === undefined)) {
    throw new UsageError('Give either --user-id or --sub.');
  }
  let query = ctx.db.selectFrom('users').select(['id', 'issuer']).where('tenant_id', '=', tenantId);
  if (who.userId !== undefined) {
    if (!isUuid(who.userId)) throw new UsageError('--user-id is not a user id.');
    query = query.where('id', '=', who.userId);
  } else {
    query = query.where('sub', '=', who.sub ?? '');
    if (who.issuer !== undefined) query = query.where('issuer', '=', who.issuer);
  }
  const found = await query.execute();
  if (found.length === 0) {
    throw new LtiAdminError('unknown_user', 'No such person in this tenant. Nothing was deleted.');
  }
  if (found.length > 1) {
    throw new UsageError(
      `That LMS user id exists on ${found.length} platforms; add --issuer (one of: ${found.map((u) => u.issuer).join(', ')}).`,
    );
  }
  return found[0]?.id ?? '';
}

/** The LMS issuers a tenant's people come from: its deployments' platforms. */
async function tenantIssuers(ctx: AdminContext, tenantId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('deployments as d')
    .innerJoin('platforms as p', 'p.id', 'd.platform_id')
    .select('p.issuer')
    .distinct()
    .where('d.tenant_id', '=', tenantId)
    .execute();
  return rows.map((row) => row.issuer);
}

async function runTenant(
  sub: string,
  args: readonly string[],
  ctx: AdminContext,
  io: CliIo,
  secret: () => string,
) {
  switch (sub) {
    case 'add': {
      const flags = parseFlags(args, { slug: { type: 'string' }, name: { type: 'string' } });
      const tenant = await addTenant(ctx, {
        slug: required(flags.slug, '--slug'),
        name: required(flags.name, '--name'),
      });
      io.stdout(`Added tenant ${tenant.slug} (${tenant.name}), id ${tenant.id}.`);
      return EXIT.ok;
    }
    case 'list': {
      parseFlags(args, {});
      const tenants = await listTenants(ctx);
      io.stdout(
        tenants.length === 0
          ? 'No tenants yet. Add one with "tenant add --slug SLUG --name NAME".'
          : table([['SLUG', 'NAME', 'ID'], ...tenants.map((t) => [t.slug, t.name, t.id])]),
      );
      return EXIT.ok;
    }
    case 'export': {
      const flags = parseFlags(args, { tenant: { type: 'string' }, out: { type: 'string' } });
      const tenant = await tenantBySlug(ctx, required(flags.tenant, '--tenant'));
      const out = optional(flags.out);
      const file = out === undefined ? undefined : await openNewFile(out);
      try {
        const summary = await exportTenant(
          ctx.db,
          tenant.id,
          async (line) => {
            if (file === undefined) io.stdout(line);
            else await file.write(`${line}\n`);
          },
          ctx.now,
        );
        const total = Object.values(summary.rows).reduce((sum, n) => sum + n, 0);
        io.stderr(
          `Exported ${total} rows of tenant ${tenant.slug}${out === undefined ? '' : ` to ${out}`}.`,
        );
      } finally {
        await file?.close();
      }
      return EXIT.ok;
    }
    case 'delete': {
      const flags = parseFlags(args, { tenant: { type: 'string' }, confirm: { type: 'string' } });
      const slug = required(flags.tenant, '--tenant');
      if (flags.confirm !== slug) {
        throw new UsageError(
          `Deleting a tenant deletes all its data. Repeat its slug to confirm: --confirm ${slug}`,
        );
      }
      const tenant = await tenantBySlug(ctx, slug);
      const deleted = await deleteTenant(ctx.db, tenant.id);
      const total = Object.values(deleted).reduce((sum, n) => sum + n, 0);
      io.stdout(`Deleted tenant ${slug} and ${total - 1} rows of its data.`);
      return EXIT.ok;
    }
    case 'delete-person': {
      const flags = parseFlags(args, {
        tenant: { type: 'string' },
        'user-id': { type: 'string' },
        sub: { type: 'string' },
        issuer: { type: 'string' },
      });
      const tenant = await tenantBySlug(ctx, required(flags.tenant, '--tenant'));
      const userId = await personId(ctx, tenant.id, {
        userId: optional(flags['user-id']),
        sub: optional(flags.sub),
        issuer: optional(flags.issuer),
      });
      const deleted = await deletePerson(ctx.db, tenant.id, userId, {
        hashPerson: createPersonHasher(ctx.db, secret()),
        now: ctx.now(),
      });
      io.stdout(
        `Deleted person ${userId} of tenant ${tenant.slug}: ${Object.entries(deleted)
          .map(([table, n]) => `${table} ${n}`)
          .join(', ')}.`,
      );
      return EXIT.ok;
    }
    case 'deletion-records': {
      const flags = parseFlags(args, { tenant: { type: 'string' } });
      const tenant = await tenantBySlug(ctx, required(flags.tenant, '--tenant'));
      const records = await createDeletionRecordRepository(
        ctx.db,
        createPersonHasher(ctx.db, secret()),
      ).list(tenant.id);
      io.stdout(
        records.length === 0
          ? `Tenant ${tenant.slug} has no deletion records.`
          : table([
              ['RECORD', 'DELETED ON'],
              ...records.map((r) => [r.id, r.deletedAt.toISOString().slice(0, 10)]),
            ]),
      );
      return EXIT.ok;
    }
    case 'lift-deletion': {
      const flags = parseFlags(args, {
        tenant: { type: 'string' },
        record: { type: 'string' },
        sub: { type: 'string' },
        issuer: { type: 'string' },
      });
      const tenant = await tenantBySlug(ctx, required(flags.tenant, '--tenant'));
      const record = optional(flags.record);
      const sub = optional(flags.sub);
      if ((record === undefined) === (sub === undefined)) {
        throw new UsageError('Give either --record or --sub.');
      }
      const records = createDeletionRecordRepository(ctx.db, createPersonHasher(ctx.db, secret()));
      const issuer = optional(flags.issuer);
      const lifted =
        record !== undefined
          ? await records.liftById(tenant.id, record)
          : await records.liftPerson(
              tenant.id,
              issuer !== undefined ? [issuer] : await tenantIssuers(ctx, tenant.id),
              sub ?? '',
            );
      if (!lifted) {
        throw new LtiAdminError(
          'invalid_input',
          `Tenant ${tenant.slug} has no such deletion record. See "tenant deletion-records --tenant ${tenant.slug}".`,
        );
      }
      io.stdout(
        `Lifted the deletion record in tenant ${tenant.slug}: the person is added again at their next launch or roster sync.`,
      );
      return EXIT.ok;
    }
    default:
      throw new UsageError(
        'Use "tenant add", "tenant list", "tenant export", "tenant delete", "tenant delete-person", "tenant deletion-records" or "tenant lift-deletion".',
      );
  }
}

async function runPlatform(sub: string, args: readonly string[], ctx: AdminContext, io: CliIo) {
  switch (sub) {
    case 'add': {
      const flags = parseFlags(args, {
        preset: { type: 'string' },
        'client-id': { type: 'string' },
        issuer: { type: 'string' },
        name: { type: 'string' },
        'auth-login-url': { type: 'string' },
        'auth-token-url': { type: 'string' },
        'jwks-url': { type: 'string' },
        'token-audience': { type: 'string' },
        'capture-first-deployment-for': { type: 'string' },
      });
      const platform = await addPlatform(ctx, {
        preset: required(flags.preset, '--preset'),
        clientId: required(flags['client-id'], '--client-id'),
        issuer: optional(flags.issuer),
        name: optional(flags.name),
        authLoginUrl: optional(flags['auth-login-url']),
        authTokenUrl: optional(flags['auth-token-url']),
        jwksUrl: optional(flags['jwks-url']),
        tokenAudience: optional(flags['token-audience']),
        captureFirstDeploymentFor: optional(flags['capture-first-deployment-for']),
      });
      io.stdout(
        [
          `Registered platform "${platform.name}", id ${platform.id}.`,
          `  issuer      ${platform.issuer}`,
          `  client_id   ${platform.clientId}`,
          `  login URL   ${platform.authLoginUrl}`,
          `  token URL   ${platform.authTokenUrl}`,
          `  JWKS URL    ${platform.jwksUrl}`,
          ...(platform.captureFirstDeployment
            ? ['  The first launch will record its deployment id for the chosen tenant.']
            : []),
          `Next: allow its deployments with "deployment add --platform-id ${platform.id} --deployment-id ... --tenant ...".`,
        ].join('\n'),
      );
      return EXIT.ok;
    }
    case 'list': {
      parseFlags(args, {});
      const platforms = await listPlatforms(ctx);
      io.stdout(
        platforms.length === 0
          ? 'No platforms yet. Register one with "platform add".'
          : table([
              ['ID', 'FLAVOUR', 'STATUS', 'ISSUER', 'CLIENT_ID', 'NAME'],
              ...platforms.map((p) => [p.id, p.flavour, p.status, p.issuer, p.clientId, p.name]),
            ]),
      );
      return EXIT.ok;
    }
    case 'remove': {
      const flags = parseFlags(args, { id: { type: 'string' } });
      const id = required(flags.id, '--id');
      await removePlatform(ctx, id);
      io.stdout(`Removed platform ${id}.`);
      return EXIT.ok;
    }
    default:
      throw new UsageError('Use "platform add", "platform list" or "platform remove".');
  }
}

async function runDeployment(sub: string, args: readonly string[], ctx: AdminContext, io: CliIo) {
  switch (sub) {
    case 'add': {
      const flags = parseFlags(args, {
        'platform-id': { type: 'string' },
        'deployment-id': { type: 'string' },
        tenant: { type: 'string' },
        label: { type: 'string' },
      });
      const { deployment, warnings } = await addDeployment(ctx, {
        platformId: required(flags['platform-id'], '--platform-id'),
        deploymentId: required(flags['deployment-id'], '--deployment-id'),
        tenantSlug: required(flags.tenant, '--tenant'),
        label: optional(flags.label),
      });
      for (const warning of warnings) io.stderr(`Warning: ${warning}`);
      io.stdout(`Allowed deployment ${deployment.deploymentId}, id ${deployment.id}.`);
      return EXIT.ok;
    }
    case 'list': {
      parseFlags(args, {});
      const [deployments, tenants, platforms] = await Promise.all([
        listDeployments(ctx),
        listTenants(ctx),
        listPlatforms(ctx),
      ]);
      const slug = new Map(tenants.map((t) => [t.id, t.slug]));
      const issuer = new Map(platforms.map((p) => [p.id, `${p.issuer} ${p.clientId}`]));
      io.stdout(
        deployments.length === 0
          ? 'No deployments yet. Allow one with "deployment add".'
          : table([
              ['ID', 'TENANT', 'DEPLOYMENT_ID', 'PLATFORM', 'LABEL'],
              ...deployments.map((d) => [
                d.id,
                slug.get(d.tenantId) ?? d.tenantId,
                d.deploymentId,
                issuer.get(d.platformId) ?? d.platformId,
                d.label ?? '',
              ]),
            ]),
      );
      return EXIT.ok;
    }
    case 'remove': {
      const flags = parseFlags(args, { id: { type: 'string' } });
      const id = required(flags.id, '--id');
      await removeDeployment(ctx, id);
      io.stdout(`Removed deployment ${id}.`);
      return EXIT.ok;
    }
    default:
      throw new UsageError('Use "deployment add", "deployment list" or "deployment remove".');
  }
}

async function runKeys(
  sub: string,
  args: readonly string[],
  ctx: AdminContext,
  io: CliIo,
  secret: () => string,
) {
  const service = () =>
    createToolKeyService({
      repository: createToolKeyRepository(ctx.db),
      secret: secret(),
      now: ctx.now,
    });
  switch (sub) {
    case 'list': {
      parseFlags(args, {});
      const keys = await createToolKeyRepository(ctx.db).list();
      io.stdout(
        keys.length === 0
          ? 'No keys yet. The server creates one at start, or run "keys rotate".'
          : table([
              ['KID', 'STATUS', 'CREATED', 'ACTIVATED', 'RETIRED'],
              ...keys.map((k) => [
                k.kid,
                k.status,
                k.createdAt.toISOString(),
                k.activatedAt?.toISOString() ?? '-',
                k.retiredAt?.toISOString() ?? '-',
              ]),
            ]),
      );
      return EXIT.ok;
    }
    case 'rotate': {
      const flags = parseFlags(args, { force: { type: 'boolean' } });
      const keys = service();
      await keys.ensureCurrentKey();
      const outcome = await keys.rotate({ force: flags.force === true });
      io.stdout(
        outcome.action === 'added-next'
          ? `Published next key ${outcome.kid}. Run "keys rotate" again after ${outcome.usableFrom.toISOString()} to start signing with it.`
          : `Key ${outcome.kid} now signs${outcome.previousKid === undefined ? '' : outcome.forced ? `; key ${outcome.previousKid} is no longer published` : `; key ${outcome.previousKid} stays published until its tokens expire`}.`,
      );
      return EXIT.ok;
    }
    case 'reencrypt': {
      const flags = parseFlags(args, { 'from-secret-env': { type: 'string' } });
      const variable = required(flags['from-secret-env'], '--from-secret-env');
      const oldSecret = io.env[variable];
      if (oldSecret === undefined || oldSecret === '') {
        throw new UsageError(`The environment variable ${variable} is not set.`);
      }
      const counts = await reencryptSealedSecrets(ctx.db, { oldSecret, newSecret: secret() });
      io.stdout(
        `Re-encrypted with the configured secret: ${counts.toolKeys} private key(s), ${counts.classroomClientSecrets} Google Classroom client secret(s), ${counts.classroomRefreshTokens} Google refresh token(s), ${counts.serverSecrets} server key(s). Deletion records keep matching.`,
      );
      return EXIT.ok;
    }
    default:
      throw new UsageError('Use "keys list", "keys rotate" or "keys reencrypt".');
  }
}

async function runAdmin(sub: string, args: readonly string[], ctx: AdminContext, io: CliIo) {
  switch (sub) {
    case 'create': {
      const flags = parseFlags(args, {
        username: { type: 'string' },
        tenant: { type: 'string' },
        generate: { type: 'boolean' },
      });
      const username = required(flags.username, '--username');
      const generated = flags.generate === true ? generatePassword() : undefined;
      const password =
        generated ??
        (await (io.readPassword ?? readPasswordFromTerminal)(`Password for ${username}: `));
      const admin = await createAdminUser(ctx, {
        username,
        tenantSlug: optional(flags.tenant),
        password,
      });
      io.stdout(
        `Created admin user ${admin.username}${admin.tenantId === undefined ? ' (operator: all tenants)' : ''}.`,
      );
      if (generated !== undefined) {
        io.stdout(`Password (shown once, store it now): ${generated}`);
      }
      return EXIT.ok;
    }
    case 'list': {
      parseFlags(args, {});
      const [admins, tenants] = await Promise.all([listAdminUsers(ctx), listTenants(ctx)]);
      const slug = new Map(tenants.map((t) => [t.id, t.slug]));
      io.stdout(
        admins.length === 0
          ? 'No admin users yet. Add one with "admin create".'
          : table([
              ['USERNAME', 'TENANT', 'STATUS'],
              ...admins.map((a) => [
                a.username,
                a.tenantId === undefined ? '(all)' : (slug.get(a.tenantId) ?? a.tenantId),
                a.disabledAt === undefined ? 'enabled' : `disabled ${a.disabledAt.toISOString()}`,
              ]),
            ]),
      );
      return EXIT.ok;
    }
    case 'disable': {
      const flags = parseFlags(args, { username: { type: 'string' } });
      const username = required(flags.username, '--username');
      await disableAdminUser(ctx, username);
      io.stdout(`Disabled admin user ${username}.`);
      return EXIT.ok;
    }
    default:
      throw new UsageError('Use "admin create", "admin list" or "admin disable".');
  }
}

const ADMIN_COMMANDS = ['tenant', 'platform', 'deployment', 'keys', 'admin'] as const;
type AdminCommand = (typeof ADMIN_COMMANDS)[number];

const isAdminCommand = (command: string): command is AdminCommand =>
  (ADMIN_COMMANDS as readonly string[]).includes(command);

function exitCodeFor(code: LtiAdminErrorCode): number {
  return code === 'no_secret' ? EXIT.config : EXIT.dataErr;
}

async function runAdminCommand(
  command: AdminCommand,
  rest: readonly string[],
  config: Config,
  io: CliIo,
): Promise<number> {
  const [sub = '', ...args] = rest;
  const logger = cliLogger(io);
  try {
    return await withDatabase(config, logger, async (database) => {
      // The server migrates at every start; so do these commands, so a fresh install can be set up
      // before the first start.
      await migrateToLatest(database.db);
      const ctx: AdminContext = { db: database.db, now: () => new Date() };
      switch (command) {
        case 'tenant':
          return runTenant(sub, args, ctx, io, () => resolveKeyEncryptionSecret(config, logger));
        case 'platform':
          return runPlatform(sub, args, ctx, io);
        case 'deployment':
          return runDeployment(sub, args, ctx, io);
        case 'keys':
          return runKeys(sub, args, ctx, io, () => resolveKeyEncryptionSecret(config, logger));
        case 'admin':
          return runAdmin(sub, args, ctx, io);
      }
    });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\nRun "mastery-pathways --help" for the commands and options.`);
      return EXIT.usage;
    }
    if (error instanceof LtiAdminError) {
      io.stderr(error.message);
      return exitCodeFor(error.code);
    }
    if (error instanceof Error && 'code' in error && error.code === 'key_decryption_failed') {
      io.stderr(
        'A private key could not be decrypted: the old secret is wrong or a key row was altered. Nothing was changed.',
      );
      return EXIT.dataErr;
    }
    throw error;
  }
}

/** Runs one CLI command and returns the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (
    command === undefined ||
    ['help', '-h', '--help'].includes(command) ||
    rest.includes('--help')
  ) {
    io.stdout(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '-v' || command === '--version') {
    io.stdout(version());
    return EXIT.ok;
  }
  let config: Config;
  try {
    config = loadConfig({ env: io.env, files: defaultConfigFiles(paths.config, io.env.NODE_ENV) });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(error.message);
      return EXIT.config;
    }
    throw error;
  }
  if (isAdminCommand(command)) return runAdminCommand(command, rest, config, io);
  switch (command) {
    case 'migrate':
      return withDatabase(config, cliLogger(io), async (database) => {
        const result = await migrateToLatest(database.db);
        const applied = (result.results ?? []).map((r) => r.migrationName);
        io.stdout(
          applied.length > 0
            ? `Applied ${applied.length} migration(s) on ${database.location}:\n${applied.map((n) => `  ${n}`).join('\n')}`
            : `The schema on ${database.location} is up to date.`,
        );
        return EXIT.ok;
      });
    case 'migrate:status':
      return withDatabase(config, cliLogger(io), async (database) => {
        const status = await migrationStatus(database.db);
        io.stdout(
          [
            `Database: ${database.location}`,
            ...status.applied.map((n) => `  applied  ${n}`),
            ...status.pending.map((n) => `  pending  ${n}`),
          ].join('\n'),
        );
        return EXIT.ok;
      });
    default:
      io.stderr(`Unknown command "${command}". Run "mastery-pathways --help" for the list.`);
      return EXIT.usage;
  }
}
