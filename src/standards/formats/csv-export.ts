import { toCsv } from '../../csv.ts';
import type { StandardsCsvForm } from './csv-import.ts';
import type { Framework, Item } from '../../domain/standards-model.ts';

// The formula guard and the CSV writer are the app's one CSV writer (`src/csv.ts`).
export { guardCsvText } from '../../csv.ts';

/** All parents of each item: the tree parent first, then other isChildOf destinations that are items. */
function parentsOf(framework: Framework): Map<string, string[]> {
  const itemGuids = new Set(framework.items.map((item) => item.guid));
  const parents = new Map<string, string[]>();
  for (const item of framework.items) {
    parents.set(item.guid, item.parentGuid === null ? [] : [item.parentGuid]);
  }
  for (const association of framework.associations) {
    if (association.type !== 'isChildOf') continue;
    const list = parents.get(association.origin.identifier);
    const destination = association.destination.identifier;
    if (list && itemGuids.has(destination) && !list.includes(destination)) list.push(destination);
  }
  return parents;
}

/**
 * Row order for a CSV. A CSV has no sequence numbers: siblings are ordered by their rows. Keep the
 * framework's item order when it already lists siblings in `order` (and, for Canvas, every parent
 * before its children, which Canvas requires); otherwise write the tree depth-first.
 */
function rowOrder(
  framework: Framework,
  parents: ReadonlyMap<string, readonly string[]>,
  parentsBeforeChildren: boolean,
): Item[] {
  const seen = new Set<string>();
  const lastOrder = new Map<string | null, number>();
  const keepFileOrder = framework.items.every((item) => {
    const previous = lastOrder.get(item.parentGuid) ?? 0;
    lastOrder.set(item.parentGuid, item.order);
    const parentsOk =
      !parentsBeforeChildren || (parents.get(item.guid) ?? []).every((parent) => seen.has(parent));
    seen.add(item.guid);
    return parentsOk && item.order > previous;
  });
  if (keepFileOrder) return [...framework.items];

  const children = new Map<string | null, Item[]>();
  for (const item of framework.items) {
    const list = children.get(item.parentGuid);
    if (list) list.push(item);
    else children.set(item.parentGuid, [item]);
  }
  for (const list of children.values()) list.sort((a, b) => a.order - b.order);
  const out: Item[] = [];
  const stack: Item[] = [...(children.get(null) ?? [])].reverse();
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item) break;
    out.push(item);
    stack.push(...[...(children.get(item.guid) ?? [])].reverse());
  }
  return out;
}

/**
 * Writes the framework in one of the two CSV forms; `parseStandardsCsv` reads the result back with
 * the same items, tree, codes, statements (and, per form, grades and subjects or Canvas settings).
 *
 * Canvas form: an item is a group when it is one (itemType "Group") or has children, since Canvas
 * only lets groups contain outcomes. Simple form: an item without a code (or repeating an earlier
 * code) is keyed by its GUID, because that form identifies rows by code.
 */
export function exportStandardsCsv(framework: Framework, form: StandardsCsvForm): string {
  const parents = parentsOf(framework);
  if (form === 'simple') return exportSimple(framework, parents);
  return exportCanvas(framework, parents);
}

function exportSimple(
  framework: Framework,
  parents: ReadonlyMap<string, readonly string[]>,
): string {
  const keyOf = new Map<string, string>();
  const usedCodes = new Set<string>();
  for (const item of framework.items) {
    const code = item.code?.trim() ?? '';
    if (code !== '' && !usedCodes.has(code)) {
      usedCodes.add(code);
      keyOf.set(item.guid, code);
    } else {
      keyOf.set(item.guid, item.guid);
    }
  }
  const lines: string[][] = [['code', 'statement', 'parent_code', 'grade', 'subject']];
  for (const item of rowOrder(framework, parents, false)) {
    const parent = parents.get(item.guid)?.[0];
    lines.push([
      keyOf.get(item.guid) ?? item.guid,
      item.fullStatement,
      parent === undefined ? '' : (keyOf.get(parent) ?? parent),
      item.educationLevels.join(';'),
      (item.subjects ?? framework.subject).join(';'),
    ]);
  }
  return toCsv(lines);
}

function exportCanvas(
  framework: Framework,
  parents: ReadonlyMap<string, readonly string[]>,
): string {
  const hasChildren = new Set<string>();
  for (const list of parents.values()) for (const parent of list) hasChildren.add(parent);
  const items = rowOrder(framework, parents, true);
  const maxRatings = Math.max(0, ...items.map((item) => item.canvas?.ratings.length ?? 0));
  const ratingColumns = Math.max(1, maxRatings * 2);

  const header = [
    'vendor_guid',
    'object_type',
    'title',
    'description',
    'display_name',
    'calculation_method',
    'calculation_int',
    'workflow_state',
    'parent_guids',
    'mastery_points',
    'ratings',
    ...Array.from({ length: ratingColumns - 1 }, () => ''),
  ];
  const lines: string[][] = [header];
  for (const item of items) {
    const isGroup = item.itemType === 'Group' || hasChildren.has(item.guid);
    const canvas = isGroup ? undefined : item.canvas;
    const ratingCells = (canvas?.ratings ?? []).flatMap((rating) => [
      String(rating.points),
      rating.description,
    ]);
    while (ratingCells.length < ratingColumns) ratingCells.push('');
    lines.push([
      item.guid,
      isGroup ? 'group' : 'outcome',
      item.abbreviatedStatement ?? item.code ?? item.fullStatement,
      item.fullStatement,
      item.code ?? '',
      canvas?.calculationMethod ?? '',
      canvas?.calculationInt === undefined ? '' : String(canvas.calculationInt),
      item.canvas?.workflowState ?? '',
      (parents.get(item.guid) ?? []).join(' '),
      canvas?.masteryPoints === undefined ? '' : String(canvas.masteryPoints),
      ...ratingCells,
    ]);
  }
  return toCsv(lines);
}
