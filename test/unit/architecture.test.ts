import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

/**
 * `docs/ARCHITECTURE.md`'s folder table is the truth: this test reads its "may import" column,
 * builds the import graph of `src/` and fails on any import the table does not allow and on any
 * cycle between folders. A node is a folder directly under `src/` (`storage`) or a top-level
 * module (`app-services.ts`); imports inside one node are its own business.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = path.join(ROOT, 'src');
const DOC = path.join(ROOT, 'docs', 'ARCHITECTURE.md');

/** The modules every row may import unless its cell says `nothing of ours`. */
const SHARED = ['errors.ts', 'ids.ts', 'logger.ts', 'csv.ts', 'domain'];

interface Rule {
  /** The nodes this row may import, or 'everything'. */
  readonly allowed: ReadonlySet<string> | 'everything';
}

interface Import {
  readonly file: string;
  readonly specifier: string;
  readonly from: string;
  readonly to: string;
}

/** `src/storage/` → `storage`, `src/app-services.ts` → `app-services.ts`. */
function nodeOfPath(written: string): string {
  const inner = written.replace(/^src\//, '').replace(/\/$/, '');
  if (inner.includes('/') || inner === '') throw new Error(`not a folder of src/: ${written}`);
  return inner;
}

/** The table under "Folders and the rules between them": node → what it may import. */
function readTable(): Map<string, Rule> {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf('## Folders and the rules between them');
  if (start < 0) throw new Error('docs/ARCHITECTURE.md has no folder table section');
  const rows = doc
    .slice(start)
    .split('\n')
    .filter((line) => line.startsWith('| `src/'));
  const rules = new Map<string, Rule>();
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    const [folders, , mayImport] = cells.slice(1, 4);
    if (folders === undefined || mayImport === undefined) throw new Error(`bad row: ${row}`);
    const nodes = [...folders.matchAll(/`([^`]+)`/g)].map((m) => nodeOfPath(m[1] ?? ''));
    for (const node of nodes) rules.set(node, { allowed: parseMayImport(mayImport) });
  }
  return rules;
}

function parseMayImport(cell: string): Rule['allowed'] {
  const words = cell.replace(/\([^)]*\)/g, '').trim();
  if (words === 'everything') return 'everything';
  if (words.startsWith('nothing of ours')) return new Set();
  const allowed = new Set(SHARED);
  for (const item of words.split(',')) {
    const name = item.trim().replace(/`/g, '').split(/\s+/)[0];
    if (name !== undefined && name !== '') allowed.add(name);
  }
  return allowed;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Static imports and re-exports (`import type` too) and dynamic `import('…')` of relative paths. */
const IMPORT =
  /(?:\bimport|\bexport)\s[^'";]*?\bfrom\s*['"](\.[^'"]+)['"]|\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)|\bimport\s*['"](\.[^'"]+)['"]/g;

function nodeOfFile(file: string): string {
  const [first] = path.relative(SRC, file).split(path.sep);
  return first ?? '';
}

function readImports(): Import[] {
  const imports: Import[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? '';
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(SRC + path.sep)) continue;
      const from = nodeOfFile(file);
      const to = nodeOfFile(target);
      if (from !== to) imports.push({ file: path.relative(ROOT, file), specifier, from, to });
    }
  }
  return imports;
}

/** Folder cycles: the strongly connected components of more than one node (Tarjan). */
function folderCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    indexOf.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, indexOf.get(next) ?? 0));
      }
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...edges.keys()].sort()) if (!indexOf.has(node)) visit(node);
  return components;
}

/** One cycle through a component, written as a path (`a → b → a`), so the report names it. */
function cyclePath(
  component: readonly string[],
  edges: ReadonlyMap<string, ReadonlySet<string>>,
): string {
  const inside = new Set(component);
  const start = component[0] ?? '';
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() ?? '';
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (!inside.has(next)) continue;
      if (next === start) {
        const route = [node];
        while (route[0] !== start) route.unshift(previous.get(route[0] ?? '') ?? start);
        return [...route, start].join(' → ');
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return component.join(' ⇄ ');
}

describe('architecture: the folder table of docs/ARCHITECTURE.md', () => {
  const rules = readTable();
  const imports = readImports();

  it('when a folder or top-level module of src/ exists, then the table has its row', () => {
    const nodes = new Set(
      readdirSync(SRC, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() || entry.name.endsWith('.ts'))
        .map((entry) => entry.name),
    );
    const missing = [...nodes].filter((node) => !rules.has(node)).sort();
    expect(missing, 'folders and modules of src/ with no row in the table').to.deep.equal([]);
    const unknown = [...rules.values()]
      .flatMap((rule) => (rule.allowed === 'everything' ? [] : [...rule.allowed]))
      .filter((name) => !rules.has(name));
    expect([...new Set(unknown)], 'names in "may import" that are no folder of src/').to.deep.equal(
      [],
    );
  });

  it('when a file imports another folder, then the table allows that arrow', () => {
    const violations = imports
      .filter(({ from, to }) => {
        const allowed = rules.get(from)?.allowed;
        return allowed !== 'everything' && allowed?.has(to) !== true;
      })
      .map(({ file, specifier, from, to }) => `${file} imports ${specifier} (${from} ↛ ${to})`);
    expect(violations, 'imports the folder table does not allow').to.deep.equal([]);
  });

  it('when the folders import each other, then no cycle appears', () => {
    const edges = new Map<string, Set<string>>();
    for (const { from, to } of imports) {
      const targets = edges.get(from) ?? new Set<string>();
      targets.add(to);
      edges.set(from, targets);
    }
    const cycles = folderCycles(edges).map((component) => cyclePath(component, edges));
    expect(cycles, 'folder cycles').to.deep.equal([]);
  });
});
