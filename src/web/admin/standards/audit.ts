import type { AuditEntry, ItemSnapshot } from '../../../standards/authoring.ts';

/** View model of a framework's audit trail: what each change did, field by field. */

export const AUDIT_ACTIONS: Readonly<Record<string, string>> = {
  framework_created: 'Created the framework',
  item_added: 'Added a standard',
  item_edited: 'Edited a standard',
  item_moved: 'Moved a standard',
  item_archived: 'Archived a standard',
  item_restored: 'Restored a standard',
};

const SNAPSHOT_FIELDS: readonly [keyof ItemSnapshot, string][] = [
  ['code', 'Code'],
  ['fullStatement', 'Statement'],
  ['abbreviatedStatement', 'Short statement'],
  ['itemType', 'Type'],
  ['educationLevels', 'Grades'],
  ['parentId', 'Parent'],
  ['position', 'Position'],
];

export function auditChanges(
  entry: AuditEntry,
  labelOfItem: (id: string | null) => string,
): { field: string; before: string; after: string }[] {
  const before = (entry.before ?? {}) as Partial<ItemSnapshot>;
  const after = (entry.after ?? {}) as Partial<ItemSnapshot>;
  const show = (key: keyof ItemSnapshot, value: unknown): string => {
    if (value === undefined || value === null || value === '') return '(none)';
    if (key === 'parentId') return labelOfItem(value as string);
    if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(', ');
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  };
  if (entry.action === 'framework_created') {
    const created = (entry.after ?? {}) as { title?: string };
    return [{ field: 'Title', before: '', after: created.title ?? '' }];
  }
  if (entry.action === 'item_archived' || entry.action === 'item_restored') return [];
  const out: { field: string; before: string; after: string }[] = [];
  for (const [key, label] of SNAPSHOT_FIELDS) {
    const a = JSON.stringify(before[key] ?? null);
    const b = JSON.stringify(after[key] ?? null);
    if (entry.action === 'item_added' ? b !== 'null' && b !== '[]' : a !== b) {
      out.push({
        field: label,
        before: entry.action === 'item_added' ? '' : show(key, before[key]),
        after: show(key, after[key]),
      });
    }
  }
  return out;
}
