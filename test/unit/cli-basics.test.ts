import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runCli } from '../../src/cli.ts';

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      env: { NODE_ENV: 'test', ...env },
      stdout: (l: string) => out.push(l),
      stderr: (l: string) => err.push(l),
    },
    out,
    err,
  };
}

describe('command line: basics', function () {
  this.timeout(30_000);

  it('when asked for help, then it lists the commands and exits 0', async () => {
    const { io: cliIo, out } = io();
    expect(await runCli(['--help'], cliIo)).to.equal(0);
    expect(out.join('\n')).to.contain('migrate');
  });

  it('when given no command, then it prints the usage and exits 64', async () => {
    const { io: cliIo, out } = io();
    expect(await runCli([], cliIo)).to.equal(64);
    expect(out.join('\n')).to.match(/^Usage: mastery-pathways/);
  });

  it('when given an unknown command, then it says so and exits 64', async () => {
    const { io: cliIo, err } = io();
    expect(await runCli(['frobnicate'], cliIo)).to.equal(64);
    expect(err.join('\n')).to.contain('Unknown command "frobnicate"');
  });

  it('when the configuration is invalid, then it names the variable and exits 78', async () => {
    const { io: cliIo, err } = io({ DB_POOL_MAX: 'lots' });
    expect(await runCli(['migrate'], cliIo)).to.equal(78);
    expect(err.join('\n')).to.contain('DB_POOL_MAX: ');
  });

  it('when migrate runs twice on the embedded database, then the second run has nothing to do', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'mp-cli-')), 'pglite');
    const first = io({ DATA_DIR: dataDir });
    expect(await runCli(['migrate'], first.io)).to.equal(0);
    // A fresh folder starts from the build's migrated template when there is one.
    expect(first.out.join('\n')).to.match(/Applied \d+ migration\(s\)|is up to date/);
    const second = io({ DATA_DIR: dataDir });
    expect(await runCli(['migrate'], second.io)).to.equal(0);
    expect(second.out.join('\n')).to.contain('is up to date');
    const status = io({ DATA_DIR: dataDir });
    expect(await runCli(['migrate:status'], status.io)).to.equal(0);
    expect(status.out.join('\n')).to.contain('applied  20261127T0400-create-tenants');
    expect(status.out.join('\n')).not.to.contain('pending');
  });
});
