import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * The district's people (users, as launches and rosters name them). Every function takes the
 * tenant and every statement filters by it (STYLE: tenancy), so a wrong id from another district
 * finds nothing rather than leaking. Courses and rosters are in `courses.repository.ts`, the
 * launch's one-statement write in `launches.repository.ts`.
 */

export interface User extends PersonFields {
  readonly id: string;
  readonly tenantId: string;
}

/** The people fields a launch or a roster carries; email only when the tenant stores email. */
export interface PersonFields {
  readonly issuer: string;
  readonly sub: string;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
}

interface UserRow {
  id: string;
  tenant_id: string;
  issuer: string;
  sub: string;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  email: string | null;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  tenantId: row.tenant_id,
  issuer: row.issuer,
  sub: row.sub,
  name: row.name ?? undefined,
  givenName: row.given_name ?? undefined,
  familyName: row.family_name ?? undefined,
  email: row.email ?? undefined,
});

type Executor = Kysely<Database>;

export type PeopleStorageErrorCode = 'deployment_not_in_tenant' | 'course_not_found';

/** A tenant-scoped call named a row of another tenant (or none): nothing was written. */
export class PeopleStorageError extends Error {
  readonly code: PeopleStorageErrorCode;

  constructor(code: PeopleStorageErrorCode, message: string) {
    super(message);
    this.name = 'PeopleStorageError';
    this.code = code;
  }
}

export async function upsertUser(
  db: Executor,
  tenantId: string,
  person: PersonFields,
  storeEmail: boolean,
  now: Date,
): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      tenant_id: tenantId,
      issuer: person.issuer,
      sub: person.sub,
      name: person.name ?? null,
      given_name: person.givenName ?? null,
      family_name: person.familyName ?? null,
      email: storeEmail ? (person.email ?? null) : null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'issuer', 'sub']).doUpdateSet({
        // A platform may omit names (privacy settings): keep what we knew rather than erase it.
        name: sql`coalesce(excluded.name, users.name)`,
        given_name: sql`coalesce(excluded.given_name, users.given_name)`,
        family_name: sql`coalesce(excluded.family_name, users.family_name)`,
        // Turning email off clears it at the next update.
        email: storeEmail ? sql`coalesce(excluded.email, users.email)` : null,
        updated_at: now,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

export function createPeopleRepository(db: Kysely<Database>, now: () => Date) {
  return {
    async upsertUser(tenantId: string, person: PersonFields, storeEmail: boolean): Promise<User> {
      return upsertUser(db, tenantId, person, storeEmail, now());
    },

    async findUser(tenantId: string, issuer: string, sub: string): Promise<User | undefined> {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('issuer', '=', issuer)
        .where('sub', '=', sub)
        .executeTakeFirst();
      return row === undefined ? undefined : toUser(row);
    },

    async findUserById(tenantId: string, userId: string): Promise<User | undefined> {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', userId)
        .executeTakeFirst();
      return row === undefined ? undefined : toUser(row);
    },
  };
}

export type PeopleRepository = ReturnType<typeof createPeopleRepository>;
