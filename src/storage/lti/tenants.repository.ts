import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../schema.ts';

/** Per-district switches kept in `tenants.settings`. Unknown keys are dropped, missing ones default. */
export const tenantSettingsSchema = z.object({
  /** Email is personal data: stored only when the district turns it on. */
  storeEmail: z.boolean().default(false),
  /**
   * Days the grade passback audit log keeps a district's lines; absent: the deployment's
   * `PASSBACK_AUDIT_RETENTION_DAYS`.
   */
  passbackAuditRetentionDays: z.number().int().min(1).max(3650).optional(),
});

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

export interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly settings: TenantSettings;
  readonly createdAt: Date;
}

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  settings: unknown;
  created_at: Date;
}

function toTenant(row: TenantRow): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    settings: tenantSettingsSchema.parse(row.settings ?? {}),
    createdAt: row.created_at,
  };
}

export function createTenantRepository(db: Kysely<Database>) {
  return {
    async create(input: { slug: string; name: string }): Promise<Tenant> {
      const row = await db
        .insertInto('tenants')
        .values({ slug: input.slug, name: input.name })
        .returning(['id', 'slug', 'name', 'settings', 'created_at'])
        .executeTakeFirstOrThrow();
      return toTenant(row);
    },

    async list(): Promise<Tenant[]> {
      const rows = await db
        .selectFrom('tenants')
        .select(['id', 'slug', 'name', 'settings', 'created_at'])
        .orderBy('slug')
        .execute();
      return rows.map(toTenant);
    },

    async findBySlug(slug: string): Promise<Tenant | undefined> {
      const row = await db
        .selectFrom('tenants')
        .select(['id', 'slug', 'name', 'settings', 'created_at'])
        .where('slug', '=', slug)
        .executeTakeFirst();
      return row === undefined ? undefined : toTenant(row);
    },

    async findById(id: string): Promise<Tenant | undefined> {
      const row = await db
        .selectFrom('tenants')
        .select(['id', 'slug', 'name', 'settings', 'created_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : toTenant(row);
    },

    /** Deletes the emails stored for a district's users (when it turns email storage off). */
    async forgetEmails(tenantId: string): Promise<number> {
      const result = await db
        .updateTable('users')
        .set({ email: null })
        .where('tenant_id', '=', tenantId)
        .where('email', 'is not', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async updateSettings(tenantId: string, settings: TenantSettings): Promise<void> {
      await db
        .updateTable('tenants')
        .set({ settings: JSON.stringify(tenantSettingsSchema.parse(settings)) })
        .where('id', '=', tenantId)
        .execute();
    },
  };
}

export type TenantRepository = ReturnType<typeof createTenantRepository>;
