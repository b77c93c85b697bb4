import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Keys that must never reach a log line: secrets, and the personal data we hold about students and
 * staff (names and emails). Logs carry opaque ids only.
 */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'id_token',
  'client_assertion',
  'authorization',
  'cookie',
  'keyEncryptionSecret',
  'privateKey',
  'name',
  'given_name',
  'family_name',
  'givenName',
  'familyName',
  'email',
] as const;

const redactPaths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat([
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]);

export function createLogger(
  options: { level: string; service?: string },
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      // `service` rather than pino's `name`: `name` is a redacted personal-data key.
      base: { service: options.service ?? 'mastery-pathways', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
