import { expect } from 'chai';
import { sql, type Kysely } from 'kysely';
import { importFramework } from '../../src/standards/import.ts';
import { createLaunchRepository } from '../../src/storage/lti/launches.repository.ts';
import { createSessionRepository } from '../../src/storage/lti/sessions.repository.ts';
import {
  createDeletionRecordRepository,
  derivedPersonHashKey,
  keyedPersonHasher,
} from '../../src/storage/privacy/deletion-records.repository.ts';
import type { Database } from '../../src/storage/schema.ts';
import {
  deletePerson,
  deleteTenant,
  exportTenant,
  tenantTables,
} from '../../src/storage/tenant-data.repository.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { launchContext, manualClock, seedDistrict, unique } from './lti/fixtures.ts';
import { deps, parseFixture } from './standards/helpers.ts';

const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';
const INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor';
const hashPerson = keyedPersonHasher(
  derivedPersonHashKey('a test server secret of at least 32 characters'),
);

interface ExportLine {
  type: string;
  table?: string;
  rows?: number;
  row?: Record<string, unknown>;
}

/** A district with a course, a teacher, two students, a framework and evidence for each student. */
async function seedDistrictWithData(db: Kysely<Database>) {
  const clock = manualClock();
  const { tenant, platform, deployment } = await seedDistrict(db);
  const launches = createLaunchRepository(db, clock.now);
  const sessions = createSessionRepository(db, {
    now: clock.now,
    idleMs: 3_600_000,
    maxMs: 36_000_000,
  });
  const contextId = unique('course');
  const launchAs = async (sub: string, roles: string[]) => {
    const launch = launchContext({
      issuer: platform.issuer,
      clientId: platform.clientId,
      deploymentId: deployment.deploymentId,
      sub,
      contextId,
      roles,
    });
    const result = await launches.acceptLaunch({
      launch,
      nonce: { issuer: platform.issuer, nonce: unique('nonce'), expiresAt: clock.now() },
      session: sessions.prepare().row,
      personHash: await hashPerson(platform.issuer, sub),
    });
    if (result.outcome !== 'accepted') throw new Error(`launch not accepted: ${result.outcome}`);
    return result.record;
  };
  const teacher = await launchAs('teacher-1', [INSTRUCTOR]);
  const ada = await launchAs('student-ada', [LEARNER]);
  const ben = await launchAs('student-ben', [LEARNER]);
  const report = await importFramework(
    db,
    {
      tenantId: tenant.id,
      actor: teacher.user.id,
      framework: parseFixture('src/standards/samples/district-grade6.case.json'),
      source: 'case_file',
    },
    deps(),
  );
  if (!report.ok) throw new Error('sample framework did not import');
  const item = await db
    .selectFrom('standard_items')
    .select('id')
    .where('tenant_id', '=', tenant.id)
    .limit(1)
    .executeTakeFirstOrThrow();
  const courseId = teacher.course?.id;
  if (courseId === undefined) throw new Error('no course');
  for (const student of [ada, ben]) {
    await db
      .insertInto('evidence')
      .values({
        tenant_id: tenant.id,
        course_id: courseId,
        student_id: student.user.id,
        item_id: item.id,
        score: 3,
        source: 'teacher',
        recorded_by: teacher.user.id,
        recorded_at: clock.now(),
      })
      .execute();
    await db
      .insertInto('mentor_links')
      .values({
        tenant_id: tenant.id,
        course_id: courseId,
        mentor_id: teacher.user.id,
        student_id: student.user.id,
        updated_at: clock.now(),
      })
      .execute();
  }
  // The launches' sessions are short-lived credentials, not district data an export carries.
  await db.deleteFrom('sessions').where('tenant_id', '=', tenant.id).execute();
  return { tenant, platform, courseId, ada, ben, teacher };
}

async function countByTable(db: Kysely<Database>, tenantId: string) {
  const out: Record<string, number> = {};
  for (const table of await tenantTables(db)) {
    const { rows } = await sql<{ n: string | number }>`
      SELECT count(*) AS n FROM ${sql.id(table.name)} WHERE tenant_id = ${tenantId}
    `.execute(db);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) out[table.name] = n;
  }
  return out;
}

