import { expect } from 'chai';
import { createAppServices } from '../../src/app-services.ts';
import {
  clientSecretLabel,
  openSecret,
  refreshTokenLabel,
  sealSecret,
} from '../../src/classroom/secrets.ts';
import { LtiAdminError } from '../../src/lti-admin/errors.ts';
import { reencryptSealedSecrets } from '../../src/lti-admin/secret-rotation.ts';
import {
  derivedPersonHashKey,
  keyedPersonHasher,
  recordDeletion,
} from '../../src/storage/privacy/deletion-records.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { TEST_SECRET } from '../support/lti-world.ts';
import { createClassroomWorld, type ClassroomWorld } from './classroom-world.ts';

const NEW_SECRET = 'the next key-encryption secret, long enough to pass';

/**
 * `keys reencrypt`: everything sealed with the key-encryption secret moves to the new one, and the
 * deletion records keep matching the people deleted on request.
 */
describe(`re-encrypting everything sealed with the server secret (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: ClassroomWorld;

  beforeEach(async () => {
    database = await createTestDatabase();
    world = await createClassroomWorld(database);
  });

  afterEach(async () => {
    await world.close();
    await database.close();
  });

  /** A Google refresh token stored for a user of the district, sealed with the current secret. */
  async function storeRefreshToken(sub: string, token: string): Promise<string> {
    const user = await database.db
      .insertInto('users')
      .values({
        tenant_id: world.tenantId,
        issuer: world.google.issuer,
        sub,
        created_at: new Date(),
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await database.db
      .insertInto('classroom_user_tokens')
      .values({
        tenant_id: world.tenantId,
        user_id: user.id,
        encrypted_refresh_token: JSON.stringify(
          sealSecret(token, refreshTokenLabel(world.tenantId, user.id), TEST_SECRET),
        ),
        scopes: [],
        revoked_at: null,
        updated_at: new Date(),
      })
      .execute();
    return user.id;
  }

  async function sealedRows(): Promise<string> {
    const rows = await Promise.all([
      database.db.selectFrom('tool_keys').select('encrypted_private_key').orderBy('kid').execute(),
      database.db.selectFrom('classroom_installs').select('encrypted_client_secret').execute(),
      database.db.selectFrom('classroom_user_tokens').select('encrypted_refresh_token').execute(),
      database.db.selectFrom('server_secrets').selectAll().orderBy('name').execute(),
    ]);
    return JSON.stringify(rows);
  }

  it('when the secret is rotated, then tool keys, Classroom secrets and refresh tokens open with the new one, and people deleted before and after the hash key was stored are still recognised', async () => {
    // A record made before the hash key was stored: hashed under the key derived from the secret.
    const legacy = keyedPersonHasher(derivedPersonHashKey(TEST_SECRET));
    await recordDeletion(
      database.db,
      world.tenantId,
      await legacy(world.google.issuer, 'deleted-long-ago'),
      new Date('2026-10-01T00:00:00Z'),
    );
    const userId = await storeRefreshToken('teacher-with-token', 'refresh-token-1');
    const signingKeyBefore = await world.tool.services.toolKeys.signingKey();

    const counts = await reencryptSealedSecrets(database.db, {
      oldSecret: TEST_SECRET,
      newSecret: NEW_SECRET,
    });
    expect(counts).to.deep.equal({
      toolKeys: 1,
      classroomClientSecrets: 1,
      classroomRefreshTokens: 1,
      serverSecrets: 1,
    });

    const after = createAppServices({ db: database.db, keyEncryptionSecret: NEW_SECRET });
    expect((await after.toolKeys.signingKey()).kid).to.equal(signingKeyBefore.kid);
    const install = await database.db
      .selectFrom('classroom_installs')
      .select('encrypted_client_secret')
      .executeTakeFirstOrThrow();
    expect(
      openSecret(install.encrypted_client_secret, clientSecretLabel(world.tenantId), NEW_SECRET),
    ).to.equal(world.client.clientSecret);
    const token = await database.db
      .selectFrom('classroom_user_tokens')
      .select('encrypted_refresh_token')
      .executeTakeFirstOrThrow();
    expect(
      openSecret(
        token.encrypted_refresh_token,
        refreshTokenLabel(world.tenantId, userId),
        NEW_SECRET,
      ),
    ).to.equal('refresh-token-1');
    expect(() =>
      openSecret(install.encrypted_client_secret, clientSecretLabel(world.tenantId), TEST_SECRET),
    ).to.throw();

    // The record made under the old secret still matches; a new one made under the new secret too.
    const deleted = await after.deletionRecords.deletedAmong(world.tenantId, world.google.issuer, [
      'deleted-long-ago',
      'never-deleted',
    ]);
    expect([...deleted.keys()]).to.deep.equal(['deleted-long-ago']);
    await recordDeletion(
      database.db,
      world.tenantId,
      await after.deletionRecords.hashPerson(world.google.issuer, 'deleted-today'),
      new Date(),
    );
    const again = await reencryptSealedSecrets(database.db, {
      oldSecret: NEW_SECRET,
      newSecret: TEST_SECRET,
    });
    expect(again.serverSecrets).to.equal(1);
    const back = createAppServices({ db: database.db, keyEncryptionSecret: TEST_SECRET });
    const both = await back.deletionRecords.deletedAmong(world.tenantId, world.google.issuer, [
      'deleted-long-ago',
      'deleted-today',
    ]);
    expect([...both.keys()].sort()).to.deep.equal(['deleted-long-ago', 'deleted-today']);
  });

  it('when the old secret given is wrong, then it is refused naming what it cannot open, and nothing changes', async () => {
    await storeRefreshToken('teacher-with-token', 'refresh-token-1');
    // The hash key exists once a deletion check ran.
    await world.tool.services.deletionRecords.hashPerson(world.google.issuer, 'anyone');
    const before = await sealedRows();
    let refused: unknown;
    try {
      await reencryptSealedSecrets(database.db, {
        oldSecret: 'not the secret these were sealed with, but long',
        newSecret: NEW_SECRET,
      });
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(LtiAdminError);
    expect((refused as LtiAdminError).message).to.match(/does not open .*Nothing was changed/);
    expect(await sealedRows()).to.equal(before);
  });
});
