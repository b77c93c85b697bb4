import { runCli, type CliIo } from '../../src/cli.ts';

export const CLI_TEST_SECRET = 'cli-test-secret-that-is-long-enough-0123456789';

/** Runs the command line against the embedded database in `dataDir`, capturing its output. */
export async function runCliIn(
  dataDir: () => string,
  argv: string[],
  extra: Partial<CliIo> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: { NODE_ENV: 'test', DATA_DIR: dataDir(), KEY_ENCRYPTION_SECRET: CLI_TEST_SECRET },
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    ...extra,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
