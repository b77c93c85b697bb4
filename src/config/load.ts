import { readFileSync } from 'node:fs';
import { configSchema, SETTINGS, type Config, type SettingSpec } from './schema.ts';

export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      `The configuration is not valid. Fix these settings and start again:\n${problems
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface ConfigSource {
  /** Usually `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** JSON files applied in order, later ones overriding earlier ones; missing optional files are skipped. */
  readonly files: readonly { readonly path: string; readonly optional: boolean }[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Tree = Record<string, Record<string, unknown>>;

/** Where each leaf value came from, for error messages that name what to change. */
type Origins = Map<string, string>;

const key = (path: readonly PropertyKey[]): string => path.map(String).join('.');

function readJsonFile(path: string): Json {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new ConfigError([`${path}: is not valid JSON (${(error as Error).message})`]);
  }
}

function mergeFile(tree: Tree, origins: Origins, path: string, content: Json): void {
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw new ConfigError([`${path}: must hold a JSON object with sections such as "server"`]);
  }
  for (const [section, values] of Object.entries(content)) {
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw new ConfigError([`${path}: "${section}" must be an object`]);
    }
    const target = (tree[section] ??= {});
    for (const [name, value] of Object.entries(values)) {
      target[name] = value;
      origins.set(`${section}.${name}`, `"${section}.${name}" in ${path}`);
    }
  }
}

function applyEnv(tree: Tree, origins: Origins, env: ConfigSource['env']): void {
  for (const setting of SETTINGS) {
    const raw = env[setting.env];
    if (raw === undefined || raw === '') continue;
    const [section, name] = setting.path;
    const target = (tree[section] ??= {});
    target[name] = setting.list
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : raw;
    origins.set(key(setting.path), setting.env);
  }
}

function describeValue(setting: SettingSpec | undefined, value: unknown): string {
  if (setting?.secret) return '(value hidden)';
  if (value === undefined) return 'nothing was set';
  return `got ${JSON.stringify(value)}`;
}

function lookup(tree: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = tree;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/**
 * Builds the configuration from JSON files and environment variables (environment wins) and
 * validates it. Throws a ConfigError that lists every problem, each naming the variable or file
 * key to change and what it expects. Secrets are never echoed.
 */
export function loadConfig(source: ConfigSource): Config {
  const tree: Tree = {};
  const origins: Origins = new Map();
  for (const file of source.files) {
    let content: Json;
    try {
      content = readJsonFile(file.path);
    } catch (error) {
      if (file.optional && (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      if (error instanceof ConfigError) throw error;
      throw new ConfigError([`${file.path}: cannot be read (${(error as Error).message})`]);
    }
    mergeFile(tree, origins, file.path, content);
  }
  applyEnv(tree, origins, source.env);

  const nodeEnv = source.env.NODE_ENV ?? 'development';
  const result = configSchema.safeParse({ ...tree, nodeEnv });
  if (result.success) return Object.freeze(result.data);

  const problems = result.error.issues.map((issue) => {
    // A list setting reports the index of the bad entry; name the setting as a whole.
    const settingPath = issue.path.slice(0, 2);
    const setting = SETTINGS.find((s) => key(s.path) === key(settingPath));
    if (key(issue.path) === 'nodeEnv') {
      return `NODE_ENV: ${issue.message}; expected development, production or test (got ${JSON.stringify(nodeEnv)})`;
    }
    const where =
      origins.get(key(settingPath)) ??
      (setting ? `${setting.env} (or "${key(setting.path)}" in a config file)` : key(issue.path));
    const expects = setting ? `; expected ${setting.expects}` : '';
    return `${where}: ${issue.message}${expects} (${describeValue(setting, lookup(tree, issue.path))})`;
  });
  throw new ConfigError(problems);
}

/** The files a deployment reads: committed defaults, then an optional per-environment file. */
export function defaultConfigFiles(
  configDir: string,
  nodeEnv: string | undefined,
): ConfigSource['files'] {
  return [
    { path: `${configDir}/default.json`, optional: false },
    { path: `${configDir}/${nodeEnv ?? 'development'}.json`, optional: true },
    { path: `${configDir}/local.json`, optional: true },
  ];
}

export type { Config };
