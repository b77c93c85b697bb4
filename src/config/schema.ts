import { z } from 'zod';

/**
 * The one description of every setting: where it lives in the nested config, which environment
 * variable overrides it, and what a person must put there. The loader, its error messages and the
 * README table are all built from this list, so they cannot drift apart.
 */
export interface SettingSpec {
  readonly path: readonly [string, string];
  readonly env: string;
  readonly expects: string;
  readonly secret?: boolean;
  /** Environment values are strings; list settings are comma-separated. */
  readonly list?: boolean;
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    path: ['server', 'host'],
    env: 'HOST',
    expects: 'the interface to listen on, e.g. 0.0.0.0 or 127.0.0.1',
  },
  { path: ['server', 'port'], env: 'PORT', expects: 'a whole number from 0 to 65535' },
  {
    path: ['server', 'publicUrl'],
    env: 'PUBLIC_URL',
    expects:
      'the https:// address people and LMSs reach the tool at, without a trailing path (http:// only for localhost)',
  },
  {
    path: ['server', 'trustProxy'],
    env: 'TRUST_PROXY',
    expects: '"true" behind a reverse proxy that sets X-Forwarded-*, else "false"',
  },
  {
    path: ['database', 'url'],
    env: 'DATABASE_URL',
    expects: 'a postgres:// or postgresql:// connection URL; leave unset for the embedded database',
    secret: true,
  },
  {
    path: ['database', 'dataDir'],
    env: 'DATA_DIR',
    expects: 'a writable folder for the embedded database (used only without DATABASE_URL)',
  },
  {
    path: ['database', 'poolMax'],
    env: 'DB_POOL_MAX',
    expects: 'a whole number from 1 to 100: connections to PostgreSQL',
  },
  {
    path: ['database', 'connectTimeoutMs'],
    env: 'DB_CONNECT_TIMEOUT_MS',
    expects: 'milliseconds to wait for a PostgreSQL connection, from 100 to 60000',
  },
  {
    path: ['log', 'level'],
    env: 'LOG_LEVEL',
    expects: 'one of fatal, error, warn, info, debug, trace, silent',
  },
  {
    path: ['security', 'frameAncestors'],
    env: 'FRAME_ANCESTORS',
    expects:
      'comma-separated https:// origins allowed to frame the tool besides the registered LMSs',
    list: true,
  },
  {
    path: ['security', 'keyEncryptionSecret'],
    env: 'KEY_ENCRYPTION_SECRET',
    expects:
      'at least 32 characters of random text that encrypts the tool private keys at rest (required in production)',
    secret: true,
  },
  {
    path: ['security', 'allowLoopbackRegistration'],
    env: 'ALLOW_LOOPBACK_REGISTRATION',
    expects:
      '"true" to let LTI Dynamic Registration fetch http:// addresses on this machine (the demo and local LMS installs only; refused with NODE_ENV=production), else "false"',
  },
  {
    path: ['security', 'metricsToken'],
    env: 'METRICS_TOKEN',
    expects:
      'at least 32 characters of random text that Prometheus sends as "Authorization: Bearer <token>" to read /metrics; without it /metrics answers 401',
    secret: true,
  },
  {
    path: ['session', 'idleMinutes'],
    env: 'SESSION_IDLE_MINUTES',
    expects:
      'minutes without a request after which a launched session ends, a whole number from 5 to 480',
  },
  {
    path: ['session', 'maxHours'],
    env: 'SESSION_MAX_HOURS',
    expects:
      'hours after its launch at which a session ends however active it is, a whole number from 1 to 24 (not shorter than SESSION_IDLE_MINUTES)',
  },
  {
    path: ['shutdown', 'timeoutMs'],
    env: 'SHUTDOWN_TIMEOUT_MS',
    expects: 'milliseconds to let in-flight requests finish on SIGTERM, from 0 to 120000',
  },
  {
    path: ['passback', 'worker'],
    env: 'PASSBACK_WORKER',
    expects:
      '"true" to post grades to LMS gradebooks from this instance, "false" to leave it to others',
  },
  {
    path: ['passback', 'requestsPerSecond'],
    env: 'PASSBACK_REQUESTS_PER_SECOND',
    expects: 'calls per second to one LMS platform, across all instances, from 0.1 to 1000',
  },
  {
    path: ['passback', 'auditRetentionDays'],
    env: 'PASSBACK_AUDIT_RETENTION_DAYS',
    expects: 'days to keep the grade passback audit log, a whole number from 1 to 3650',
  },
];

