import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { CliIo } from '../../../src/cli.ts';
import { runCliIn } from '../../support/cli.ts';

describe('command line: LTI administration', function () {
  this.timeout(120_000);
  let dataDir: string;

  before(() => {
    dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'mp-cli-lti-')), 'pglite');
  });

  const run = (argv: string[], extra: Partial<CliIo> = {}) => runCliIn(() => dataDir, argv, extra);

  const idIn = (text: string): string => {
    const match = /id ([0-9a-f-]{36})/.exec(text);
    if (match?.[1] === undefined) throw new Error(`no id in: ${text}`);
    return match[1];
  };

  type CliResult = Awaited<ReturnType<typeof run>>;

  // Each test makes what it needs (a tenant, a platform), so any one passes alone or in any order.
  let counter = 0;
  const next = (): number => (counter += 1);

  /** A new tenant; its slug. */
  const freshTenant = async (): Promise<string> => {
    const slug = `district-${next()}`;
    const added = await run(['tenant', 'add', '--slug', slug, '--name', `District ${slug}`]);
    expect(added.code, added.err).to.equal(0);
    return slug;
  };

  /** `platform add` from a preset; `options` are the flags a case adds or gets wrong. */
  const addPlatform = (preset: string, clientId: string, ...options: string[]) =>
    run(['platform', 'add', '--preset', preset, '--client-id', clientId, ...options]);

  /** A new Canvas platform (a client id of its own); its id. */
  const freshCanvas = async (): Promise<string> => {
    const added = await addPlatform('canvas', `1000000000${next()}`);
    expect(added.code, added.err).to.equal(0);
    return idIn(added.out);
  };

  /** `deployment add` under a Canvas platform. */
  const addCanvasDeployment = (
    canvasId: string,
    deploymentId: string,
    tenant: string,
    ...options: string[]
  ) =>
    run([
      'deployment',
      'add',
      '--platform-id',
      canvasId,
      '--deployment-id',
      deploymentId,
      '--tenant',
      tenant,
      ...options,
    ]);

  /** A refusal exits with `code` and tells the admin on stderr what was wrong. */
  const expectRefused = (result: CliResult, code: number, message: string): void => {
    expect(result.code).to.equal(code);
    expect(result.err).to.contain(message);
  };

  it('when tenants are added, then they are listed, and a duplicate or bad slug is refused with 65', async () => {
    expect(
      (await run(['tenant', 'add', '--slug', 'hartford', '--name', 'Hartford Public Schools']))
        .code,
    ).to.equal(0);
    const duplicate = await run(['tenant', 'add', '--slug', 'hartford', '--name', 'Again']);
    expectRefused(duplicate, 65, 'already exists');
    const bad = await run(['tenant', 'add', '--slug', 'Bad Slug', '--name', 'x']);
    expectRefused(bad, 65, 'tenant slug');
    const list = await run(['tenant', 'list']);
    expect(list.out).to.contain('hartford').and.to.contain('Hartford Public Schools');
  });

  it('when platforms are added from presets, then Canvas and Moodle endpoints are filled in', async () => {
    const tenant = await freshTenant();
    const canvas = await addPlatform('canvas', `2000000000${next()}`);
    expect(canvas.code).to.equal(0);
    expect(canvas.out).to.contain('https://sso.canvaslms.com/api/lti/authorize_redirect');
    const moodle = await addPlatform(
      'moodle',
      `abc-${next()}`,
      '--issuer',
      'https://moodle.district.org',
    );
    expect(moodle.code).to.equal(0);
    expect(moodle.out)
      .to.contain('https://moodle.district.org/mod/lti/auth.php')
      .and.to.contain('https://moodle.district.org/mod/lti/token.php')
      .and.to.contain('https://moodle.district.org/mod/lti/certs.php');
    const capture = await addPlatform(
      'canvas-beta',
      `5-${next()}`,
      '--capture-first-deployment-for',
      tenant,
    );
    expect(capture.code).to.equal(0);
    expect(capture.out)
      .to.contain('https://canvas.beta.instructure.com')
      .and.to.contain('first launch will record its deployment');
    const captureUnknown = await addPlatform(
      'canvas-test',
      '5',
      '--capture-first-deployment-for',
      'nowhere',
    );
    expectRefused(captureUnknown, 65, 'No tenant has slug "nowhere"');
    const list = await run(['platform', 'list']);
    expect(list.out)
      .to.contain('https://canvas.instructure.com')
      .and.to.contain('https://moodle.district.org');
  });

  it('when platform input is wrong, then each rejection says what to fix', async () => {
    const badPreset = await addPlatform('blackboard', 'x');
    expectRefused(badPreset, 65, 'Unknown preset "blackboard"');

    const noClient = await run(['platform', 'add', '--preset', 'canvas']);
    expectRefused(noClient, 64, '--client-id is required');

    const badUrl = await addPlatform(
      'generic',
      'x',
      '--issuer',
      'https://lms.example.org',
      '--auth-login-url',
      'http://lms.example.org/auth',
      '--auth-token-url',
      'https://lms.example.org/token',
      '--jwks-url',
      'not a url',
    );
    expect(badUrl.code).to.equal(65);
    expect(badUrl.err)
      .to.contain('--auth-login-url must use https://')
      .and.to.contain('--jwks-url is not a URL');

    const moodleWithoutIssuer = await addPlatform('moodle', 'x');
    expectRefused(moodleWithoutIssuer, 65, 'needs --issuer');

    const clientId = `3000000000${next()}`;
    expect((await addPlatform('canvas', clientId)).code).to.equal(0);
    const duplicate = await addPlatform('canvas', clientId);
    expectRefused(duplicate, 65, 'already registered');

    const unknownOption = await addPlatform('canvas', '1', '--colour', 'red');
    expect(unknownOption.code).to.equal(64);
  });

  it('when deployments are added, then unknown tenants are refused and odd Canvas ids only warn', async () => {
    const tenant = await freshTenant();
    const canvasId = await freshCanvas();
    const unknownTenant = await addCanvasDeployment(canvasId, '1:abc', 'nowhere');
    expectRefused(unknownTenant, 65, 'No tenant has slug "nowhere"');

    const odd = await addCanvasDeployment(canvasId, '10408', tenant);
    expect(odd.code).to.equal(0);
    expect(odd.err).to.contain('Warning: Canvas deployment ids usually look like');

    const good = await addCanvasDeployment(
      canvasId,
      `10408:${'a'.repeat(40)}`,
      tenant,
      '--label',
      'High schools',
    );
    expect(good.code).to.equal(0);
    expect(good.err).to.equal('');

    const list = await run(['deployment', 'list']);
    expect(list.out).to.contain(tenant).and.to.contain('High schools');

    const inUse = await run(['platform', 'remove', '--id', canvasId]);
    expectRefused(inUse, 65, 'remove them first');

    const oddId = idIn(odd.out);
    expect((await run(['deployment', 'remove', '--id', oddId])).code).to.equal(0);
    expect((await run(['deployment', 'remove', '--id', oddId])).code).to.equal(65);
  });

  it('when keys are rotated from the command line, then a current and a next key are listed', async () => {
    const rotate = await run(['keys', 'rotate']);
    expect(rotate.code).to.equal(0);
    expect(rotate.out).to.contain('Published next key');
    const tooSoon = await run(['keys', 'rotate']);
    expectRefused(tooSoon, 65, '--force');
    const list = await run(['keys', 'list']);
    expect(list.out)
      .to.match(/current/)
      .and.to.match(/next/);
    const noVar = await run(['keys', 'reencrypt', '--from-secret-env', 'OLD_SECRET_UNSET']);
    expect(noVar.code).to.equal(64);
  });

  it('when admin users are created, then the password comes from input or is generated once, and users can be disabled', async () => {
    const tenant = await freshTenant();
    const typed = await run(['admin', 'create', '--username', 'ops', '--tenant', tenant], {
      readPassword: () => Promise.resolve('correct horse battery staple'),
    });
    expect(typed.code).to.equal(0);
    const generated = await run(['admin', 'create', '--username', 'root', '--generate']);
    expect(generated.code).to.equal(0);
    expect(generated.out).to.match(/Password \(shown once, store it now\): \S{24}/);
    const short = await run(['admin', 'create', '--username', 'weak'], {
      readPassword: () => Promise.resolve('short'),
    });
    expect(short.code).to.equal(65);
    const duplicate = await run(['admin', 'create', '--username', 'ops', '--generate']);
    expect(duplicate.code).to.equal(65);
    expect((await run(['admin', 'disable', '--username', 'ops'])).code).to.equal(0);
    const list = await run(['admin', 'list']);
    expect(list.out)
      .to.match(new RegExp(`ops\\s+${tenant}\\s+disabled`))
      .and.to.match(/root\s+\(all\)\s+enabled/);
  });

  it('when a subcommand is missing or unknown, then it exits 64 with a hint', async () => {
    const missing = await run(['tenant']);
    expect(missing.code).to.equal(64);
    expect(missing.err).to.contain('tenant add');
  });
});
