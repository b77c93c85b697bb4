/**
 * Builds the standards tree from parent links (CASE `isChildOf`, CSV parent columns): picks one tree
 * parent per item, orders siblings, finds cycles. Shared by every import format.
 */

export interface ParentLink {
  readonly childGuid: string;
  /** null = top level (CASE: the destination is the CFDocument). */
  readonly parentGuid: string | null;
  readonly sequenceNumber?: number;
  /** Position of the link in the file: breaks ties and orders links without a sequence number. */
  readonly position: number;
}

export interface TreePlacement {
  readonly parentGuid: string | null;
  readonly order: number;
}

export interface TreeResult {
  readonly placement: ReadonlyMap<string, TreePlacement>;
  /** Items with more than one parent link: the first by sequence is the tree parent. */
  readonly multiParent: readonly { childGuid: string; parents: readonly (string | null)[] }[];
  /** Items with no parent link at all: placed at the top level after the linked items. */
  readonly orphans: readonly string[];
  /** Each cycle once, as the GUIDs along it. */
  readonly cycles: readonly (readonly string[])[];
}

function compareLinks(a: ParentLink, b: ParentLink): number {
  // CASE: sequenceNumber orders siblings; links without one come after, in file order.
  const sa = a.sequenceNumber ?? Number.POSITIVE_INFINITY;
  const sb = b.sequenceNumber ?? Number.POSITIVE_INFINITY;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.position - b.position;
}

export function buildTree(itemGuids: readonly string[], links: readonly ParentLink[]): TreeResult {
  const byChild = new Map<string, ParentLink[]>();
  for (const link of links) {
    const list = byChild.get(link.childGuid);
    if (list) list.push(link);
    else byChild.set(link.childGuid, [link]);
  }

  const primary: ParentLink[] = [];
  const multiParent: { childGuid: string; parents: (string | null)[] }[] = [];
  const orphans: string[] = [];
  let orphanPosition = links.length;
  for (const guid of itemGuids) {
    const own = byChild.get(guid);
    if (!own || own.length === 0) {
      orphans.push(guid);
      primary.push({ childGuid: guid, parentGuid: null, position: orphanPosition++ });
      continue;
    }
    const sorted = own.length === 1 ? own : [...own].sort(compareLinks);
    const first = sorted[0];
    if (first) primary.push(first);
    if (sorted.length > 1) {
      multiParent.push({ childGuid: guid, parents: sorted.map((l) => l.parentGuid) });
    }
  }

  const siblings = new Map<string | null, ParentLink[]>();
  for (const link of primary) {
    const list = siblings.get(link.parentGuid);
    if (list) list.push(link);
    else siblings.set(link.parentGuid, [link]);
  }
  const placement = new Map<string, TreePlacement>();
  for (const [parentGuid, list] of siblings) {
    list.sort(compareLinks);
    list.forEach((link, index) => placement.set(link.childGuid, { parentGuid, order: index + 1 }));
  }

  return { placement, multiParent, orphans, cycles: findCycles(itemGuids, placement) };
}

function findCycles(
  itemGuids: readonly string[],
  placement: ReadonlyMap<string, TreePlacement>,
): string[][] {
  const done = new Set<string>();
  const cycles: string[][] = [];
  for (const start of itemGuids) {
    if (done.has(start)) continue;
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let current: string | null = start;
    while (current !== null && !done.has(current)) {
      const seenAt = onPath.get(current);
      if (seenAt !== undefined) {
        cycles.push(path.slice(seenAt));
        break;
      }
      onPath.set(current, path.length);
      path.push(current);
      current = placement.get(current)?.parentGuid ?? null;
    }
    for (const guid of path) done.add(guid);
  }
  return cycles;
}
