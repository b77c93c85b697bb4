import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { validate } from 'dockerfile-utils';
import { parse } from 'yaml';
import { paths } from '../../src/paths.ts';

const read = (file: string): string => readFileSync(path.join(paths.root, file), 'utf8');

describe('packaging', () => {
  it('the Dockerfile parses cleanly, builds on node:24-slim, runs as a non-root user and has a health check', () => {
    const dockerfile = read('Dockerfile');
    const problems = validate(dockerfile).map(
      (d) =>
        `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
    expect(problems).to.deep.equal([]);
    const stages = dockerfile.split('\n').filter((l) => l.startsWith('FROM '));
    expect(stages.every((l) => l.startsWith('FROM node:24-slim'))).to.equal(true);
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(finalStage).to.match(/\nUSER node\n/);
    expect(finalStage).to.contain('HEALTHCHECK');
    expect(finalStage).to.contain('/healthz');
    expect(finalStage).to.contain('COPY --from=deps /app/node_modules');
    expect(dockerfile).to.contain('npm ci --omit=dev');
  });

  it('docker compose runs the tool with PostgreSQL 16 and waits for it to be healthy', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<
        string,
        {
          image?: string;
          depends_on?: Record<string, { condition: string }>;
          environment?: Record<string, string>;
          healthcheck?: unknown;
        }
      >;
    };
    expect(Object.keys(compose.services)).to.have.members(['tool', 'postgres']);
    expect(compose.services.postgres?.image).to.equal('postgres:16');
    expect(compose.services.postgres?.healthcheck).to.not.equal(undefined);
    expect(compose.services.tool?.depends_on?.postgres?.condition).to.equal('service_healthy');
    expect(compose.services.tool?.environment?.DATABASE_URL).to.match(
      /^postgres:\/\/.*@postgres:5432\//,
    );
  });

  it('package.json declares Node >= 22 and the mastery-pathways command', () => {
    const pkg = JSON.parse(read('package.json')) as {
      engines: { node: string };
      bin: Record<string, string>;
    };
    expect(pkg.engines.node).to.match(/^>=22/);
    expect(pkg.bin['mastery-pathways']).to.equal('bin/mastery-pathways.js');
  });
});
