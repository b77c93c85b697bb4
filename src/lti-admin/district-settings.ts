import type { Logger } from '../logger.ts';
import type { DeletionRecordRepository } from '../storage/privacy/deletion-records.repository.ts';
import type { Tenant, TenantRepository } from '../storage/lti/tenants.repository.ts';

/**
 * What a district decides about its own data, as use cases of the admin pages. The caller has
 * already checked that the actor may manage `tenant`.
 */
export interface DistrictSettingsDeps {
  readonly deletionRecords: Pick<DeletionRecordRepository, 'list' | 'liftById'>;
  readonly tenants: Pick<TenantRepository, 'updateSettings' | 'forgetEmails'>;
  readonly logger: Logger;
}

/** The district's deletion records, dates only (nothing else is kept about the person). */
export async function listDeletionRecords(
  deps: DistrictSettingsDeps,
  tenant: Tenant | undefined,
): Promise<{ id: string; date: string }[]> {
  if (tenant === undefined) return [];
  return (await deps.deletionRecords.list(tenant.id)).map((record) => ({
    id: record.id,
    date: record.deletedAt.toISOString().slice(0, 10),
  }));
}

/**
 * Lifts a deletion record (the district's own decision under the privacy law, see
 * docs/privacy.md); `false` when the district has no such record.
 */
export async function liftDeletionRecord(
  deps: DistrictSettingsDeps,
  input: { tenant: Tenant; recordId: string; actorId: string },
): Promise<boolean> {
  const { tenant, recordId } = input;
  if (!(await deps.deletionRecords.liftById(tenant.id, recordId))) return false;
  deps.logger.info(
    { tenantId: tenant.id, actor: input.actorId, recordId },
    'deletion record lifted',
  );
  return true;
}

/**
 * Saves the district's settings. Storing email is off unless the district turns it on (student
 * data privacy: store only what is used), and off means off: the addresses already stored are
 * deleted too. The grade passback audit is kept as long as the district's policy says.
 */
export async function saveDistrictSettings(
  deps: DistrictSettingsDeps,
  input: {
    tenant: Tenant;
    actorId: string;
    storeEmail: boolean;
    passbackAuditRetentionDays: number | undefined;
  },
): Promise<void> {
  const { tenant, storeEmail, passbackAuditRetentionDays } = input;
  await deps.tenants.updateSettings(tenant.id, {
    ...tenant.settings,
    storeEmail,
    passbackAuditRetentionDays,
  });
  const emailsDeleted = storeEmail ? 0 : await deps.tenants.forgetEmails(tenant.id);
  deps.logger.info(
    {
      tenantId: tenant.id,
      actor: input.actorId,
      storeEmail,
      emailsDeleted,
      passbackAuditRetentionDays: passbackAuditRetentionDays ?? null,
    },
    'district settings changed',
  );
}
