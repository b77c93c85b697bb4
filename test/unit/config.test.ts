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
});
