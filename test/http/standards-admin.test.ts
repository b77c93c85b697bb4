import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { createAppServices } from '../../src/app-services.ts';
import { addTenant, createAdminUser } from '../../src/lti-admin/use-cases.ts';
import { generateLargeFramework } from '../../src/standards/formats/generate.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';
import type { Tenant } from '../../src/storage/lti/tenants.repository.ts';
import { createApp } from '../../src/web/app.ts';
import { MAX_IMPORT_BYTES, TREE_NODE_LIMIT } from '../../src/web/admin/standards-pages.ts';
import { LogCapture, testConfig } from '../support/app.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

const PASSWORD = 'correct horse battery staple';
const SAMPLE_PATH = new URL(
  '../../src/standards/samples/district-grade6.case.json',
  import.meta.url,
);
const SAMPLE = readFileSync(SAMPLE_PATH, 'utf8');
const SAMPLE_JSON = JSON.parse(SAMPLE) as {
  CFDocument: { identifier: string; title: string };
  CFItems: { identifier: string; humanCodingScheme?: string; fullStatement: string }[];
  CFAssociations: {
    identifier: string;
    associationType: string;
    originNodeURI: { identifier: string };
    destinationNodeURI: { identifier: string; uri: string; title: string };
  }[];
};

function setCookie(res: request.Response, name: string): string | undefined {
  const header: unknown = res.headers['set-cookie'];
  const list = Array.isArray(header) ? (header as string[]) : [];
  const found = list.find((c) => c.startsWith(`${name}=`));
  return found?.split(';')[0]?.slice(name.length + 1);
}

function csrfIn(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error(`no CSRF field in:\n${html.slice(0, 400)}`);
  return token;
}

interface Admin {
  readonly username: string;
  readonly cookie: string;
  get(path: string): request.Test;
  csrf(): Promise<string>;
  post(path: string, fields: Record<string, string>): Promise<request.Response>;
  upload(
    path: string,
    file: { name: string; content: string | Buffer } | undefined,
    fields?: Record<string, string>,
  ): Promise<request.Response>;
}

async function signIn(app: Express, username: string): Promise<Admin> {
  const page = await request(app).get('/admin/login');
  const loginCookie = setCookie(page, 'mp_admin_login') ?? '';
  const res = await request(app)
    .post('/admin/login')
    .set('Cookie', `mp_admin_login=${loginCookie}`)
    .type('form')
    .send({ _csrf: csrfIn(page.text), username, password: PASSWORD });
  expect(res.status, res.text).to.equal(303);
  const cookie = `mp_admin=${setCookie(res, 'mp_admin') ?? ''}`;
  const get = (path: string) => request(app).get(path).set('Cookie', cookie);
  const csrf = async () => csrfIn((await get('/admin')).text);
  return {
    username,
    cookie,
    get,
    csrf,
    post: async (path, fields) =>
      request(app)
        .post(path)
        .set('Cookie', cookie)
        .type('form')
        .send({ _csrf: await csrf(), ...fields }),
    upload: async (path, file, fields = {}) => {
      let req = request(app).post(path).set('Cookie', cookie);
      const all = { _csrf: await csrf(), ...fields };
      for (const [name, value] of Object.entries(all)) req = req.field(name, value);
      if (file !== undefined) {
        const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
        req = req.attach('file', content, file.name);
      }
      return req;
    },
  };
}

/** Follows an import from its progress page to its outcome page. */
async function finishImport(admin: Admin, location: string): Promise<request.Response> {
  let path = location;
  for (let attempt = 0; attempt < 600; attempt++) {
    const res = await admin.get(path);
    if (res.status === 303) {
      path = res.headers.location ?? '';
      continue;
    }
    if (res.status === 200 && res.text.includes('data-status="running"')) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    return res;
  }
  throw new Error('the import did not finish');
}

function cellTexts(html: string, tableClass: string): string[][] {
  const table = new RegExp(`<table class="[^"]*${tableClass}[^"]*">([\\s\\S]*?)</table>`).exec(
    html,
  )?.[1];
  if (table === undefined) return [];
  const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1] ?? '');
  return rows
    .map((row) =>
      [...row.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((m) =>
        (m[1] ?? '').replace(/<[^>]+>/g, '').trim(),
      ),
    )
    .filter((cells) => cells.length > 0);
}

