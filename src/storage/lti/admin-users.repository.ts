import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

export interface AdminUser {
  readonly id: string;
  /** undefined: an operator who may act for every district. */
  readonly tenantId: string | undefined;
  readonly username: string;
  readonly createdAt: Date;
  readonly disabledAt: Date | undefined;
}

export interface AdminUserWithHash extends AdminUser {
  readonly passwordHash: string;
}

interface AdminRow {
  id: string;
  tenant_id: string | null;
  username: string;
  password_hash: string;
  created_at: Date;
  disabled_at: Date | null;
}

const toAdmin = (row: AdminRow): AdminUserWithHash => ({
  id: row.id,
  tenantId: row.tenant_id ?? undefined,
  username: row.username,
  createdAt: row.created_at,
  disabledAt: row.disabled_at ?? undefined,
  passwordHash: row.password_hash,
});

const withoutHash = ({ passwordHash: _hash, ...admin }: AdminUserWithHash): AdminUser => admin;

export function createAdminUserRepository(db: Kysely<Database>, now: () => Date) {
  return {
    async create(input: {
      username: string;
      tenantId: string | undefined;
      passwordHash: string;
    }): Promise<AdminUser> {
      const row = await db
        .insertInto('admin_users')
        .values({
          username: input.username,
          tenant_id: input.tenantId ?? null,
          password_hash: input.passwordHash,
          created_at: now(),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return withoutHash(toAdmin(row));
    },

    async list(): Promise<AdminUser[]> {
      const rows = await db.selectFrom('admin_users').selectAll().orderBy('username').execute();
      return rows.map((row) => withoutHash(toAdmin(row)));
    },

    /** For sign-in: includes the hash. Disabled users are returned so the caller can say so. */
    async findByUsername(username: string): Promise<AdminUserWithHash | undefined> {
      const row = await db
        .selectFrom('admin_users')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst();
      return row === undefined ? undefined : toAdmin(row);
    },

    async disable(username: string): Promise<boolean> {
      const result = await db
        .updateTable('admin_users')
        .set({ disabled_at: now() })
        .where('username', '=', username)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type AdminUserRepository = ReturnType<typeof createAdminUserRepository>;