describe('tenant data: export, delete, delete one person', function () {
  this.timeout(120_000);
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await database.close();
  });

  it('when the tables are listed, then every table with tenant_id is there, children before parents', async () => {
    const names = (await tenantTables(database.db)).map((table) => table.name);
    for (const table of ['users', 'courses', 'evidence', 'evidence_history', 'standard_items']) {
      expect(names).to.include(table);
    }
    expect(names).not.to.include('platforms');
    expect(names.indexOf('evidence_history')).to.be.lessThan(names.indexOf('evidence'));
    expect(names.indexOf('evidence')).to.be.lessThan(names.indexOf('courses'));
    expect(names.indexOf('enrollments')).to.be.lessThan(names.indexOf('users'));
  });

  it('when a district is exported, then every row of it is written and nothing of another district', async () => {
    const first = await seedDistrictWithData(database.db);
    const second = await seedDistrictWithData(database.db);
    const lines: string[] = [];
    const summary = await exportTenant(
      database.db,
      first.tenant.id,
      (line) => {
        lines.push(line);
      },
      () => new Date('2026-11-27T08:00:00Z'),
      // Small pages, so the keyset paging runs through many pages of the same table.
      { pageSize: 7 },
    );
    const parsed = lines.map((line) => JSON.parse(line) as ExportLine);
    expect(parsed[0]).to.deep.include({ type: 'tenant' });
    const rows = parsed.filter((line) => line.type === 'row' && line.table !== 'platforms');
    expect(rows.every((line) => line.row?.tenant_id === first.tenant.id)).to.be.true;
    expect(JSON.stringify(parsed)).not.to.contain(second.tenant.id);
    const expected = await countByTable(database.db, first.tenant.id);
    const written: Record<string, number> = {};
    for (const line of rows) written[line.table ?? ''] = (written[line.table ?? ''] ?? 0) + 1;
    expect(written).to.deep.equal(expected);
    expect(summary.rows.evidence).to.equal(2);
    // Many pages of standard items were read: nothing skipped or repeated at page edges.
    expect(written.standard_items).to.be.greaterThan(10);
  });

  it('when a district is deleted, then none of its rows remain and the other district is untouched', async () => {
    const first = await seedDistrictWithData(database.db);
    const second = await seedDistrictWithData(database.db);
    const before = await countByTable(database.db, second.tenant.id);
    const deleted = await deleteTenant(database.db, first.tenant.id);
    expect(deleted.tenants).to.equal(1);
    expect(deleted.evidence).to.equal(2);
    expect(await countByTable(database.db, first.tenant.id)).to.deep.equal({});
    expect(await countByTable(database.db, second.tenant.id)).to.deep.equal(before);
  });

  it('when a district is exported, then passwords, encrypted secrets and live sessions are left out', async () => {
    const { tenant, teacher } = await seedDistrictWithData(database.db);
    await database.db
      .insertInto('admin_users')
      .values({
        tenant_id: tenant.id,
        username: unique('it-admin'),
        password_hash: 'scrypt$secret-hash',
        created_at: new Date(),
      })
      .execute();
    await database.db
      .insertInto('sessions')
      .values({
        id: 'a'.repeat(64),
        tenant_id: tenant.id,
        user_id: teacher.user.id,
        course_id: null,
        roles: [],
        csrf_secret: 'csrf-secret-value',
        created_at: new Date(),
        expires_at: new Date(Date.now() + 3600_000),
        last_seen_at: new Date(),
      })
      .execute();
    const lines: string[] = [];
    await exportTenant(
      database.db,
      tenant.id,
      (line) => {
        lines.push(line);
      },
      () => new Date(),
    );
    const text = lines.join('\n');
    expect(text).to.contain('"admin_users"');
    expect(text).not.to.contain('scrypt$secret-hash');
    expect(text).not.to.contain('password_hash');
    expect(text).not.to.contain('csrf-secret-value');
    expect(text).not.to.contain('"table":"sessions"');
  });

  it('when a district with a Classroom install and a platform waiting for its first deployment is deleted, then both registrations go with it and nothing blocks the deletion', async () => {
    const { tenant } = await seedDistrictWithData(database.db);
    const classroomPlatform = await database.db
      .insertInto('platforms')
      .values({
        issuer: `https://accounts.google.com/${unique('g')}`,
        client_id: unique('google-client'),
        name: 'Google Classroom',
        flavour: 'generic',
        auth_login_url: 'https://accounts.google.com/o/oauth2/v2/auth',
        auth_token_url: 'https://oauth2.googleapis.com/token',
        jwks_url: 'https://www.googleapis.com/oauth2/v3/certs',
        status: 'active',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const deployment = await database.db
      .insertInto('deployments')
      .values({
        platform_id: classroomPlatform.id,
        deployment_id: 'workspace',
        tenant_id: tenant.id,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await database.db
      .insertInto('classroom_installs')
      .values({
        tenant_id: tenant.id,
        platform_id: classroomPlatform.id,
        deployment_row_id: deployment.id,
        issuer: 'https://accounts.google.com',
        client_id: 'client',
        encrypted_client_secret: JSON.stringify({ v: 1 }),
        allowed_domains: ['district.example.org'],
        api_base_url: 'https://classroom.googleapis.com',
        frame_origin: 'https://classroom.google.com',
        created_at: new Date(),
        updated_at: new Date(),
      })
      .execute();
    const waiting = await database.db
      .insertInto('platforms')
      .values({
        issuer: `https://${unique('canvas')}.example.org`,
        client_id: unique('client'),
        name: 'Canvas (registration approved, never launched)',
        flavour: 'canvas',
        auth_login_url: 'https://canvas.example.org/auth',
        auth_token_url: 'https://canvas.example.org/token',
        jwks_url: 'https://canvas.example.org/jwks',
        status: 'active',
        capture_first_deployment: true,
        default_tenant_id: tenant.id,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const deleted = await deleteTenant(database.db, tenant.id);
    expect(deleted.tenants).to.equal(1);
    // The Classroom registration, the one waiting for this district and its LMS registration:
    // none serves another district.
    expect(deleted.platforms).to.equal(3);
    const platforms = await database.db
      .selectFrom('platforms')
      .select(['id'])
      .where('id', 'in', [classroomPlatform.id, waiting.id])
      .execute();
    expect(platforms).to.deep.equal([]);
  });

  it('when one student is deleted, then their rows go and the classmate, teacher and framework stay', async () => {
    const { tenant, ada, ben, teacher } = await seedDistrictWithData(database.db);
    const deleted = await deletePerson(database.db, tenant.id, ada.user.id, {
      hashPerson,
      now: new Date(),
    });
    expect(deleted.users).to.equal(1);
    expect(deleted.evidence).to.equal(1);
    const left = await database.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', tenant.id)
      .execute();
    expect(left.map((u) => u.id).sort()).to.deep.equal([ben.user.id, teacher.user.id].sort());
    const evidence = await database.db
      .selectFrom('evidence')
      .select('student_id')
      .where('tenant_id', '=', tenant.id)
      .execute();
    expect(evidence).to.deep.equal([{ student_id: ben.user.id }]);
    const items = await database.db
      .selectFrom('standard_items')
      .select('id')
      .where('tenant_id', '=', tenant.id)
      .execute();
    expect(items.length).to.be.greaterThan(10);
  });

  it('when the person belongs to another district, then nothing is deleted', async () => {
    const first = await seedDistrictWithData(database.db);
    const second = await seedDistrictWithData(database.db);
    const deleted = await deletePerson(database.db, first.tenant.id, second.ada.user.id, {
      hashPerson,
      now: new Date(),
    });
    expect(deleted).to.deep.equal({ users: 0 });
    const still = await database.db
      .selectFrom('evidence')
      .select('id')
      .where('student_id', '=', second.ada.user.id)
      .execute();
    expect(still).to.have.length(1);
  });

  it('when a district is exported, then every table has one header line with its row count, empty tables included, followed by exactly that many rows', async () => {
    const { tenant } = await seedDistrictWithData(database.db);
    const lines: string[] = [];
    await exportTenant(
      database.db,
      tenant.id,
      (line) => void lines.push(line),
      () => new Date(),
    );
    const parsed = lines.map((line) => JSON.parse(line) as ExportLine);
    const headers = parsed.filter((line) => line.type === 'table');
    const exportedTables = (await tenantTables(database.db))
      .map((table) => table.name)
      .filter(
        (name) => !['sessions', 'classroom_sign_in_flows', 'deep_link_requests'].includes(name),
      );
    expect(headers.map((h) => h.table).sort()).to.deep.equal(
      [...exportedTables, 'platforms'].sort(),
    );
    // An empty table is announced with 0 rather than left out.
    expect(headers.find((h) => h.table === 'deletion_records')).to.deep.equal({
      type: 'table',
      table: 'deletion_records',
      rows: 0,
    });
    // Each header is followed by exactly its rows.
    let current: ExportLine | undefined;
    let seen = 0;
    for (const line of [...parsed.slice(1), { type: 'end' }]) {
      if (line.type === 'row') {
        expect(line.table).to.equal(current?.table);
        seen += 1;
        continue;
      }
      if (current !== undefined) expect(seen, current.table).to.equal(current.rows);
      current = line;
      seen = 0;
    }
  });

  it('when a district is exported, then its LMS registration is in it without secrets, and another district’s is not', async () => {
    const first = await seedDistrictWithData(database.db);
    const second = await seedDistrictWithData(database.db);
    const lines: string[] = [];
    await exportTenant(
      database.db,
      first.tenant.id,
      (line) => void lines.push(line),
      () => new Date(),
    );
    const parsed = lines.map((line) => JSON.parse(line) as ExportLine);
    expect(parsed).to.deep.include({ type: 'table', table: 'platforms', rows: 1 });
    const registrations = parsed.filter((l) => l.type === 'row' && l.table === 'platforms');
    expect(registrations.map((r) => r.row?.id)).to.deep.equal([first.platform.id]);
    expect(registrations[0]?.row).to.deep.include({
      issuer: first.platform.issuer,
      client_id: first.platform.clientId,
    });
    expect(
      Object.keys(registrations[0]?.row ?? {}).filter((c) => /secret|_hash|encrypted/.test(c)),
    ).to.deep.equal([]);
    expect(JSON.stringify(parsed)).not.to.contain(second.platform.issuer);
  });

  it('when a registration shared with another district is exported, then the export does not name the other district', async () => {
    const sharing = await seedDistrictWithData(database.db);
    const other = await seedDistrict(database.db);
    await database.db
      .insertInto('deployments')
      .values({
        platform_id: sharing.platform.id,
        deployment_id: unique('dep'),
        tenant_id: other.tenant.id,
      })
      .execute();
    await database.db
      .updateTable('platforms')
      .set({ default_tenant_id: other.tenant.id })
      .where('id', '=', sharing.platform.id)
      .execute();
    const lines: string[] = [];
    await exportTenant(
      database.db,
      sharing.tenant.id,
      (line) => void lines.push(line),
      () => new Date(),
    );
    const registration = lines
      .map((line) => JSON.parse(line) as ExportLine)
      .find((l) => l.type === 'row' && l.table === 'platforms');
    expect(registration?.row).to.deep.include({ id: sharing.platform.id, default_tenant_id: null });
    expect(lines.join('\n')).not.to.contain(other.tenant.id);
  });

  it('when a district whose LMS registration no other district uses is deleted, then the registration goes too; a registration shared with another district stays', async () => {
    const alone = await seedDistrictWithData(database.db);
    const sharing = await seedDistrictWithData(database.db);
    const other = await seedDistrict(database.db);
    // The second district's LMS registration also serves another district (its own deployment).
    await database.db
      .insertInto('deployments')
      .values({
        platform_id: sharing.platform.id,
        deployment_id: unique('dep'),
        tenant_id: other.tenant.id,
      })
      .execute();
    const platformIds = async () =>
      (
        await database.db
          .selectFrom('platforms')
          .select('id')
          .where('id', 'in', [alone.platform.id, sharing.platform.id])
          .execute()
      ).map((row) => row.id);

    const deleted = await deleteTenant(database.db, alone.tenant.id);
    expect(deleted.platforms).to.equal(1);
    expect(await platformIds()).to.deep.equal([sharing.platform.id]);

    const kept = await deleteTenant(database.db, sharing.tenant.id);
    expect(kept.platforms).to.equal(0);
    expect(await platformIds()).to.deep.equal([sharing.platform.id]);
  });

  it('when one student is deleted, then a deletion record with a keyed hash and the date is kept, and nothing readable about them', async () => {
    const { tenant, platform, ada } = await seedDistrictWithData(database.db);
    const now = new Date('2026-12-01T09:00:00.000Z');
    await deletePerson(database.db, tenant.id, ada.user.id, { hashPerson, now });
    const records = await database.db
      .selectFrom('deletion_records')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .execute();
    expect(records).to.have.length(1);
    expect(records[0]?.deleted_at).to.deep.equal(now);
    expect(records[0]?.person_hash).to.equal(await hashPerson(platform.issuer, 'student-ada'));
    expect(JSON.stringify(records)).not.to.contain('student-ada');
    expect(JSON.stringify(records)).not.to.contain('Ada');
    const repository = createDeletionRecordRepository(database.db, hashPerson);
    const found = await repository.deletedAmong(tenant.id, platform.issuer, [
      'student-ada',
      'student-ben',
    ]);
    expect([...found.entries()]).to.deep.equal([['student-ada', now]]);
  });
});