describe(`standards library admin pages (${testEngine})`, function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let app: Express;
  let logs: LogCapture;
  let north: Tenant;
  let south: Tenant;
  let northAdmin: Admin;
  let southAdmin: Admin;
  let operator: Admin;

  before(async () => {
    database = await createTestDatabase();
    logs = new LogCapture();
    const services = createAppServices({
      db: database.db,
      keyEncryptionSecret: 'test-key-encryption-secret-0123456789abcdef',
    });
    // A loopback http public URL: the tool may then fetch from a loopback http CASE server.
    app = createApp(testConfig({ PUBLIC_URL: 'http://127.0.0.1:3000' }), {
      logger: createLogger({ level: 'info' }, logs.stream),
      database,
      readiness: new Readiness(database.db),
      metrics: createMetrics({ defaultMetrics: false }),
      services,
    });
    const ctx = { db: database.db, now: () => new Date() };
    north = await addTenant(ctx, { slug: 'north', name: 'North District' });
    south = await addTenant(ctx, { slug: 'south', name: 'South District' });
    await createAdminUser(ctx, {
      username: 'north-admin',
      tenantSlug: 'north',
      password: PASSWORD,
    });
    await createAdminUser(ctx, {
      username: 'south-admin',
      tenantSlug: 'south',
      password: PASSWORD,
    });
    await createAdminUser(ctx, { username: 'operator', tenantSlug: undefined, password: PASSWORD });
    northAdmin = await signIn(app, 'north-admin');
    southAdmin = await signIn(app, 'south-admin');
    operator = await signIn(app, 'operator');
  });

  after(async () => {
    await database.close();
  });

  const root = (tenant: Tenant) => `/admin/standards/district/${tenant.id}`;

  async function snapshot(tenant: Tenant) {
    const db = database.db;
    const rows = async (
      table: 'standard_frameworks' | 'standard_items' | 'standard_associations',
    ) =>
      db
        .selectFrom(table)
        .select(['id'])
        .where('tenant_id', '=', tenant.id)
        .orderBy('id')
        .execute();
    const items = await db
      .selectFrom('standard_items')
      .select(['id', 'code', 'full_statement', 'parent_item_id', 'position', 'archived_at'])
      .where('tenant_id', '=', tenant.id)
      .orderBy('id')
      .execute();
    const audit = await db
      .selectFrom('standard_audit')
      .select(['id'])
      .where('tenant_id', '=', tenant.id)
      .execute();
    return JSON.stringify({
      frameworks: await rows('standard_frameworks'),
      associations: (await rows('standard_associations')).length,
      items,
      audit: audit.length,
    });
  }

  async function importSample(admin: Admin, tenant: Tenant): Promise<request.Response> {
    const res = await admin.upload(`${root(tenant)}/import/file`, {
      name: 'district-grade6.case.json',
      content: SAMPLE,
    });
    expect(res.status, res.text).to.equal(303);
    expect(res.headers.location).to.match(new RegExp(`^${root(tenant)}/imports/`));
    return finishImport(admin, res.headers.location ?? '');
  }

  async function frameworkIdOf(tenant: Tenant, title: string): Promise<string> {
    const row = await database.db
      .selectFrom('standard_frameworks')
      .select('id')
      .where('tenant_id', '=', tenant.id)
      .where('title', '=', title)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  interface District {
    readonly tenant: Tenant;
    readonly admin: Admin;
  }

  let districtCount = 0;
  /**
   * A district of the test's own, with its admin signed in: it holds only what the test puts
   * there, whatever ran before.
   */
  async function newDistrict(): Promise<District> {
    districtCount += 1;
    const slug = `district-${districtCount}`;
    const ctx = { db: database.db, now: () => new Date() };
    const tenant = await addTenant(ctx, { slug, name: `District ${districtCount}` });
    const username = `${slug}-admin`;
    await createAdminUser(ctx, { username, tenantSlug: slug, password: PASSWORD });
    return { tenant, admin: await signIn(app, username) };
  }

  /** A district of the test's own that has imported the sample package. */
  async function districtWithSample(): Promise<District & { frameworkId: string }> {
    const district = await newDistrict();
    const done = await importSample(district.admin, district.tenant);
    expect(done.text).to.contain('data-status="succeeded"');
    const frameworkId = await frameworkIdOf(district.tenant, SAMPLE_JSON.CFDocument.title);
    return { ...district, frameworkId };
  }

  describe('the frameworks list', () => {
    it('when a district admin opens the standards page, then it goes to their own district, empty', async () => {
      const { tenant, admin } = await newDistrict();
      const res = await admin.get('/admin/standards');
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal(root(tenant));
      const list = await admin.get(root(tenant));
      expect(list.status).to.equal(200);
      expect(list.text).to.contain(`Standards of ${tenant.name}`).and.contain('No frameworks yet');
    });

    it('when the operator opens the standards page, then they first pick a district', async () => {
      const res = await operator.get('/admin/standards');
      expect(res.status).to.equal(200);
      expect(res.text)
        .to.contain(`href="${root(north)}"`)
        .and.contain(`href="${root(south)}"`);
      expect((await operator.get(root(south))).status).to.equal(200);
    });
  });

  describe('importing a CASE package file', () => {
    it('when the sample package is uploaded, then the import runs in the background and reports what it created', async () => {
      const { tenant, admin } = await newDistrict();
      const from = logs.lines.length;
      const done = await importSample(admin, tenant);
      expect(done.status).to.equal(200);
      expect(done.text).to.contain('data-status="succeeded"');
      const items = SAMPLE_JSON.CFItems.length;
      expect(cellTexts(done.text, 'standards-counts')).to.deep.equal([
        ['Created', String(items)],
        ['Updated', '0'],
        ['Archived (no longer in the file)', '0'],
        ['Unchanged', '0'],
      ]);
      const frameworkId = await frameworkIdOf(tenant, SAMPLE_JSON.CFDocument.title);
      expect(done.text).to.contain(`${root(tenant)}/frameworks/${frameworkId}`);
      // This import's own line: the ones logged after its upload.
      const log = logs.lines.slice(from).find((l) => l.msg === 'standards import finished');
      expect(log).to.include({ tenantId: tenant.id, ok: true });
    });

    it('when the list is opened, then the framework shows its item count, source and last import', async () => {
      const { tenant, admin } = await districtWithSample();
      const res = await admin.get(root(tenant));
      const [header, row] = cellTexts(res.text, 'data');
      expect(header).to.deep.equal(['Title', 'Version', 'Standards', 'Source', 'Last import']);
      expect(row?.[0]).to.equal(SAMPLE_JSON.CFDocument.title);
      expect(row?.[2]).to.equal(String(SAMPLE_JSON.CFItems.length));
      expect(row?.[3]).to.equal('CASE package file');
      expect(row?.[4]).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    });

    it('when the framework page is opened, then the tree shows codes and statements in nested lists', async () => {
      const { tenant, admin, frameworkId } = await districtWithSample();
      const res = await admin.get(`${root(tenant)}/frameworks/${frameworkId}`);
      expect(res.status).to.equal(200);
      const coded = SAMPLE_JSON.CFItems.find((i) => i.humanCodingScheme !== undefined);
      expect(res.text).to.contain(`<span class="code">${coded?.humanCodingScheme ?? ''}</span>`);
      expect(res.text).to.match(/<details open>\s*<summary>/);
      expect(res.text).to.contain('<ul class="standards-tree">');
    });

    it('when the same package is imported again, then every standard is unchanged', async () => {
      const { tenant, admin } = await districtWithSample();
      const done = await importSample(admin, tenant);
      expect(cellTexts(done.text, 'standards-counts')).to.deep.equal([
        ['Created', '0'],
        ['Updated', '0'],
        ['Archived (no longer in the file)', '0'],
        ['Unchanged', String(SAMPLE_JSON.CFItems.length)],
      ]);
    });

    it('when the CASE package is exported and imported again, then nothing changes', async () => {
      const { tenant, admin, frameworkId } = await districtWithSample();
      const exported = await admin.get(`${root(tenant)}/frameworks/${frameworkId}/export/case`);
      expect(exported.status).to.equal(200);
      expect(exported.headers['content-disposition']).to.match(
        /^attachment; filename="?[a-z0-9-]+\.case\.json"?$/,
      );
      const before = await snapshot(tenant);
      const res = await admin.upload(`${root(tenant)}/import/file`, {
        name: 'export.json',
        content: exported.text,
      });
      const done = await finishImport(admin, res.headers.location ?? '');
      expect(done.text).to.contain('data-status="succeeded"');
      expect(cellTexts(done.text, 'standards-counts')[3]).to.deep.equal([
        'Unchanged',
        String(SAMPLE_JSON.CFItems.length),
      ]);
      expect(await snapshot(tenant)).to.equal(before);
    });

    it('when the CSV exports are imported as new frameworks, then exporting those gives the same CSV', async () => {
      const source = await districtWithSample();
      const target = await newDistrict();
      for (const form of ['simple', 'canvas'] as const) {
        const exported = await source.admin.get(
          `${root(source.tenant)}/frameworks/${source.frameworkId}/export/csv${form === 'canvas' ? '?form=canvas' : ''}`,
        );
        expect(exported.status).to.equal(200);
        expect(exported.headers['content-type']).to.match(/^text\/csv/);
        const title = `Copy (${form})`;
        const res = await target.admin.upload(
          `${root(target.tenant)}/import/file`,
          { name: `copy-${form}.csv`, content: exported.text },
          { framework: '', title },
        );
        const done = await finishImport(target.admin, res.headers.location ?? '');
        expect(done.text, done.text).to.contain('data-status="succeeded"');
        const copyId = await frameworkIdOf(target.tenant, title);
        const again = await target.admin.get(
          `${root(target.tenant)}/frameworks/${copyId}/export/csv${form === 'canvas' ? '?form=canvas' : ''}`,
        );
        expect(again.text, form).to.equal(exported.text);
      }
    });
  });

  describe('progress of a long import', () => {
    it('when a large framework imports, then its status reports standards done of total, then finished', async () => {
      const { tenant, admin } = await newDistrict();
      const count = 5000;
      const res = await admin.upload(`${root(tenant)}/import/file`, {
        name: 'large.json',
        content: generateLargeFramework(count, 7),
      });
      expect(res.status).to.equal(303);
      const jobPath = res.headers.location ?? '';
      const seen: { status: string; done: number; total: number; phase: string }[] = [];
      for (let i = 0; i < 3000; i++) {
        const status = await admin.get(`${jobPath}/status`);
        expect(status.status).to.equal(200);
        const body = status.body as (typeof seen)[number];
        seen.push(body);
        if (body.status === 'finished') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen.at(-1)).to.include({ status: 'finished', done: count, total: count });
      for (const state of seen) expect(state.done).to.be.at.most(Math.max(state.total, 0));
      if (testEngine === 'postgres') {
        // PostgreSQL serves the page while the import's transaction is open; PGlite (one
        // connection) answers only after the commit.
        expect(seen.some((s) => s.status === 'running' && s.total === count)).to.equal(true);
      }
      const done = await finishImport(admin, jobPath);
      expect(cellTexts(done.text, 'standards-counts')[0]).to.deep.equal(['Created', String(count)]);
    });
  });

  describe('a framework too large to list at once', () => {
    it('when it is opened, then the tree shows its first levels, and a move names the new parent by code', async () => {
      const db = database.db;
      const { tenant, admin } = await newDistrict();
      // More standards than the tree lists at once.
      const upload = await admin.upload(`${root(tenant)}/import/file`, {
        name: 'large.json',
        content: generateLargeFramework(TREE_NODE_LIMIT + 500, 7),
      });
      const imported = await finishImport(admin, upload.headers.location ?? '');
      expect(imported.text).to.contain('data-status="succeeded"');
      const frameworkId = await frameworkIdOf(tenant, 'Generated framework 7');
      const path = `${root(tenant)}/frameworks/${frameworkId}`;
      const page = await admin.get(path);
      expect(page.status).to.equal(200);
      expect(page.text).to.contain('too many to list at once');
      expect(page.text).to.contain('(open to see them)');
      const tops = await db
        .selectFrom('standard_items')
        .select(['id', 'code'])
        .where('framework_id', '=', frameworkId)
        .where('parent_item_id', 'is', null)
        .orderBy('position')
        .limit(2)
        .execute();
      const [first, second] = tops;
      if (first === undefined || second === undefined || second.code === null)
        throw new Error('no top-level codes');
      const child = await db
        .selectFrom('standard_items')
        .select(['id'])
        .where('parent_item_id', '=', first.id)
        .executeTakeFirstOrThrow();
      const itemPage = await admin.get(`${path}/items/${child.id}`);
      expect(itemPage.text).to.contain('id="move-parent-code"');
      expect(itemPage.text).not.to.contain('id="move-parent"');
      expect(itemPage.text).to.contain('Sub-standards');

      const before = await snapshot(tenant);
      const unknown = await admin.post(`${path}/items/${child.id}/move`, {
        parentCode: 'NO-SUCH-CODE',
      });
      expect(unknown.status).to.equal(400);
      expect(unknown.text)
        .to.contain('No standard of this framework has the code')
        .and.contain('NO-SUCH-CODE');
      expect(await snapshot(tenant)).to.equal(before);

      const moved = await admin.post(`${path}/items/${child.id}/move`, {
        parentCode: second.code,
      });
      expect(moved.status).to.equal(303);
      const row = await db
        .selectFrom('standard_items')
        .select('parent_item_id')
        .where('id', '=', child.id)
        .executeTakeFirstOrThrow();
      expect(row.parent_item_id).to.equal(second.id);
    });
  });

  describe('re-importing a CSV into an existing framework', () => {
    /** A district whose framework was imported from the CSV export of the sample. */
    async function districtWithCsvCopy(): Promise<District & { copyId: string }> {
      const source = await districtWithSample();
      const csv = await source.admin.get(
        `${root(source.tenant)}/frameworks/${source.frameworkId}/export/csv`,
      );
      const district = await newDistrict();
      const res = await district.admin.upload(
        `${root(district.tenant)}/import/file`,
        { name: 'copy-simple.csv', content: csv.text },
        { framework: '', title: 'Copy (simple)' },
      );
      const done = await finishImport(district.admin, res.headers.location ?? '');
      expect(done.text, done.text).to.contain('data-status="succeeded"');
      return { ...district, copyId: await frameworkIdOf(district.tenant, 'Copy (simple)') };
    }

    it('when an edited CSV is imported into the framework it came from, then one standard is updated and the rest unchanged', async () => {
      const { tenant, admin, copyId } = await districtWithCsvCopy();
      const exported = await admin.get(`${root(tenant)}/frameworks/${copyId}/export/csv`);
      const lines = exported.text.split('\n');
      const [header, first, ...rest] = lines;
      const cells = (first ?? '').split(',');
      // The statement is the second column; a plain edit (no quotes needed) keeps the CSV simple.
      const edited = [cells[0], '"An edited statement, for the re-import test"', ...cells.slice(2)];
      const before = await database.db
        .selectFrom('standard_items')
        .select(['id', 'code'])
        .where('framework_id', '=', copyId)
        .orderBy('id')
        .execute();
      const res = await admin.upload(
        `${root(tenant)}/import/file`,
        { name: 'edited.csv', content: [header, edited.join(','), ...rest].join('\n') },
        { framework: copyId },
      );
      const done = await finishImport(admin, res.headers.location ?? '');
      expect(done.text, done.text).to.contain('data-status="succeeded"');
      const counts = cellTexts(done.text, 'standards-counts');
      expect(counts.slice(0, 3)).to.deep.equal([
        ['Created', '0'],
        ['Updated', '1'],
        ['Archived (no longer in the file)', '0'],
      ]);
      const after = await database.db
        .selectFrom('standard_items')
        .select(['id', 'code'])
        .where('framework_id', '=', copyId)
        .orderBy('id')
        .execute();
      // Same ids: alignments and evidence that point at them stay valid.
      expect(after).to.deep.equal(before);
    });

    it('when the chosen framework is not one of the district, then the import page says so', async () => {
      const other = await districtWithSample();
      const { tenant, admin } = await newDistrict();
      const before = await snapshot(tenant);
      const res = await admin.upload(
        `${root(tenant)}/import/file`,
        { name: 'x.csv', content: 'code,statement\nA,First\n' },
        { framework: other.frameworkId },
      );
      expect(res.status).to.equal(400);
      expect(res.text).to.contain('Choose a framework from the list');
      expect(await snapshot(tenant)).to.equal(before);
    });
  });

  describe('import rejections', () => {
    const unknownParent = () => {
      const pkg = structuredClone(SAMPLE_JSON);
      const link = pkg.CFAssociations.find((a) => a.associationType === 'isChildOf');
      if (link) link.destinationNodeURI.identifier = '99999999-9999-4999-8999-999999999999';
      return JSON.stringify(pkg);
    };
    const duplicateGuid = () => {
      const pkg = structuredClone(SAMPLE_JSON);
      const [first, second] = pkg.CFItems;
      if (first && second) second.identifier = first.identifier;
      return JSON.stringify(pkg);
    };
    const cycle = () => {
      const pkg = structuredClone(SAMPLE_JSON);
      const links = pkg.CFAssociations.filter((a) => a.associationType === 'isChildOf');
      // A domain becomes the child of one of its own standards.
      const child = links.find((a) =>
        links.some((b) => b.destinationNodeURI.identifier === a.originNodeURI.identifier),
      );
      const grandchild = links.find(
        (b) => b.destinationNodeURI.identifier === child?.originNodeURI.identifier,
      );
      if (child && grandchild) {
        child.destinationNodeURI.identifier = grandchild.originNodeURI.identifier;
      }
      return JSON.stringify(pkg);
    };
    const cases: {
      name: string;
      file: string;
      content: () => string;
      code: RegExp;
      where: RegExp;
    }[] = [
      {
        name: 'bad JSON',
        file: 'broken.json',
        content: () => SAMPLE.slice(0, 400),
        code: /not valid JSON/,
        where: /^(Line \d+|The whole file)$/,
      },
      {
        name: 'an unknown parent',
        file: 'unknown-parent.json',
        content: unknownParent,
        code: /99999999-9999-4999-8999-999999999999/,
        where: /^CFAssociations\[\d+\]\.destinationNodeURI$/,
      },
      {
        name: 'a duplicate GUID',
        file: 'duplicate.json',
        content: duplicateGuid,
        code: /.+/,
        where: /^CFItems\[1\]\.identifier$/,
      },
      {
        name: 'a cycle in isChildOf',
        file: 'cycle.json',
        content: cycle,
        code: /.+/,
        where: /.+/,
      },
      {
        name: 'a missing statement (CSV)',
        file: 'missing.csv',
        content: () => 'code,statement,parent_code,grade,subject\nA,First,,06,Math\nB,,A,06,Math\n',
        code: /statement/i,
        where: /^Line 3$/,
      },
      {
        name: 'a duplicate code (CSV)',
        file: 'dupcode.csv',
        content: () =>
          'code,statement,parent_code,grade,subject\nA,First,,06,Math\nA,Second,,06,Math\n',
        code: /.+/,
        where: /^Line 3$/,
      },
      {
        name: 'an unknown parent code (CSV)',
        file: 'parent.csv',
        content: () => 'code,statement,parent_code,grade,subject\nA,First,ZZ,06,Math\n',
        code: /ZZ/,
        where: /^Line 2\b/,
      },
    ];

    for (const c of cases) {
      it(`when the file has ${c.name}, then the page lists the problem and the database is unchanged`, async () => {
        const before = await snapshot(north);
        const res = await northAdmin.upload(`${root(north)}/import/file`, {
          name: c.file,
          content: c.content(),
        });
        expect(res.status).to.equal(303);
        const done = await finishImport(northAdmin, res.headers.location ?? '');
        expect(done.text).to.contain('data-status="failed"');
        expect(done.text).to.contain('nothing changed');
        const [header, ...problems] = cellTexts(done.text, 'standards-problems');
        expect(header).to.deep.equal(['Where', 'Field', 'Problem']);
        expect(problems.length).to.be.greaterThan(0);
        expect(problems[0]?.[0]).to.match(c.where);
        expect(problems.map((p) => p[2]).join('\n')).to.match(c.code);
        expect(await snapshot(north)).to.equal(before);
        const record = await database.db
          .selectFrom('standard_imports')
          .select(['status'])
          .where('tenant_id', '=', north.id)
          .orderBy('started_at', 'desc')
          .executeTakeFirstOrThrow();
        expect(record.status).to.equal('failed');
      });
    }

    it('when the file is larger than the limit, then the import page says so (413) and nothing changes', async () => {
      const before = await snapshot(north);
      const imports = await database.db.selectFrom('standard_imports').select('id').execute();
      const res = await northAdmin.upload(`${root(north)}/import/file`, {
        name: 'huge.json',
        content: Buffer.alloc(MAX_IMPORT_BYTES + 1, 0x20),
      });
      expect(res.status).to.equal(413);
      const [, problem] = cellTexts(res.text, 'standards-problems');
      expect(problem?.[1]).to.equal('file');
      expect(problem?.[2]).to.match(/the limit is 40\.0 MB/);
      expect(res.text).to.contain('role="alert"');
      expect(await snapshot(north)).to.equal(before);
      expect(
        await database.db.selectFrom('standard_imports').select('id').execute(),
      ).to.have.length(imports.length);
    });

    it('when an upload declares a body far beyond the limit, then 413 comes at once, without reading it, and the connection closes', async () => {
      const server = app.listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => server.once('listening', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const answer = await new Promise<{ status: number; connection: string | undefined }>(
          (resolve, reject) => {
            const req = httpRequest({
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: `${root(north)}/import/file`,
              headers: {
                cookie: northAdmin.cookie,
                'content-type': 'multipart/form-data; boundary=xyz',
                'content-length': String(2 * 1024 * 1024 * 1024),
              },
            });
            req.on('response', (res) => {
              res.resume();
              resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
            });
            req.on('error', reject);
            // A few bytes of a body that would take minutes to send: the answer must not wait for it.
            req.write('--xyz\r\n');
          },
        );
        expect(answer.status).to.equal(413);
        expect(answer.connection).to.equal('close');
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
      }
    });

    it('when no file is chosen or it is not UTF-8, then the import page says what to do', async () => {
      const before = await snapshot(north);
      const none = await northAdmin.upload(`${root(north)}/import/file`, undefined);
      expect(none.status).to.equal(400);
      expect(none.text).to.contain('Choose a file to import');
      const latin1 = await northAdmin.upload(`${root(north)}/import/file`, {
        name: 'latin1.csv',
        content: Buffer.from('code,statement\nA,Caf\xe9\n', 'latin1'),
      });
      expect(latin1.status).to.equal(400);
      expect(latin1.text).to.contain('CSV UTF-8');
      expect(await snapshot(north)).to.equal(before);
    });

    it('when the upload is not multipart or arrives cut off, then the import page says so and nothing changes', async () => {
      const before = await snapshot(north);
      const plain = await request(app)
        .post(`${root(north)}/import/file`)
        .set('Cookie', northAdmin.cookie)
        .type('json')
        .send(SAMPLE);
      expect(plain.status).to.equal(415);
      expect(plain.text).to.contain('upload form on this page');
      const csrf = await northAdmin.csrf();
      const cut = [
        '--XyZ',
        'Content-Disposition: form-data; name="_csrf"',
        '',
        csrf,
        '--XyZ',
        'Content-Disposition: form-data; name="file"; filename="sample.json"',
        'Content-Type: application/json',
        '',
        SAMPLE.slice(0, 1000),
      ].join('\r\n');
      const res = await request(app)
        .post(`${root(north)}/import/file`)
        .set('Cookie', northAdmin.cookie)
        .set('Content-Type', 'multipart/form-data; boundary=XyZ')
        .send(cut);
      expect(res.status).to.equal(400);
      expect(res.text).to.contain('did not arrive complete');
      expect(await snapshot(north)).to.equal(before);
    });

    it('when the CASE server address is not https, then the import page refuses it and nothing changes', async () => {
      const before = await snapshot(north);
      for (const url of [
        'http://93.184.216.34/ims/case/v1p0/CFPackages/abc',
        'ftp://case.example.org/ims/case/v1p0/CFPackages/abc',
      ]) {
        const res = await northAdmin.post(`${root(north)}/import/url`, { url });
        expect(res.status, url).to.equal(400);
        const [, problem] = cellTexts(res.text, 'standards-problems');
        expect(problem?.[1]).to.equal('url');
        expect(problem?.[2]).to.match(/Only https addresses can be used/);
      }
      const notPackage = await northAdmin.post(`${root(north)}/import/url`, {
        url: 'https://case.example.org/frameworks/1',
      });
      expect(notPackage.status).to.equal(400);
      expect(notPackage.text).to.contain('CFPackages/{identifier}');
      expect(await snapshot(north)).to.equal(before);
    });
  });

  describe('importing from a CASE server', () => {
    let caseServer: Server;
    let caseUrl: string;
    const seenAuth: (string | undefined)[] = [];

    before(async () => {
      caseServer = createServer((req, res) => {
        seenAuth.push(req.headers.authorization);
        if (req.headers.authorization !== 'Bearer publisher-token') {
          res.writeHead(401).end();
          return;
        }
        if (req.url === `/ims/case/v1p0/CFPackages/${SAMPLE_JSON.CFDocument.identifier}`) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(SAMPLE);
          return;
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => caseServer.listen(0, '127.0.0.1', resolve));
      const port = (caseServer.address() as AddressInfo).port;
      caseUrl = `http://127.0.0.1:${port}/ims/case/v1p0/CFPackages/${SAMPLE_JSON.CFDocument.identifier}`;
    });

    after(async () => {
      caseServer.closeAllConnections();
      await new Promise((resolve) => caseServer.close(resolve));
    });

    it('when the server needs a token and none is given, then the refusal is reported and nothing changes', async () => {
      const before = await snapshot(south);
      const res = await southAdmin.post(`${root(south)}/import/url`, { url: caseUrl });
      expect(res.status).to.equal(303);
      const done = await finishImport(southAdmin, res.headers.location ?? '');
      expect(done.text).to.contain('data-status="failed"');
      const [, problem] = cellTexts(done.text, 'standards-problems');
      expect(problem?.[1]).to.equal('url');
      expect(problem?.[2]).to.contain('needs an access token');
      expect(await snapshot(south)).to.equal(before);
    });

    it('when the address and bearer token are given, then the framework is imported from the server', async () => {
      const res = await southAdmin.post(`${root(south)}/import/url`, {
        url: caseUrl,
        token: 'publisher-token',
      });
      expect(res.status).to.equal(303);
      const done = await finishImport(southAdmin, res.headers.location ?? '');
      expect(done.text).to.contain('data-status="succeeded"');
      expect(seenAuth.at(-1)).to.equal('Bearer publisher-token');
      const list = await southAdmin.get(root(south));
      expect(list.text).to.contain('CASE server');
      // The token is neither stored nor logged.
      expect(logs.text()).not.to.contain('publisher-token');
    });
  });

  describe('authoring', () => {
    let tenant: Tenant;
    let admin: Admin;
    let frameworkId: string;
    let frameworkPath: string;
    let domainId: string;
    let standardId: string;

    const itemIdBy = async (code: string): Promise<string> =>
      (
        await database.db
          .selectFrom('standard_items')
          .select('id')
          .where('tenant_id', '=', tenant.id)
          .where('framework_id', '=', frameworkId)
          .where('code', '=', code)
          .executeTakeFirstOrThrow()
      ).id;

    /** A district of the test's own with a framework written here, still without standards. */
    async function arrangeFramework(): Promise<request.Response> {
      ({ tenant, admin } = await newDistrict());
      const res = await admin.post(`${root(tenant)}/frameworks`, {
        title: 'North Computer Science',
        subjects: 'Computer Science',
      });
      expect(res.status).to.equal(303);
      frameworkId = await frameworkIdOf(tenant, 'North Computer Science');
      frameworkPath = `${root(tenant)}/frameworks/${frameworkId}`;
      return res;
    }

    /** That framework with the domain CS.A and, under it, the standard CS.A.1. */
    async function arrangeStandards(): Promise<void> {
      await arrangeFramework();
      let res = await admin.post(`${frameworkPath}/items`, {
        parentId: '',
        code: 'CS.A',
        fullStatement: 'Algorithms',
        itemType: 'Domain',
      });
      expect(res.status).to.equal(303);
      domainId = await itemIdBy('CS.A');
      res = await admin.post(`${frameworkPath}/items`, {
        parentId: domainId,
        code: 'CS.A.1',
        fullStatement: 'Describe an algorithm as a sequence of steps.',
        itemType: 'Standard',
        educationLevels: '06, 07',
      });
      expect(res.status).to.equal(303);
      standardId = await itemIdBy('CS.A.1');
    }

    it('when a new framework is created, then it opens empty with a notice', async () => {
      const res = await arrangeFramework();
      expect(res.headers.location).to.equal(`${frameworkPath}?done=framework-created`);
      const page = await admin.get(res.headers.location ?? '');
      expect(page.text).to.contain('The framework was created').and.contain('no standards yet');
      const list = await admin.get(root(tenant));
      expect(list.text).to.contain('Written here');
    });

    it('when a framework has no title, then the form says so', async () => {
      const res = await northAdmin.post(`${root(north)}/frameworks`, { title: '  ' });
      expect(res.status).to.equal(400);
      expect(res.text).to.contain('Give the framework a title.');
    });

    it('when standards are added at the top level and as children, then the tree nests them', async () => {
      await arrangeFramework();
      let res = await admin.post(`${frameworkPath}/items`, {
        parentId: '',
        code: 'CS.A',
        fullStatement: 'Algorithms',
        itemType: 'Domain',
      });
      expect(res.status).to.equal(303);
      domainId = await itemIdBy('CS.A');
      res = await admin.post(`${frameworkPath}/items`, {
        parentId: domainId,
        code: 'CS.A.1',
        fullStatement: 'Describe an algorithm as a sequence of steps.',
        itemType: 'Standard',
        educationLevels: '06, 07',
      });
      expect(res.status).to.equal(303);
      standardId = await itemIdBy('CS.A.1');
      expect(res.headers.location).to.equal(`${frameworkPath}/items/${standardId}?done=item-added`);
      const page = await admin.get(frameworkPath);
      expect(page.text).to.match(
        /<summary><span class="code">CS\.A<\/span>[\s\S]*<ul class="standards-tree">[\s\S]*CS\.A\.1/,
      );
      expect(page.text).to.contain('Grades 06, 07');
    });

    it('when a standard is edited, then the change is saved and audited with the admin name', async () => {
      await arrangeStandards();
      const res = await admin.post(`${frameworkPath}/items/${standardId}`, {
        code: 'CS.A.1',
        fullStatement: 'Describe an algorithm as an ordered sequence of steps.',
        abbreviatedStatement: 'Algorithms as steps',
        itemType: 'Standard',
        educationLevels: '06',
      });
      expect(res.status).to.equal(303);
      const item = await database.db
        .selectFrom('standard_items')
        .select(['full_statement', 'abbreviated_statement', 'education_levels'])
        .where('id', '=', standardId)
        .executeTakeFirstOrThrow();
      expect(item).to.deep.equal({
        full_statement: 'Describe an algorithm as an ordered sequence of steps.',
        abbreviated_statement: 'Algorithms as steps',
        education_levels: ['06'],
      });
      const audit = await admin.get(`${frameworkPath}/audit`);
      const rows = cellTexts(audit.text, 'standards-audit');
      expect(rows[1]?.slice(1, 3)).to.deep.equal([admin.username, 'Edited a standard']);
      expect(rows[1]?.[4]).to.contain('ordered sequence');
      // The audit keeps an opaque id, never the name; logs carry no names either.
      const stored = await database.db
        .selectFrom('standard_audit')
        .select('actor')
        .where('tenant_id', '=', tenant.id)
        .execute();
      expect(stored.every((r) => /^admin:[0-9a-f-]{36}$/.test(r.actor))).to.equal(true);
      expect(logs.text()).not.to.contain(admin.username);
    });

    it('when a code is already used in the framework, then the edit is refused with the reason and nothing changes', async () => {
      await arrangeStandards();
      const before = await snapshot(tenant);
      const res = await admin.post(`${frameworkPath}/items/${standardId}`, {
        code: 'CS.A',
        fullStatement: 'Changed',
      });
      expect(res.status).to.equal(400);
      expect(res.text).to.contain('is already used by another standard');
      expect(res.text).to.contain('value="CS.A"');
      const empty = await admin.post(`${frameworkPath}/items/${standardId}`, {
        code: 'CS.A.1',
        fullStatement: '  ',
      });
      expect(empty.status).to.equal(400);
      expect(empty.text).to.contain('Every standard needs a statement');
      expect(await snapshot(tenant)).to.equal(before);
    });

    it('when a standard is moved to the top level at position 1, then it comes first', async () => {
      await arrangeStandards();
      const res = await admin.post(`${frameworkPath}/items/${standardId}/move`, {
        parentId: '',
        position: '1',
      });
      expect(res.status).to.equal(303);
      const row = await database.db
        .selectFrom('standard_items')
        .select(['parent_item_id'])
        .where('id', '=', standardId)
        .executeTakeFirstOrThrow();
      expect(row.parent_item_id).to.equal(null);
      const page = await admin.get(frameworkPath);
      expect(page.text.indexOf('CS.A.1')).to.be.lessThan(page.text.indexOf('>CS.A<'));
    });

    it('when a standard would move under its own child, then the move is refused', async () => {
      await arrangeStandards();
      const before = await snapshot(tenant);
      const res = await admin.post(`${frameworkPath}/items/${domainId}/move`, {
        parentId: standardId,
      });
      expect(res.status).to.equal(400);
      expect(res.text).to.contain('cannot be moved under itself');
      expect(await snapshot(tenant)).to.equal(before);
    });

    it('when a standard is archived and restored, then the tree hides and shows it again', async () => {
      await arrangeStandards();
      let res = await admin.post(`${frameworkPath}/items/${domainId}/archive`, {});
      expect(res.status).to.equal(303);
      let page = await admin.get(frameworkPath);
      expect(page.text).not.to.contain('CS.A.1');
      page = await admin.get(`${frameworkPath}?archived=1`);
      expect(page.text).to.contain('CS.A.1').and.contain('Archived');
      res = await admin.post(`${frameworkPath}/items/${domainId}/restore`, {});
      expect(res.status).to.equal(303);
      page = await admin.get(frameworkPath);
      expect(page.text).to.contain('CS.A.1');
      const audit = await admin.get(`${frameworkPath}/audit`);
      const actions = cellTexts(audit.text, 'standards-audit').map((r) => r[2]);
      expect(actions.slice(1, 3)).to.deep.equal(['Restored a standard', 'Archived a standard']);
      expect(actions.at(-1)).to.equal('Created the framework');
    });

    it('when the framework is searched, then matching standards are listed with links', async () => {
      await arrangeStandards();
      const res = await admin.get(`${frameworkPath}?q=algorithm`);
      expect(res.status).to.equal(200);
      expect(res.text).to.contain(`href="${frameworkPath}/items/${standardId}"`);
      const none = await admin.get(`${frameworkPath}?q=photosynthesis`);
      expect(none.text).to.contain('No standards match');
    });
  });

  describe('tenant isolation and CSRF', () => {
    // Each test's own district with the sample framework, attacked from the south district.
    let owner: District;
    let ownerFramework: string;
    let ownerItem: string;

    beforeEach(async () => {
      const district = await districtWithSample();
      owner = district;
      ownerFramework = district.frameworkId;
      ownerItem = (
        await database.db
          .selectFrom('standard_items')
          .select('id')
          .where('framework_id', '=', ownerFramework)
          .executeTakeFirstOrThrow()
      ).id;
    });

    it("when a district admin asks for another district's framework, then it answers 404", async () => {
      const paths = [
        `${root(south)}/frameworks/${ownerFramework}`,
        `${root(south)}/frameworks/${ownerFramework}/export/case`,
        `${root(south)}/frameworks/${ownerFramework}/export/csv`,
        `${root(south)}/frameworks/${ownerFramework}/audit`,
        `${root(south)}/frameworks/${ownerFramework}/items/${ownerItem}`,
        root(owner.tenant),
        `${root(owner.tenant)}/frameworks/${ownerFramework}`,
        `${root(south)}/frameworks/not-a-uuid`,
      ];
      for (const path of paths) {
        expect((await southAdmin.get(path)).status, path).to.equal(404);
      }
      const ownerImport = await database.db
        .selectFrom('standard_imports')
        .select('id')
        .where('tenant_id', '=', owner.tenant.id)
        .executeTakeFirstOrThrow();
      expect((await southAdmin.get(`${root(south)}/imports/${ownerImport.id}`)).status).to.equal(
        404,
      );
      expect(
        (await southAdmin.get(`${root(south)}/imports/${ownerImport.id}/status`)).status,
      ).to.equal(404);
    });

    it("when a district admin posts to another district's framework, then it answers 404 and nothing changes", async () => {
      const before = await snapshot(owner.tenant);
      const attempts: [string, Record<string, string>][] = [
        [`${root(south)}/frameworks/${ownerFramework}/items/${ownerItem}`, { fullStatement: 'x' }],
        [`${root(south)}/frameworks/${ownerFramework}/items/${ownerItem}/archive`, {}],
        [`${root(south)}/frameworks/${ownerFramework}/items/${ownerItem}/move`, { parentId: '' }],
        [`${root(south)}/frameworks/${ownerFramework}/items`, { fullStatement: 'x' }],
        [
          `${root(owner.tenant)}/frameworks/${ownerFramework}/items/${ownerItem}`,
          { fullStatement: 'x' },
        ],
        [`${root(owner.tenant)}/frameworks`, { title: 'Sneaky' }],
      ];
      for (const [path, fields] of attempts) {
        expect((await southAdmin.post(path, fields)).status, path).to.equal(404);
      }
      const upload = await southAdmin.upload(`${root(owner.tenant)}/import/file`, {
        name: 'x.json',
        content: SAMPLE,
      });
      expect(upload.status).to.equal(404);
      expect(await snapshot(owner.tenant)).to.equal(before);
    });

    it('when a form comes without a CSRF token or with a wrong one, then it is refused (403) and nothing changes', async () => {
      const before = await snapshot(owner.tenant);
      const cookie = owner.admin.cookie;
      const itemPath = `${root(owner.tenant)}/frameworks/${ownerFramework}/items/${ownerItem}`;
      for (const csrf of [undefined, 'wrong-token']) {
        const fields = { fullStatement: 'Changed', ...(csrf === undefined ? {} : { _csrf: csrf }) };
        const edit = await request(app)
          .post(itemPath)
          .set('Cookie', cookie)
          .type('form')
          .send(fields);
        expect(edit.status).to.equal(403);
        expect(edit.text).to.contain('This form has expired');
        for (const path of [
          `${itemPath}/archive`,
          `${itemPath}/move`,
          `${root(owner.tenant)}/frameworks`,
        ]) {
          const res = await request(app)
            .post(path)
            .set('Cookie', cookie)
            .type('form')
            .send({ title: 'x', ...(csrf === undefined ? {} : { _csrf: csrf }) });
          expect(res.status, path).to.equal(403);
        }
        const url = await request(app)
          .post(`${root(owner.tenant)}/import/url`)
          .set('Cookie', cookie)
          .type('form')
          .send({
            url: 'https://case.example.org/ims/case/v1p0/CFPackages/x',
            ...(csrf ? { _csrf: csrf } : {}),
          });
        expect(url.status).to.equal(403);
        let upload = request(app)
          .post(`${root(owner.tenant)}/import/file`)
          .set('Cookie', cookie);
        if (csrf !== undefined) upload = upload.field('_csrf', csrf);
        const uploaded = await upload.attach('file', Buffer.from(SAMPLE), 'sample.json');
        expect(uploaded.status).to.equal(403);
      }
      expect(await snapshot(owner.tenant)).to.equal(before);
    });
  });
});

describe(`standards library pages for an administrator launched from the LMS (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  it('when a launched administrator imports and authors, then the audit shows "LTI admin" and stores an opaque id', async () => {
    const outcome = await launch(world, { userId: world.seed.admin.userId });
    const base = /^(\/s\/[A-Za-z0-9_-]+)\//.exec(outcome.location ?? '')?.[1] ?? '';
    const url = (path: string) => new URL(`${base}${path}`, world.tool.origin);
    const entry = await fetch(url('/admin/standards'), { redirect: 'manual' });
    expect(entry.status).to.equal(303);
    const districtRoot = entry.headers.get('location') ?? '';
    expect(districtRoot).to.match(new RegExp(`^${base}/admin/standards/district/[0-9a-f-]{36}$`));
    const page = await (await fetch(new URL(districtRoot, world.tool.origin))).text();
    const csrf = csrfIn(page);

    const body = new FormData();
    body.set('_csrf', csrf);
    body.set('file', new Blob([SAMPLE], { type: 'application/json' }), 'sample.json');
    const uploaded = await fetch(new URL(`${districtRoot}/import/file`, world.tool.origin), {
      method: 'POST',
      body,
      redirect: 'manual',
    });
    expect(uploaded.status).to.equal(303);
    let location = uploaded.headers.get('location') ?? '';
    let html = '';
    for (let i = 0; i < 200; i++) {
      const res = await fetch(new URL(location, world.tool.origin), { redirect: 'manual' });
      if (res.status === 303) {
        location = res.headers.get('location') ?? '';
        continue;
      }
      html = await res.text();
      if (!html.includes('data-status="running"')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(html).to.contain('data-status="succeeded"');

    const created = await fetch(new URL(`${districtRoot}/frameworks`, world.tool.origin), {
      method: 'POST',
      body: new URLSearchParams({ _csrf: csrf, title: 'Launched framework' }),
      redirect: 'manual',
    });
    expect(created.status).to.equal(303);
    const frameworkPath = (created.headers.get('location') ?? '').replace(/\?.*$/, '');
    const audit = await (await fetch(new URL(`${frameworkPath}/audit`, world.tool.origin))).text();
    expect(cellTexts(audit, 'standards-audit')[1]?.slice(1, 3)).to.deep.equal([
      'LTI admin',
      'Created the framework',
    ]);
    const actors = await database.db.selectFrom('standard_audit').select('actor').execute();
    expect(actors.map((a) => a.actor)).to.satisfy((list: string[]) =>
      list.every((actor) => /^lti:[0-9a-f-]{36}$/.test(actor)),
    );
    const imports = await database.db.selectFrom('standard_imports').select('actor').execute();
    expect(imports.map((i) => i.actor)[0]).to.match(/^lti:[0-9a-f-]{36}$/);
  });
});
