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

  let canvasId: string;

  it('when tenants are added, then they are listed, and a duplicate or bad slug is refused with 65', async () => {
    expect(
      (await run(['tenant', 'add', '--slug', 'hartford', '--name', 'Hartford Public Schools']))
        .code,
    ).to.equal(0);
    const duplicate = await run(['tenant', 'add', '--slug', 'hartford', '--name', 'Again']);
    expect(duplicate).to.deep.include({ code: 65 });
    expect(duplicate.err).to.contain('already exists');
    const bad = await run(['tenant', 'add', '--slug', 'Bad Slug', '--name', 'x']);
    expect(bad.code).to.equal(65);
    expect(bad.err).to.contain('tenant slug');
    const list = await run(['tenant', 'list']);
    expect(list.out).to.contain('hartford').and.to.contain('Hartford Public Schools');
  });

  it('when platforms are added from presets, then Canvas and Moodle endpoints are filled in', async () => {
    const canvas = await run([
      'platform',
      'add',
      '--preset',
      'canvas',
      '--client-id',
      '10000000000001',
    ]);
    expect(canvas.code).to.equal(0);
    expect(canvas.out).to.contain('https://sso.canvaslms.com/api/lti/authorize_redirect');
    canvasId = idIn(canvas.out);
    const moodle = await run([
      'platform',
      'add',
      '--preset',
      'moodle',
      '--client-id',
      'abc',
      '--issuer',
      'https://moodle.district.org',
    ]);
    expect(moodle.code).to.equal(0);
    expect(moodle.out)
      .to.contain('https://moodle.district.org/mod/lti/auth.php')
      .and.to.contain('https://moodle.district.org/mod/lti/token.php')
      .and.to.contain('https://moodle.district.org/mod/lti/certs.php');
    const capture = await run([
      'platform',
      'add',
      '--preset',
      'canvas-beta',
      '--client-id',
      '5',
      '--capture-first-deployment-for',
      'hartford',
    ]);
    expect(capture.code).to.equal(0);
    expect(capture.out)
      .to.contain('https://canvas.beta.instructure.com')
      .and.to.contain('first launch will record its deployment');
    const captureUnknown = await run([
      'platform',
      'add',
      '--preset',
      'canvas-test',
      '--client-id',
      '5',
      '--capture-first-deployment-for',
      'nowhere',
    ]);
    expect(captureUnknown.code).to.equal(65);
    expect(captureUnknown.err).to.contain('No tenant has slug "nowhere"');
    const list = await run(['platform', 'list']);
    expect(list.out)
      .to.contain('https://canvas.instructure.com')
      .and.to.contain('https://moodle.district.org');
  });

  it('when platform input is wrong, then each rejection says what to fix', async () => {
    const badPreset = await run(['platform', 'add', '--preset', 'blackboard', '--client-id', 'x']);
    expect(badPreset.code).to.equal(65);
    expect(badPreset.err).to.contain('Unknown preset "blackboard"');

    const noClient = await run(['platform', 'add', '--preset', 'canvas']);
    expect(noClient.code).to.equal(64);
    expect(noClient.err).to.contain('--client-id is required');

    const badUrl = await run([
      'platform',
      'add',
      '--preset',
      'generic',
      '--client-id',
      'x',
      '--issuer',
      'https://lms.example.org',
      '--auth-login-url',
      'http://lms.example.org/auth',
      '--auth-token-url',
      'https://lms.example.org/token',
      '--jwks-url',
      'not a url',
    ]);
    expect(badUrl.code).to.equal(65);
    expect(badUrl.err)
      .to.contain('--auth-login-url must use https://')
      .and.to.contain('--jwks-url is not a URL');

    const moodleWithoutIssuer = await run([
      'platform',
      'add',
      '--preset',
      'moodle',
      '--client-id',
      'x',
    ]);
    expect(moodleWithoutIssuer.code).to.equal(65);
    expect(moodleWithoutIssuer.err).to.contain('needs --issuer');

    const duplicate = await run([
      'platform',
      'add',
      '--preset',
      'canvas',
      '--client-id',
      '10000000000001',
    ]);
    expect(duplicate.code).to.equal(65);
    expect(duplicate.err).to.contain('already registered');

    const unknownOption = await run([
      'platform',
      'add',
      '--preset',
      'canvas',
      '--client-id',
      '1',
      '--colour',
      'red',
    ]);
    expect(unknownOption.code).to.equal(64);
  });

  it('when deployments are added, then unknown tenants are refused and odd Canvas ids only warn', async () => {
    const unknownTenant = await run([
      'deployment',
      'add',
      '--platform-id',
      canvasId,
      '--deployment-id',
      '1:abc',
      '--tenant',
      'nowhere',
    ]);
    expect(unknownTenant.code).to.equal(65);
    expect(unknownTenant.err).to.contain('No tenant has slug "nowhere"');

    const odd = await run([
      'deployment',
      'add',
      '--platform-id',
      canvasId,
      '--deployment-id',
      '10408',
      '--tenant',
      'hartford',
    ]);
    expect(odd.code).to.equal(0);
    expect(odd.err).to.contain('Warning: Canvas deployment ids usually look like');

    const good = await run([
      'deployment',
      'add',
      '--platform-id',
      canvasId,
      '--deployment-id',
      `10408:${'a'.repeat(40)}`,
      '--tenant',
      'hartford',
      '--label',
      'High schools',
    ]);
    expect(good.code).to.equal(0);
    expect(good.err).to.equal('');

    const list = await run(['deployment', 'list']);
    expect(list.out).to.contain('hartford').and.to.contain('High schools');

    const inUse = await run(['platform', 'remove', '--id', canvasId]);
    expect(inUse.code).to.equal(65);
    expect(inUse.err).to.contain('remove them first');

    const oddId = idIn(odd.out);
    expect((await run(['deployment', 'remove', '--id', oddId])).code).to.equal(0);
    expect((await run(['deployment', 'remove', '--id', oddId])).code).to.equal(65);
  });

  it('when keys are rotated from the command line, then a current and a next key are listed', async () => {
    const rotate = await run(['keys', 'rotate']);
    expect(rotate.code).to.equal(0);
    expect(rotate.out).to.contain('Published next key');
    const tooSoon = await run(['keys', 'rotate']);
    expect(tooSoon.code).to.equal(65);
    expect(tooSoon.err).to.contain('--force');
    const list = await run(['keys', 'list']);
    expect(list.out)
      .to.match(/current/)
      .and.to.match(/next/);
    const noVar = await run(['keys', 'reencrypt', '--from-secret-env', 'OLD_SECRET_UNSET']);
    expect(noVar.code).to.equal(64);
  });

  it('when admin users are created, then the password comes from input or is generated once, and users can be disabled', async () => {
    const typed = await run(['admin', 'create', '--username', 'ops', '--tenant', 'hartford'], {
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
      .to.match(/ops\s+hartford\s+disabled/)
      .and.to.match(/root\s+\(all\)\s+enabled/);
  });

  it('when a subcommand is missing or unknown, then it exits 64 with a hint', async () => {
    const missing = await run(['tenant']);
    expect(missing.code).to.equal(64);
    expect(missing.err).to.contain('tenant add');
  });
});
