import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { addTenant, createAdminUser } from '../../src/lti-admin/use-cases.ts';
import type { AppServices } from '../../src/app-services.ts';
import type { Tenant } from '../../src/storage/lti/tenants.repository.ts';
import { recordDeletion } from '../../src/storage/privacy/deletion-records.repository.ts';
import { PASSWORD, buildApp, signIn } from '../support/admin-session.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';

describe(`district settings page (${testEngine})`, function () {
  // Loading a test database takes tens of seconds on a busy machine.
  this.timeout(90_000);
  let database: TestDatabase;
  let app: Express;
  let services: AppServices;
  let bristol: Tenant;
  let enfield: Tenant;

  before(async () => {
    database = await createTestDatabase();
    ({ app, services } = buildApp(database));
    const ctx = { db: database.db, now: () => new Date() };
    bristol = await addTenant(ctx, { slug: 'bristol', name: 'Bristol Public Schools' });
    enfield = await addTenant(ctx, { slug: 'enfield', name: 'Enfield Public Schools' });
    await createAdminUser(ctx, {
      username: 'bristol-it',
      tenantSlug: 'bristol',
      password: PASSWORD,
    });
    await createAdminUser(ctx, { username: 'operator', tenantSlug: undefined, password: PASSWORD });
  });
  after(async () => {
    await database.close();
  });
  // Each test starts from two districts with their first settings and no deletion records, so the
  // tests pass alone and in any order.
  beforeEach(async () => {
    for (const tenant of [bristol, enfield]) {
      await services.tenants.updateSettings(tenant.id, { storeEmail: false });
    }
    await database.db
      .deleteFrom('deletion_records')
      .where('tenant_id', 'in', [bristol.id, enfield.id])
      .execute();
  });

  const settingsOf = async (tenant: Tenant) =>
    (await services.tenants.findById(tenant.id))?.settings;

  it('when a district admin turns email on and sets the audit retention, then both are stored for that district only', async () => {
    const admin = await signIn(app, 'bristol-it');
    const page = await admin.get('/admin/district');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Bristol Public Schools');
    const saved = await admin.post(`/admin/district/${bristol.id}`, {
      storeEmail: 'yes',
      passbackAuditRetentionDays: '730',
    });
    expect(saved.status).to.equal(303);
    expect(await settingsOf(bristol)).to.deep.equal({
      storeEmail: true,
      passbackAuditRetentionDays: 730,
    });
    expect(await settingsOf(enfield)).to.deep.equal({ storeEmail: false });
    // Unchecked box and empty days: off, and back to the deployment default.
    await admin.post(`/admin/district/${bristol.id}`, { passbackAuditRetentionDays: '' });
    expect(await settingsOf(bristol)).to.deep.equal({ storeEmail: false });
  });

  it('when email storage is turned off, then the emails already stored are deleted', async () => {
    const admin = await signIn(app, 'bristol-it');
    await admin.post(`/admin/district/${bristol.id}`, { storeEmail: 'yes' });
    const user = await database.db
      .insertInto('users')
      .values({
        tenant_id: bristol.id,
        issuer: 'https://lms.example.org',
        sub: 'student-1',
        name: 'Ada',
        given_name: null,
        family_name: null,
        email: 'ada@bristol.example.org',
        created_at: new Date(),
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await admin.post(`/admin/district/${bristol.id}`, {});
    const row = await database.db
      .selectFrom('users')
      .select(['email', 'name'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row).to.deep.equal({ email: null, name: 'Ada' });
  });

  it('when the number of days is not valid, then the page says so and nothing changes', async () => {
    const admin = await signIn(app, 'bristol-it');
    for (const days of ['0', 'forever', '99999']) {
      const refused = await admin.post(`/admin/district/${bristol.id}`, {
        storeEmail: 'yes',
        passbackAuditRetentionDays: days,
      });
      expect(refused.status).to.equal(422);
      expect(refused.text).to.match(/Enter (a whole number|between 1 and 3650)/);
    }
    expect(await settingsOf(bristol)).to.deep.equal({ storeEmail: false });
  });

  it('when a district admin posts to another district, then it answers as missing and nothing changes', async () => {
    const admin = await signIn(app, 'bristol-it');
    const refused = await admin.post(`/admin/district/${enfield.id}`, { storeEmail: 'yes' });
    expect(refused.status).to.equal(404);
    expect(await settingsOf(enfield)).to.deep.equal({ storeEmail: false });
  });

  it('when the form has no CSRF token, then it is refused', async () => {
    const admin = await signIn(app, 'bristol-it');
    const refused = await request(app)
      .post(`/admin/district/${bristol.id}`)
      .set('Cookie', admin.cookie)
      .type('form')
      .send({ storeEmail: 'yes' });
    expect(refused.status).to.equal(403);
    expect(await settingsOf(bristol)).to.deep.equal({ storeEmail: false });
  });

  it('when an operator opens the page, then they pick a district first and can change it', async () => {
    const operator = await signIn(app, 'operator');
    const picker = await operator.get('/admin/district');
    expect(picker.text).to.contain('Choose the district');
    expect(picker.text).to.contain(`/admin/district?tenant=${enfield.id}`);
    const saved = await operator.post(`/admin/district/${enfield.id}`, {
      passbackAuditRetentionDays: '90',
    });
    expect(saved.headers.location).to.equal(`/admin/district?tenant=${enfield.id}&done=saved`);
    expect(await settingsOf(enfield)).to.deep.equal({
      storeEmail: false,
      passbackAuditRetentionDays: 90,
    });
  });

  it('when a district admin lifts a deletion record, then it is gone and the person may come back; another district’s record cannot be lifted', async () => {
    const hash = await services.deletionRecords.hashPerson('https://lms.example.org', 'student-9');
    await recordDeletion(database.db, bristol.id, hash, new Date('2026-11-30T12:00:00.000Z'));
    await recordDeletion(database.db, enfield.id, hash, new Date('2026-11-29T12:00:00.000Z'));
    const [enfieldRecord] = await services.deletionRecords.list(enfield.id);
    const admin = await signIn(app, 'bristol-it');
    const page = await admin.get('/admin/district');
    expect(page.text).to.contain('People deleted on request');
    expect(page.text).to.contain('Lift the record deleted on 2026-11-30');
    expect(page.text).not.to.contain('2026-11-29');
    const [record] = await services.deletionRecords.list(bristol.id);

    const foreign = await admin.post(
      `/admin/district/${enfield.id}/deletion-records/${enfieldRecord!.id}/lift`,
      {},
    );
    expect(foreign.status).to.equal(404);
    const crossed = await admin.post(
      `/admin/district/${bristol.id}/deletion-records/${enfieldRecord!.id}/lift`,
      {},
    );
    expect(crossed.status).to.equal(404);
    expect(await services.deletionRecords.list(enfield.id)).to.have.length(1);

    const lifted = await admin.post(
      `/admin/district/${bristol.id}/deletion-records/${record!.id}/lift`,
      {},
    );
    expect(lifted.status).to.equal(303);
    expect(await services.deletionRecords.list(bristol.id)).to.deep.equal([]);
    const after = await admin.get('/admin/district?done=lifted');
    expect(after.text).to.contain('The deletion record was lifted');
    expect(after.text).to.contain('Nobody has been deleted on request.');
  });
});
