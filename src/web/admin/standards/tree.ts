import type { TreeRow } from '../../../standards/library.ts';
import { HttpError } from '../../errors.ts';

/** View models of the framework tree, shared by the framework and standard pages. */

export interface TreeNode {
  readonly id: string;
  readonly code: string;
  readonly statement: string;
  readonly type: string;
  readonly levels: string;
  readonly archived: boolean;
  readonly childCount: number;
}

/**
 * The tree as a flat list the view renders in one loop: `branch` opens a node with children (a
 * `<details>` and a nested list), `end` closes it, `leaf` is a node without children. Rendering
 * nested lists by recursive includes would compile the partial once per branch.
 */
export type TreeEvent =
  | { readonly kind: 'branch'; readonly node: TreeNode }
  | { readonly kind: 'leaf'; readonly node: TreeNode }
  | { readonly kind: 'end' };

/** Above this many standards, the tree shows only as many levels as fit (open a node for more). */
export const TREE_NODE_LIMIT = 1500;

/**
 * Events for the subtree under `rootId` (null: the whole framework), as deep as fits in
 * TREE_NODE_LIMIT nodes: deeper nodes are left out and their parent shows how many it has.
 */
export function treeEvents(items: readonly TreeRow[], rootId: string | null): TreeEvent[] {
  const children = new Map<string | null, TreeRow[]>();
  const ids = new Set(items.map((item) => item.id));
  for (const stored of items) {
    // Rows come siblings in order (position, then file order).
    const key = stored.parentId !== null && ids.has(stored.parentId) ? stored.parentId : null;
    const list = children.get(key);
    if (list) list.push(stored);
    else children.set(key, [stored]);
  }
  // The deepest level such that every node down to it fits in the limit (at least one level).
  let maxDepth = 0;
  let shown = 0;
  for (let level = children.get(rootId) ?? []; level.length > 0; maxDepth++) {
    shown += level.length;
    if (shown > TREE_NODE_LIMIT && maxDepth > 0) break;
    level = level.flatMap((stored) => children.get(stored.id) ?? []);
  }
  const events: TreeEvent[] = [];
  const visit = (parentId: string | null, depth: number): void => {
    for (const stored of children.get(parentId) ?? []) {
      const kids = children.get(stored.id)?.length ?? 0;
      const node: TreeNode = {
        id: stored.id,
        code: stored.code ?? '',
        statement: stored.fullStatement,
        type: stored.itemType ?? '',
        levels: stored.educationLevels.join(', '),
        archived: stored.archivedAt !== null,
        childCount: kids,
      };
      if (kids === 0 || depth + 1 >= maxDepth) {
        events.push({ kind: 'leaf', node });
        continue;
      }
      events.push({ kind: 'branch', node });
      visit(stored.id, depth + 1);
      events.push({ kind: 'end' });
    }
  };
  visit(rootId, 0);
  return events;
}

export const shorten = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

export function itemLabel(item: TreeRow | undefined): string {
  if (item === undefined) return 'a standard no longer in the framework';
  const code = item.code;
  return code === null
    ? `“${shorten(item.fullStatement, 60)}”`
    : `${code} “${shorten(item.fullStatement, 40)}”`;
}

export function levelsOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((level) => level.trim())
    .filter((level) => level !== '');
}

export function positionOf(text: string | undefined): number | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new HttpError(400, 'bad_request', 'The position is a whole number from 1 (first).');
  }
  return n;
}