const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || host.startsWith('127.');

const origin = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' && url.origin === value;
    } catch {
      return false;
    }
  },
  {
    error:
      'each entry must be an https:// origin with no path, e.g. https://district.instructure.com',
  },
);

const booleanString = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);

export const configSchema = z
  .object({
    nodeEnv: z.enum(['development', 'production', 'test']),
    server: z.object({
      host: z.string().min(1),
      port: z.coerce.number().int().min(0).max(65535),
      publicUrl: z
        .string()
        .refine((value) => URL.canParse(value), { error: 'not a URL' })
        .transform((value) => new URL(value))
        .refine((url) => url.pathname === '/' && !url.search && !url.hash, {
          error: 'must be an origin with no path, query or fragment',
        })
        .refine((url) => url.protocol === 'https:' || isLoopbackHost(url.hostname), {
          error: 'must use https:// (plain http:// is allowed only for localhost)',
        })
        .transform((url) => url.origin),
      trustProxy: booleanString,
    }),
    database: z.object({
      url: z
        .string()
        .refine(
          (value) => {
            try {
              return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
            } catch {
              return false;
            }
          },
          { error: 'must be a postgres:// or postgresql:// URL' },
        )
        .optional(),
      dataDir: z.string().min(1),
      poolMax: z.coerce.number().int().min(1).max(100),
      connectTimeoutMs: z.coerce.number().int().min(100).max(60000),
    }),
    log: z.object({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    }),
    security: z.object({
      frameAncestors: z.array(origin),
      keyEncryptionSecret: z
        .string()
        .min(32, { error: 'must be at least 32 characters long' })
        .optional(),
      // Defaults here (not in config/default.json), so older config files stay valid.
      allowLoopbackRegistration: booleanString.default(false),
      metricsToken: z.string().min(32, { error: 'must be at least 32 characters long' }).optional(),
    }),
    session: z
      .object({
        idleMinutes: z.coerce.number().int().min(5).max(480).default(60),
        maxHours: z.coerce.number().int().min(1).max(24).default(10),
      })
      .default({ idleMinutes: 60, maxHours: 10 }),
    shutdown: z.object({
      timeoutMs: z.coerce.number().int().min(0).max(120000),
    }),
    // Defaults here (not in config/default.json), so older config files stay valid.
    passback: z
      .object({
        worker: booleanString.default(true),
        requestsPerSecond: z.coerce.number().min(0.1).max(1000).default(10),
        auditRetentionDays: z.coerce.number().int().min(1).max(3650).default(400),
      })
      .default({ worker: true, requestsPerSecond: 10, auditRetentionDays: 400 }),
  })
  .superRefine((config, ctx) => {
    if (config.nodeEnv === 'production' && config.security.keyEncryptionSecret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['security', 'keyEncryptionSecret'],
        message:
          'is required when NODE_ENV=production (generate one with: openssl rand -base64 48)',
      });
    }
    if (config.nodeEnv === 'production' && config.security.allowLoopbackRegistration) {
      ctx.addIssue({
        code: 'custom',
        path: ['security', 'allowLoopbackRegistration'],
        message:
          'must not be "true" when NODE_ENV=production: it lets anyone who can open /lti/register make the server fetch addresses on its own machine',
      });
    }
    if (config.session.idleMinutes > config.session.maxHours * 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['session', 'idleMinutes'],
        message: `is longer than the session's whole lifetime (SESSION_MAX_HOURS=${config.session.maxHours})`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
