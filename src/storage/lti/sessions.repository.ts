import { createHash, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { lmsRolesFromLti } from '../../lms/lti/roles.ts';
import { HELD_ROLES, heldRoles, type HeldRole } from '../../lms/roles.ts';
import type { Database } from '../schema.ts';

/**
 * Tool sessions. The tool runs in LMS iframes where third-party cookies are blocked, so the token
 * travels in links, forms and headers; only its SHA-256 is stored, so a leaked table or backup does
 * not hand out live sessions.
 */
export interface Session {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly courseId: string | undefined;
  /** The LMS-neutral roles (src/lms/roles.ts) the launch or sign-in gave, never LTI role URIs. */
  readonly roles: readonly HeldRole[];
  readonly csrfSecret: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly lastSeenAt: Date;
}

export interface CreatedSession {
  /** Give this to the browser; it is not stored and cannot be recovered. */
  readonly token: string;
  readonly session: Session;
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface SessionRepositoryOptions {
  readonly now: () => Date;
  /** A session ends this long after its last request (`SESSION_IDLE_MINUTES`). */
  readonly idleMs: number;
  /** …and this long after it was created, however active (`SESSION_MAX_HOURS`). */
  readonly maxMs: number;
  /** Injected randomness; node:crypto by default. */
  readonly randomBytes?: (size: number) => Buffer;
}

export function createSessionRepository(db: Kysely<Database>, options: SessionRepositoryOptions) {
  const random = options.randomBytes ?? cryptoRandomBytes;
  const { idleMs, maxMs } = options;
  /** A new session's end: the idle timeout, never past the absolute limit. */
  const firstExpiry = (created: Date): Date =>
    new Date(created.getTime() + Math.min(idleMs, maxMs));
  /** Sessions created before this have reached the absolute limit. */
  const oldestLive = (time: Date): Date => new Date(time.getTime() - maxMs);
  return {
    /**
     * A new session's token and row values without writing them, for a caller that inserts the row
     * in its own statement (the launch does, together with the launch record).
     */
    prepare(): {
      token: string;
      row: { id: string; csrfSecret: string; createdAt: Date; expiresAt: Date };
    } {
      const token = random(32).toString('base64url');
      const time = options.now();
      return {
        token,
        row: {
          id: hashSessionToken(token),
          csrfSecret: random(32).toString('base64url'),
          createdAt: time,
          expiresAt: firstExpiry(time),
        },
      };
    },

    async create(input: {
      tenantId: string;
      userId: string;
      courseId?: string | undefined;
      /** As stored: the LTI roles of the launch (Classroom records LIS roles too). */
      roles: readonly string[];
    }): Promise<CreatedSession> {
      const token = random(32).toString('base64url');
      const time = options.now();
      const row = await db
        .insertInto('sessions')
        .values({
          id: hashSessionToken(token),
          tenant_id: input.tenantId,
          user_id: input.userId,
          course_id: input.courseId ?? null,
          roles: [...input.roles],
          csrf_secret: random(32).toString('base64url'),
          created_at: time,
          expires_at: firstExpiry(time),
          last_seen_at: time,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { token, session: toSession(row) };
    },

    /** The live session for a token, or undefined when unknown, idle too long or too old. */
    async findByToken(token: string): Promise<Session | undefined> {
      const time = options.now();
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('id', '=', hashSessionToken(token))
        .where('expires_at', '>', time)
        .where('created_at', '>', oldestLive(time))
        .executeTakeFirst();
      return row === undefined ? undefined : toSession(row);
    },

    /**
     * Records activity: the idle timeout starts again from now, but the session never outlives
     * its absolute limit (created + max), so a token in a URL is good for a bounded time.
     */
    async touch(token: string): Promise<boolean> {
      const time = options.now();
      const idleEnd = new Date(time.getTime() + idleMs);
      const result = await db
        .updateTable('sessions')
        .set({
          last_seen_at: time,
          expires_at: sql<Date>`least(${idleEnd}::timestamptz, created_at + ${`${maxMs} milliseconds`}::interval)`,
        })
        .where('id', '=', hashSessionToken(token))
        .where('expires_at', '>', time)
        .where('created_at', '>', oldestLive(time))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async delete(token: string): Promise<boolean> {
      const result = await db
        .deleteFrom('sessions')
        .where('id', '=', hashSessionToken(token))
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** A district's sessions (for sign-out of everyone, or an admin page). Tenant-scoped. */
    async listForTenant(tenantId: string): Promise<Session[]> {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('expires_at', '>', options.now())
        .where('created_at', '>', oldestLive(options.now()))
        .orderBy('created_at')
        .execute();
      return rows.map(toSession);
    },

    async sweepExpired(): Promise<number> {
      const time = options.now();
      const result = await db
        .deleteFrom('sessions')
        .where((eb) =>
          eb.or([eb('expires_at', '<=', time), eb('created_at', '<=', oldestLive(time))]),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/**
 * The stored roles in the LMS-neutral words. The column holds the LTI roles of the launch (and the
 * LIS roles Classroom records); neutral words are read too, so rows written either way mean the
 * same. Nothing above storage reads an LTI role of a session.
 */
export function sessionRoles(stored: readonly string[]): HeldRole[] {
  const held = new Set<HeldRole>([...heldRoles(stored), ...lmsRolesFromLti(stored)]);
  return HELD_ROLES.filter((role) => held.has(role));
}

export function toSession(row: {
  id: string;
  tenant_id: string;
  user_id: string;
  course_id: string | null;
  roles: string[];
  csrf_secret: string;
  created_at: Date;
  expires_at: Date;
  last_seen_at: Date;
}): Session {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    userId: row.user_id,
    courseId: row.course_id ?? undefined,
    roles: sessionRoles(row.roles),
    csrfSecret: row.csrf_secret,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
