import { expect } from 'chai';
import { verifyPassword } from '../../../src/lti-admin/password.ts';
import {
  addTenant,
  createAdminUser,
  disableAdminUser,
  listAdminUsers,
} from '../../../src/lti-admin/use-cases.ts';
import { createAdminUserRepository } from '../../../src/storage/lti/admin-users.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { manualClock } from './fixtures.ts';

describe(`admin users (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  it('when an admin is created, then only a salted scrypt hash is stored and it verifies the password alone', async () => {
    const ctx = { db: database.db, now: manualClock().now };
    await addTenant(ctx, { slug: 'new-haven', name: 'New Haven' });
    const password = 'correct horse battery staple';
    await createAdminUser(ctx, { username: 'alice', tenantSlug: 'new-haven', password });
    await createAdminUser(ctx, { username: 'bob', tenantSlug: undefined, password });
    const repository = createAdminUserRepository(database.db, ctx.now);
    const alice = await repository.findByUsername('alice');
    const bob = await repository.findByUsername('bob');
    expect(alice?.passwordHash).to.match(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(alice?.passwordHash).not.to.contain(password);
    // Per-user salt: the same password gives different hashes.
    expect(alice?.passwordHash).not.to.equal(bob?.passwordHash);
    expect(await verifyPassword(password, alice!.passwordHash)).to.equal(true);
    expect(await verifyPassword('wrong password!', alice!.passwordHash)).to.equal(false);
    expect(bob?.tenantId).to.equal(undefined);
    const listed = await listAdminUsers(ctx);
    expect(JSON.stringify(listed)).not.to.contain('scrypt');
  });

  it('when an admin is disabled, then the user stays listed as disabled and a second disable is refused', async () => {
    const ctx = { db: database.db, now: manualClock().now };
    await createAdminUser(ctx, {
      username: 'carol',
      tenantSlug: undefined,
      password: 'a long enough password',
    });
    await disableAdminUser(ctx, 'carol');
    const carol = (await listAdminUsers(ctx)).find((a) => a.username === 'carol');
    expect(carol?.disabledAt).to.deep.equal(ctx.now());
    let error: unknown;
    try {
      await disableAdminUser(ctx, 'carol');
    } catch (caught) {
      error = caught;
    }
    expect(error).to.have.property('code', 'unknown_admin');
  });
});
