import type { FrameworkRow } from '../storage/standards/standards.repository.ts';
import type {
  AssociationContent,
  FrameworkContent,
  ItemContent,
  StoredItemRow,
} from '../storage/standards/content.ts';
import type { Association, Framework, Item, NodeRef } from '../domain/standards-model.ts';
import { compact } from './formats/problems.ts';

/**
 * Conversions between the standards model and table rows (`src/storage/standards/content.ts`).
 * Fields with a column of their own are the ones the app queries or shows; everything else the model
 * keeps travels in `extra` (jsonb) so an export gives back what was imported.
 */

export function itemContent(item: Item): ItemContent {
  return {
    guid: item.guid,
    uri: item.uri,
    code: item.code ?? null,
    full_statement: item.fullStatement,
    abbreviated_statement: item.abbreviatedStatement ?? null,
    item_type: item.itemType ?? null,
    education_levels: [...item.educationLevels],
    extra: compact({
      alternativeLabel: item.alternativeLabel,
      itemTypeRef: item.itemTypeRef,
      listEnumeration: item.listEnumeration,
      notes: item.notes,
      language: item.language,
      conceptKeywords: item.conceptKeywords,
      conceptKeywordsRef: item.conceptKeywordsRef,
      licenceRef: item.licenceRef,
      statusStartDate: item.statusStartDate,
      statusEndDate: item.statusEndDate,
      lastChangeDateTime: item.lastChangeDateTime,
      subjects: item.subjects,
      canvas: item.canvas,
      extensions: item.extensions,
    }),
    search: searchText(item.code, item.abbreviatedStatement, item.fullStatement),
  };
}

export function searchText(
  code: string | null | undefined,
  abbreviated: string | null | undefined,
  full: string,
): string {
  return [code, abbreviated, full]
    .filter((part): part is string => typeof part === 'string' && part !== '')
    .join(' ')
    .toLowerCase();
}

export function rowToItem(row: StoredItemRow, parentGuid: string | null, order: number): Item {
  const extra = row.extra;
  return compact({
    guid: row.guid,
    uri: row.uri,
    code: row.code ?? undefined,
    fullStatement: row.full_statement,
    abbreviatedStatement: row.abbreviated_statement ?? undefined,
    alternativeLabel: extra.alternativeLabel as string | undefined,
    itemType: row.item_type ?? undefined,
    itemTypeRef: extra.itemTypeRef as NodeRef | undefined,
    educationLevels: [...row.education_levels],
    listEnumeration: extra.listEnumeration as string | undefined,
    notes: extra.notes as string | undefined,
    language: extra.language as string | undefined,
    conceptKeywords: extra.conceptKeywords as string[] | undefined,
    conceptKeywordsRef: extra.conceptKeywordsRef as NodeRef | undefined,
    licenceRef: extra.licenceRef as NodeRef | undefined,
    statusStartDate: extra.statusStartDate as string | undefined,
    statusEndDate: extra.statusEndDate as string | undefined,
    lastChangeDateTime: extra.lastChangeDateTime as string | undefined,
    parentGuid,
    order,
    subjects: extra.subjects as string[] | undefined,
    canvas: extra.canvas as Item['canvas'] | undefined,
    extensions: extra.extensions as Item['extensions'] | undefined,
  });
}

export function frameworkContent(framework: Framework): FrameworkContent {
  return {
    case_guid: framework.caseGuid,
    uri: framework.uri,
    title: framework.title,
    creator: framework.creator,
    publisher: framework.publisher ?? null,
    version: framework.version ?? null,
    subjects: [...framework.subject],
    adoption_status: framework.adoptionStatus ?? null,
    language: framework.language ?? null,
    description: framework.description ?? null,
    licence: framework.licence ?? null,
    notes: framework.notes ?? null,
    case_version: framework.caseVersion,
    definitions: framework.definitions,
    rubrics: framework.rubrics,
    extensions: framework.extensions ? { ...framework.extensions } : null,
    extra: compact({
      subjectRefs: framework.subjectRefs,
      lastChangeDateTime: framework.lastChangeDateTime,
      officialSourceUrl: framework.officialSourceUrl,
      statusStartDate: framework.statusStartDate,
      statusEndDate: framework.statusEndDate,
      packageRef: framework.packageRef,
      frameworkType: framework.frameworkType,
    }),
  };
}

export function contentToFramework(
  row: FrameworkContent,
  items: readonly Item[],
  associations: readonly Association[],
): Framework {
  const extra = row.extra;
  return compact({
    caseGuid: row.case_guid,
    uri: row.uri,
    title: row.title,
    creator: row.creator,
    publisher: row.publisher ?? undefined,
    version: row.version ?? undefined,
    subject: [...row.subjects],
    subjectRefs: (extra.subjectRefs as NodeRef[] | undefined) ?? [],
    adoptionStatus: row.adoption_status ?? undefined,
    language: row.language ?? undefined,
    description: row.description ?? undefined,
    lastChangeDateTime: extra.lastChangeDateTime as string | undefined,
    licence: row.licence ?? undefined,
    notes: row.notes ?? undefined,
    officialSourceUrl: extra.officialSourceUrl as string | undefined,
    statusStartDate: extra.statusStartDate as string | undefined,
    statusEndDate: extra.statusEndDate as string | undefined,
    packageRef: extra.packageRef as NodeRef | undefined,
    frameworkType: extra.frameworkType as string | undefined,
    caseVersion: row.case_version,
    items,
    associations,
    definitions: row.definitions,
    rubrics: row.rubrics,
    extensions: row.extensions ?? undefined,
  });
}

export function associationContent(association: Association): AssociationContent {
  return {
    guid: association.guid,
    association_type: association.type,
    origin: association.origin,
    destination: association.destination,
    sequence_number: association.sequenceNumber ?? null,
    extra: compact({
      uri: association.uri,
      lastChangeDateTime: association.lastChangeDateTime,
      groupingRef: association.groupingRef,
      notes: association.notes,
      extensions: association.extensions,
    }),
  };
}

export function rowToAssociation(row: AssociationContent): Association {
  const extra = row.extra;
  return compact({
    guid: row.guid,
    uri: (extra.uri as string | undefined) ?? '',
    type: row.association_type,
    origin: row.origin,
    destination: row.destination,
    sequenceNumber: row.sequence_number ?? undefined,
    lastChangeDateTime: extra.lastChangeDateTime as string | undefined,
    groupingRef: extra.groupingRef as NodeRef | undefined,
    notes: extra.notes as string | undefined,
    extensions: extra.extensions as Association['extensions'] | undefined,
  });
}

/** JSON with object keys sorted: jsonb does not keep key order, so comparisons must not depend on it. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  // JSON.stringify gives undefined (despite its type) for functions and symbols.
  const text = JSON.stringify(value) as string | undefined;
  return text ?? 'null';
}

/** A stored framework row's content columns (the jsonb ones typed as the model has them). */
export function frameworkRowContent(row: FrameworkRow): FrameworkContent {
  return {
    case_guid: row.case_guid,
    uri: row.uri,
    title: row.title,
    creator: row.creator,
    publisher: row.publisher,
    version: row.version,
    subjects: row.subjects,
    adoption_status: row.adoption_status,
    language: row.language,
    description: row.description,
    licence: row.licence as FrameworkContent['licence'],
    notes: row.notes,
    case_version: row.case_version,
    definitions: row.definitions as FrameworkContent['definitions'],
    rubrics: row.rubrics as FrameworkContent['rubrics'],
    extensions: row.extensions,
    extra: row.extra,
  };
}
