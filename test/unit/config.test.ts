import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, defaultConfigFiles, loadConfig } from '../../src/config/load.ts';
import { SETTINGS } from '../../src/config/schema.ts';
import { paths } from '../../src/paths.ts';

const files = defaultConfigFiles(paths.config, 'test');

function problemsFor(env: Record<string, string>, configFiles = files): readonly string[] {
  try {
    loadConfig({ env: { NODE_ENV: 'test', ...env }, files: configFiles });
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  expect.fail('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('when nothing is set, then the committed defaults give a runnable config on the embedded database', () => {
    const config = loadConfig({ env: {}, files });
    expect(config.server.port).to.equal(3000);
    expect(config.database.url).to.equal(undefined);
    expect(config.database.dataDir).to.equal('./data/pglite');
    expect(config.server.publicUrl).to.equal('http://localhost:3000');
    expect(Object.isFrozen(config)).to.equal(true);
  });

  it('when environment variables are set, then they override the files and are converted to their types', () => {
    const config = loadConfig({
      env: {
        PORT: '8080',
        TRUST_PROXY: 'true',
        PUBLIC_URL: 'https://mastery.district.example/',
        DATABASE_URL: 'postgres://app:pw@db:5432/mastery',
        FRAME_ANCESTORS: 'https://a.instructure.com, https://b.schoology.com',
      },
      files,
    });
    expect(config.server.port).to.equal(8080);
    expect(config.server.trustProxy).to.equal(true);
    expect(config.server.publicUrl).to.equal('https://mastery.district.example');
    expect(config.database.url).to.equal('postgres://app:pw@db:5432/mastery');
    expect(config.security.frameAncestors).to.deep.equal([
      'https://a.instructure.com',
      'https://b.schoology.com',
    ]);
  });

  it('when a port is not a number, then the error names PORT, what it expects and what it got', () => {
    const problems = problemsFor({ PORT: 'eighty' });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^PORT: /);
    expect(problems[0]).to.contain('a whole number from 0 to 65535');
    expect(problems[0]).to.contain('"eighty"');
  });

  it('when several settings are wrong, then every one is listed at once', () => {
    const problems = problemsFor({
      PORT: '70000',
      LOG_LEVEL: 'loud',
      PUBLIC_URL: 'http://mastery.district.example',
      FRAME_ANCESTORS: 'https://ok.example,https://bad.example/path',
    });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).to.have.members(['PORT', 'LOG_LEVEL', 'PUBLIC_URL', 'FRAME_ANCESTORS']);
    expect(problems.find((p) => p.startsWith('PUBLIC_URL'))).to.contain('https://');
  });

  it('when DATABASE_URL is not a postgres URL, then the error says so without echoing the secret', () => {
    const problems = problemsFor({ DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(problems[0]).to.match(/^DATABASE_URL: must be a postgres/);
    expect(problems.join('\n')).not.to.contain('hunter2');
    expect(problems[0]).to.contain('(value hidden)');
  });

  it('when NODE_ENV is production without a key-encryption secret, then start is refused with how to make one', () => {
    const problems = problemsFor({ NODE_ENV: 'production' });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^KEY_ENCRYPTION_SECRET/);
    expect(problems[0]).to.contain('openssl rand');
  });

  it('when the key-encryption secret is too short, then it is rejected and not echoed', () => {
    const problems = problemsFor({ KEY_ENCRYPTION_SECRET: 'short-secret' });
    expect(problems[0]).to.match(/^KEY_ENCRYPTION_SECRET: must be at least 32/);
    expect(problems[0]).not.to.contain('short-secret');
  });

  it('when NODE_ENV is unknown, then the error names NODE_ENV', () => {
    const problems = problemsFor({ NODE_ENV: 'staging' });
    expect(problems[0]).to.match(/^NODE_ENV: /);
  });

  it('when a config file holds a bad value, then the error names the file and key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mp-config-'));
    const file = path.join(dir, 'local.json');
    writeFileSync(file, JSON.stringify({ server: { port: -1 } }));
    const problems = problemsFor({}, [...files, { path: file, optional: false }]);
    expect(problems[0]).to.contain(`"server.port" in ${file}`);
  });

  it('when a config file is not valid JSON, then the error names the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mp-config-'));
    const file = path.join(dir, 'local.json');
    writeFileSync(file, '{ "server": ');
    const problems = problemsFor({}, [{ path: file, optional: false }]);
    expect(problems[0]).to.contain(file);
    expect(problems[0]).to.contain('not valid JSON');
  });

  it('when a required config file is missing, then the error names it; optional ones are skipped', () => {
    const missing = path.join(tmpdir(), 'mp-config-does-not-exist.json');
    expect(() =>
      loadConfig({ env: {}, files: [...files, { path: missing, optional: true }] }),
    ).not.to.throw();
    const problems = problemsFor({}, [{ path: missing, optional: false }]);
    expect(problems[0]).to.contain(missing);
  });

  it('documents every environment variable in the README', () => {
    const readme = readFileSync(path.join(paths.root, 'README.md'), 'utf8');
    const undocumented = SETTINGS.filter((s) => !readme.includes(`\`${s.env}\``)).map((s) => s.env);
    expect(undocumented).to.deep.equal([]);
  });

  it('when HOST is not set, then the tool listens on 127.0.0.1 only; the Docker image and docker-compose set 0.0.0.0', () => {
    expect(loadConfig({ env: {}, files }).server.host).to.equal('127.0.0.1');
    expect(loadConfig({ env: { HOST: '0.0.0.0' }, files }).server.host).to.equal('0.0.0.0');
    const dockerfile = readFileSync(path.join(paths.root, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).to.match(/^ENV [^]*?\bHOST=0\.0\.0\.0\b/m);
    const compose = readFileSync(path.join(paths.root, 'docker-compose.yml'), 'utf8');
    expect(compose).to.match(/^\s+HOST: '0\.0\.0\.0'$/m);
  });

  it('when ALLOW_LOOPBACK_REGISTRATION is not set, then loopback registration is off in every NODE_ENV; with NODE_ENV=production it cannot be turned on', () => {
    for (const nodeEnv of ['development', 'test']) {
      const config = loadConfig({ env: { NODE_ENV: nodeEnv }, files });
      expect(config.security.allowLoopbackRegistration, nodeEnv).to.equal(false);
    }
    expect(
      loadConfig({ env: { ALLOW_LOOPBACK_REGISTRATION: 'true' }, files }).security
        .allowLoopbackRegistration,
    ).to.equal(true);
    const problems = problemsFor({
      NODE_ENV: 'production',
      KEY_ENCRYPTION_SECRET: 'x'.repeat(40),
      PUBLIC_URL: 'https://mastery.example.org',
      ALLOW_LOOPBACK_REGISTRATION: 'true',
    });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(
      /^ALLOW_LOOPBACK_REGISTRATION: must not be "true" when NODE_ENV=production/,
    );
    expect(problemsFor({ ALLOW_LOOPBACK_REGISTRATION: 'yes' })[0]).to.match(
      /^ALLOW_LOOPBACK_REGISTRATION: /,
    );
  });

  it('when the session settings are left out, then sessions end after 60 idle minutes and 10 hours at most; bad values are refused at start', () => {
    expect(loadConfig({ env: {}, files }).session).to.deep.equal({ idleMinutes: 60, maxHours: 10 });
    expect(
      loadConfig({ env: { SESSION_IDLE_MINUTES: '30', SESSION_MAX_HOURS: '4' }, files }).session,
    ).to.deep.equal({ idleMinutes: 30, maxHours: 4 });
    const idle = problemsFor({ SESSION_IDLE_MINUTES: 'an hour' });
    expect(idle[0]).to.match(/^SESSION_IDLE_MINUTES: /);
    expect(idle[0]).to.contain('"an hour"');
    expect(problemsFor({ SESSION_MAX_HOURS: '0' })[0]).to.match(/^SESSION_MAX_HOURS: /);
    expect(problemsFor({ SESSION_MAX_HOURS: '25' })[0]).to.match(/^SESSION_MAX_HOURS: /);
    const longer = problemsFor({ SESSION_IDLE_MINUTES: '180', SESSION_MAX_HOURS: '2' });
    expect(longer).to.have.length(1);
    expect(longer[0]).to.match(
      /^SESSION_IDLE_MINUTES: is longer than the session's whole lifetime/,
    );
  });

  it('when METRICS_TOKEN is short, then it is refused without echoing it', () => {
    const problems = problemsFor({ METRICS_TOKEN: 'short-token' });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^METRICS_TOKEN: must be at least 32 characters long/);
    expect(problems[0]).not.to.contain('short-token');
    expect(problems[0]).to.contain('(value hidden)');
  });
});
