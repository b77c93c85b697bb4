import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { paths } from '../../src/paths.ts';
import { TEST_METRICS_TOKEN } from './app.ts';

/** The real service started as a child process, the way `npm start` runs it (without building). */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly logLines: () => Record<string, unknown>[];
  /** Resolves with the bound port once the "listening" log line appears. */
  readonly port: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServiceProcess(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [path.join(paths.root, 'src/main.ts')], {
    cwd: paths.root,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let resolvePort: (port: number) => void = () => undefined;
  let rejectPort: (error: Error) => void = () => undefined;
  const port = new Promise<number>((resolve, reject) => {
    resolvePort = resolve;
    rejectPort = reject;
  });
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    const match = /"port":(\d+),[^\n]*"msg":"listening"/.exec(out);
    if (match?.[1]) resolvePort(Number(match[1]));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'close' (not 'exit') so that all output has been read when it resolves.
  const exited = once(child, 'close').then(([code, signal]) => {
    rejectPort(new Error(`service exited before listening:\n${out}`));
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    child,
    output: () => out,
    logLines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    port,
    exited,
  };
}

export async function waitFor(
  check: () => Promise<boolean>,
  { timeoutMs = 20_000, intervalMs = 100 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
