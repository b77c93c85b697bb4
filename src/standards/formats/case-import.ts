import type { z } from 'zod';
import {
  ASSOCIATION_FIELDS_1_0,
  ASSOCIATION_FIELDS_1_1_ONLY,
  DOCUMENT_FIELDS_1_0,
  DOCUMENT_FIELDS_1_1_ONLY,
  ITEM_FIELDS_1_0,
  ITEM_FIELDS_1_1_ONLY,
  cfAssociationSchema,
  cfDefinitionSchema,
  cfDocumentSchema,
  cfItemSchema,
  cfRubricSchema,
  dropNulls,
  linkUriSchema,
} from './case-schema.ts';
import type {
  Association,
  CaseVersion,
  Definition,
  Definitions,
  Extensions,
  Framework,
  ImportOptions,
  ImportResult,
  Item,
  NodeRef,
  Rubric,
} from '../../domain/standards-model.ts';
import {
  byteLength,
  compact,
  createProblemCollector,
  fileTooLarge,
  nameBasedGuid,
  stripBom,
  type ProblemCollector,
} from './problems.ts';
import { buildTree, type ParentLink } from './tree.ts';

type LinkUri = z.infer<typeof linkUriSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toRef(link: LinkUri | undefined): NodeRef | undefined {
  if (!link) return undefined;
  return { identifier: link.identifier, uri: link.uri, title: link.title ?? '' };
}

function extensionsOf(
  raw: Record<string, unknown>,
  known: readonly string[],
): Extensions | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(raw)) {
    if (known.includes(key)) continue;
    out ??= {};
    out[key] = value;
  }
  return out;
}

/** Where V8 reports a JSON syntax error: "(line 3 column 5)" on Node 22+, or "at position 42". */
function jsonErrorLine(text: string, message: string): number | undefined {
  const lineMatch = /line (\d+) column \d+/.exec(message);
  if (lineMatch?.[1]) return Number(lineMatch[1]);
  const positionMatch = /position (\d+)/.exec(message);
  if (positionMatch?.[1]) {
    const position = Number(positionMatch[1]);
    let line = 1;
    for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
    return line;
  }
  return undefined;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  what: string,
): { field: string; reason: string; missing: boolean } {
  const field = issue.path.map(String).join('.');
  const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
  const tooSmall = issue.code === 'too_small';
  const reason = missing
    ? `${what} has no "${field}". Add it; CASE requires it.`
    : tooSmall
      ? `${what} has an empty "${field}". Fill it in; CASE requires it.`
      : `${what} has an invalid "${field}" (${issue.message}). Correct the value in the file.`;
  return { field, reason, missing: missing || tooSmall };
}

function detectCaseVersion(document: Record<string, unknown>): CaseVersion {
  if (document.caseVersion === '1.1') return '1.1';
  // CASE 1.1 servers publish under /ims/case/v1p1/ even where caseVersion is omitted.
  if (typeof document.uri === 'string' && document.uri.includes('/ims/case/v1p1/')) return '1.1';
  return '1.0';
}

/**
 * Parses a CASE 1.0 / 1.1 CFPackage (JSON text) into the normalized model, collecting every problem.
 *
 * Decisions grounded in real packages (Smarter Balanced, see ../shared/case):
 * - items without humanCodingScheme or CFItemType are normal;
 * - the same humanCodingScheme on two items happens (E.G3.C2WN.T1a.W.3.3a): a warning, not an error;
 * - the same item identifier twice with the same fullStatement happens (a server duplicating a
 *   node): merged with a warning, the first record wins; with different statements it is an error.
 */
export function parseCasePackage(text: string, options: ImportOptions): ImportResult {
  const bytes = byteLength(text);
  if (bytes > options.maxBytes)
    return { ok: false, errors: [fileTooLarge(bytes, options.maxBytes)] };

  let json: unknown;
  try {
    json = JSON.parse(stripBom(text));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const line = jsonErrorLine(stripBom(text), message);
    return {
      ok: false,
      errors: [
        compact({
          code: 'invalid_json' as const,
          message: `The file is not valid JSON${line === undefined ? '' : ` (problem near line ${line})`}. Export the framework again from your CASE tool, or check the file in a JSON validator.`,
          line,
        }),
      ],
    };
  }

  if (!isRecord(json) || !isRecord(json.CFDocument)) {
    return {
      ok: false,
      errors: [
        {
          code: 'not_a_case_package',
          message:
            'This JSON file is not a CASE package: it has no "CFDocument". Download the whole framework as a CFPackage (…/ims/case/v1p0/CFPackages/{id}) from your CASE server.',
        },
      ],
    };
  }
  for (const key of ['CFItems', 'CFAssociations', 'CFRubrics'] as const) {
    if (json[key] !== undefined && json[key] !== null && !Array.isArray(json[key])) {
      return {
        ok: false,
        errors: [
          {
            code: 'not_a_case_package',
            message: `"${key}" must be a list in a CASE package. Download the framework again as a CFPackage.`,
            path: key,
          },
        ],
      };
    }
  }

  return readPackage(json, dropNulls(json.CFDocument));
}

function readPackage(
  pkg: Record<string, unknown>,
  rawDocument: Record<string, unknown>,
): ImportResult {
  const problems = createProblemCollector();
  const caseVersion = detectCaseVersion(rawDocument);
  const is11 = caseVersion === '1.1';

  const parsedDocument = cfDocumentSchema.safeParse(rawDocument);
  if (!parsedDocument.success) {
    for (const issue of parsedDocument.error.issues) {
      const { field, reason, missing } = describeIssue(issue, 'The framework (CFDocument)');
      problems.error({
        code: missing ? 'missing_field' : 'invalid_value',
        message: reason,
        field,
        path: `CFDocument.${field}`,
      });
    }
  }
  const caseGuid = parsedDocument.success
    ? parsedDocument.data.identifier
    : typeof rawDocument.identifier === 'string'
      ? rawDocument.identifier
      : '';

  const items = readItems(asArray(pkg.CFItems), caseGuid, is11, problems);
  const itemsByGuid = new Map(items.map((item) => [item.guid, item]));
  const associations = readAssociations(asArray(pkg.CFAssociations), is11, problems);
  const definitions = readDefinitions(pkg.CFDefinitions, problems);
  const rubrics = readList(asArray(pkg.CFRubrics), 'CFRubrics', 'rubric', problems) as Rubric[];

  const links = treeLinks(associations, itemsByGuid, caseGuid, problems);

  const tree = buildTree(
    items.map((item) => item.guid),
    links,
  );
  for (const cycle of tree.cycles) {
    const first = cycle[0] ?? '';
    problems.error({
      code: 'cycle',
      message: `The isChildOf associations form a loop: ${cycle.map((guid) => describeItem(itemsByGuid, guid)).join(' → ')} → back to the start. An item cannot be inside itself; remove one of these associations.`,
      itemGuid: first,
    });
  }
  for (const { childGuid, parents } of tree.multiParent) {
    problems.warn({
      code: 'multiple_parents',
      message: `Item ${describeItem(itemsByGuid, childGuid)} has ${parents.length} parents; it is shown under the first by sequence number, and the other links are kept.`,
      itemGuid: childGuid,
    });
  }

  // Orphans get an explicit top-level link so the export states what the import assumed.
  const orphanAssociations: Association[] = tree.orphans.map((guid) => {
    const item = itemsByGuid.get(guid);
    const associationGuid = nameBasedGuid(caseGuid, `isChildOf:${guid}`);
    problems.warn({
      code: 'orphan_item',
      message: `Item ${describeItem(itemsByGuid, guid)} has no isChildOf association; it is placed at the top level.`,
      itemGuid: guid,
    });
    return {
      guid: associationGuid,
      uri: `local:${associationGuid}`,
      type: 'isChildOf',
      origin: { identifier: guid, uri: item?.uri ?? '', title: item?.code ?? '' },
      destination: {
        identifier: caseGuid,
        uri: parsedDocument.success ? parsedDocument.data.uri : '',
        title: parsedDocument.success ? parsedDocument.data.title : '',
      },
    };
  });

  if (problems.errors.length > 0 || !parsedDocument.success) {
    return { ok: false, errors: problems.errors };
  }

  const doc = parsedDocument.data;
  const placedItems = items.map((item) => {
    const placement = tree.placement.get(item.guid);
    return { ...item, parentGuid: placement?.parentGuid ?? null, order: placement?.order ?? 0 };
  });

  const framework: Framework = compact({
    caseGuid: doc.identifier,
    uri: doc.uri,
    title: doc.title,
    creator: doc.creator,
    publisher: doc.publisher,
    version: doc.version,
    // Some publishers give subjects only as CFSubject links (the SBAC ELA claim 1 package does).
    subject:
      doc.subject ?? (doc.subjectURI ?? []).flatMap((link) => (link.title ? [link.title] : [])),
    subjectRefs: (doc.subjectURI ?? []).map((link) => toRef(link) as NodeRef),
    adoptionStatus: doc.adoptionStatus,
    language: doc.language,
    description: doc.description,
    lastChangeDateTime: doc.lastChangeDateTime,
    licence: toRef(doc.licenseURI),
    notes: doc.notes,
    officialSourceUrl: doc.officialSourceURL,
    statusStartDate: doc.statusStartDate,
    statusEndDate: doc.statusEndDate,
    packageRef: toRef(doc.CFPackageURI),
    frameworkType: is11 ? doc.frameworkType : undefined,
    caseVersion,
    items: placedItems,
    associations: [...associations, ...orphanAssociations],
    definitions,
    rubrics,
    extensions: extensionsOf(
      rawDocument,
      is11 ? [...DOCUMENT_FIELDS_1_0, ...DOCUMENT_FIELDS_1_1_ONLY] : DOCUMENT_FIELDS_1_0,
    ),
  });
  return { ok: true, framework, warnings: problems.warnings };
}

/**
 * The tree's parent links: isChildOf associations whose origin is one of the package's items. A
 * parent that is neither an item nor the framework is an error; other associations between two
 * nodes outside the framework are kept with a warning.
 */
function treeLinks(
  associations: readonly Association[],
  itemsByGuid: ReadonlyMap<string, UnplacedItem>,
  caseGuid: string,
  problems: ProblemCollector,
): ParentLink[] {
  const itemGuids = new Set(itemsByGuid.keys());
  const links: ParentLink[] = [];
  associations.forEach((association, index) => {
    if (association.type !== 'isChildOf') {
      if (
        !itemGuids.has(association.origin.identifier) &&
        !itemGuids.has(association.destination.identifier) &&
        association.origin.identifier !== caseGuid &&
        association.destination.identifier !== caseGuid
      ) {
        problems.warn({
          code: 'association_to_unknown_item',
          message: `The "${association.type}" association ${association.guid} connects two nodes that are not in this framework; it is kept as is.`,
          path: `CFAssociations[${index}]`,
        });
      }
      return;
    }
    const childGuid = association.origin.identifier;
    if (!itemGuids.has(childGuid)) return; // a link about another framework's node: kept, not ours to place
    const destination = association.destination.identifier;
    if (destination !== caseGuid && !itemGuids.has(destination)) {
      problems.error({
        code: 'unknown_parent',
        message: `Item ${describeItem(itemsByGuid, childGuid)} is placed under "${association.destination.title || destination}" (${destination}), which is neither an item of this framework nor the framework itself. Include that parent item in the package or fix the isChildOf association.`,
        itemGuid: childGuid,
        path: `CFAssociations[${index}].destinationNodeURI`,
        field: 'destinationNodeURI',
      });
      return;
    }
    links.push(
      compact({
        childGuid,
        parentGuid: destination === caseGuid ? null : destination,
        sequenceNumber: association.sequenceNumber,
        position: index,
      }),
    );
  });
  return links;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function describeItem(items: ReadonlyMap<string, UnplacedItem>, guid: string): string {
  const item = items.get(guid);
  if (!item) return guid;
  const label = item.code ?? item.abbreviatedStatement ?? item.fullStatement.slice(0, 40);
  return `"${label}" (${guid})`;
}

type UnplacedItem = Omit<Item, 'parentGuid' | 'order'> & { parentGuid: null; order: 0 };

function readItems(
  rawItems: readonly unknown[],
  caseGuid: string,
  is11: boolean,
  problems: ProblemCollector,
): UnplacedItem[] {
  const items: UnplacedItem[] = [];
  const byGuid = new Map<string, { item: UnplacedItem; index: number }>();
  const byCode = new Map<string, string>();
  const known = is11 ? [...ITEM_FIELDS_1_0, ...ITEM_FIELDS_1_1_ONLY] : ITEM_FIELDS_1_0;

  rawItems.forEach((rawValue, index) => {
    if (problems.full()) return;
    const path = `CFItems[${index}]`;
    if (!isRecord(rawValue)) {
      problems.error({
        code: 'invalid_value',
        message: `Entry ${index + 1} of CFItems is not an object. Remove it or export the framework again.`,
        path,
      });
      return;
    }
    const raw = dropNulls(rawValue);
    const guidForMessage = typeof raw.identifier === 'string' ? raw.identifier : undefined;
    const parsed = cfItemSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const what = `Item ${index + 1}${guidForMessage ? ` (${guidForMessage})` : ''}`;
        const { field, reason, missing } = describeIssue(issue, what);
        const isStatement = field === 'fullStatement' && missing;
        problems.error(
          compact({
            code: isStatement ? 'missing_statement' : missing ? 'missing_field' : 'invalid_value',
            message: isStatement
              ? `${what} has no statement (fullStatement). Every standard needs its text; add it in your CASE tool.`
              : reason,
            itemGuid: guidForMessage,
            field,
            path: `${path}.${field}`,
          }),
        );
      }
      return;
    }
    const data = parsed.data;
    const item: UnplacedItem = compact({
      guid: data.identifier,
      uri: data.uri,
      code: data.humanCodingScheme,
      fullStatement: data.fullStatement,
      abbreviatedStatement: data.abbreviatedStatement,
      alternativeLabel: is11 ? data.alternativeLabel : undefined,
      itemType: data.CFItemType,
      itemTypeRef: toRef(data.CFItemTypeURI),
      educationLevels: data.educationLevel ?? [],
      listEnumeration: data.listEnumeration,
      notes: data.notes,
      language: data.language,
      conceptKeywords: data.conceptKeywords,
      conceptKeywordsRef: toRef(data.conceptKeywordsURI),
      licenceRef: toRef(data.licenseURI),
      statusStartDate: data.statusStartDate,
      statusEndDate: data.statusEndDate,
      lastChangeDateTime: data.lastChangeDateTime,
      parentGuid: null,
      order: 0,
      extensions: extensionsOf(raw, known),
    });

    if (item.guid === caseGuid) {
      problems.error({
        code: 'duplicate_guid',
        message: `Item ${index + 1} uses the framework's own identifier ${item.guid}. Give the item its own GUID.`,
        itemGuid: item.guid,
        path: `${path}.identifier`,
        field: 'identifier',
      });
      return;
    }
    const earlier = byGuid.get(item.guid);
    if (earlier) {
      if (earlier.item.fullStatement === item.fullStatement) {
        problems.warn({
          code: 'duplicate_guid_merged',
          message: `Items ${earlier.index + 1} and ${index + 1} share the identifier ${item.guid} and the same statement; they are treated as one item (the first).`,
          itemGuid: item.guid,
          path,
        });
      } else {
        problems.error({
          code: 'duplicate_guid',
          message: `Items ${earlier.index + 1} and ${index + 1} share the identifier ${item.guid} but have different statements. Each standard needs its own GUID; fix this in your CASE tool and export again.`,
          itemGuid: item.guid,
          path: `${path}.identifier`,
          field: 'identifier',
        });
      }
      return;
    }
    byGuid.set(item.guid, { item, index });
    if (item.code !== undefined && item.code !== '') {
      const other = byCode.get(item.code);
      if (other !== undefined) {
        problems.warn({
          code: 'duplicate_code',
          message: `The code "${item.code}" is used by more than one item (${other} and ${item.guid}). Both are imported; search results will show both.`,
          itemGuid: item.guid,
          path: `${path}.humanCodingScheme`,
          field: 'humanCodingScheme',
        });
      } else {
        byCode.set(item.code, item.guid);
      }
    }
    items.push(item);
  });
  return items;
}

function readAssociations(
  rawAssociations: readonly unknown[],
  is11: boolean,
  problems: ProblemCollector,
): Association[] {
  const associations: Association[] = [];
  const byGuid = new Map<string, { association: Association; index: number }>();
  const known = is11
    ? [...ASSOCIATION_FIELDS_1_0, ...ASSOCIATION_FIELDS_1_1_ONLY]
    : ASSOCIATION_FIELDS_1_0;

  rawAssociations.forEach((rawValue, index) => {
    if (problems.full()) return;
    const path = `CFAssociations[${index}]`;
    if (!isRecord(rawValue)) {
      problems.error({
        code: 'invalid_value',
        message: `Entry ${index + 1} of CFAssociations is not an object. Remove it or export the framework again.`,
        path,
      });
      return;
    }
    const raw = dropNulls(rawValue);
    const parsed = cfAssociationSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const { field, reason, missing } = describeIssue(issue, `Association ${index + 1}`);
        problems.error({
          code: missing ? 'missing_field' : 'invalid_value',
          message: reason,
          field,
          path: `${path}.${field}`,
        });
      }
      return;
    }
    const data = parsed.data;
    const association: Association = compact({
      guid: data.identifier,
      uri: data.uri,
      type: data.associationType,
      origin: toRef(data.originNodeURI) as NodeRef,
      destination: toRef(data.destinationNodeURI) as NodeRef,
      sequenceNumber: data.sequenceNumber,
      lastChangeDateTime: data.lastChangeDateTime,
      groupingRef: toRef(data.CFAssociationGroupingURI),
      notes: is11 ? data.notes : undefined,
      extensions: extensionsOf(raw, known),
    });
    const earlier = byGuid.get(association.guid);
    if (earlier) {
      const same =
        earlier.association.type === association.type &&
        earlier.association.origin.identifier === association.origin.identifier &&
        earlier.association.destination.identifier === association.destination.identifier;
      if (!same) {
        problems.error({
          code: 'duplicate_guid',
          message: `Associations ${earlier.index + 1} and ${index + 1} share the identifier ${association.guid} but link different items. Give each association its own GUID.`,
          path: `${path}.identifier`,
          field: 'identifier',
        });
      }
      return;
    }
    byGuid.set(association.guid, { association, index });
    associations.push(association);
  });
  return associations;
}

function readList(
  raw: readonly unknown[],
  listName: string,
  noun: string,
  problems: ProblemCollector,
): Definition[] {
  const out: Definition[] = [];
  raw.forEach((value, index) => {
    const schema = listName === 'CFRubrics' ? cfRubricSchema : cfDefinitionSchema;
    const parsed = schema.safeParse(isRecord(value) ? dropNulls(value) : value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const { field, reason, missing } = describeIssue(
          issue,
          `The ${noun} ${listName}[${index}]`,
        );
        problems.error({
          code: missing ? 'missing_field' : 'invalid_value',
          message: reason,
          field,
          path: `${listName}[${index}]${field ? `.${field}` : ''}`,
        });
      }
      return;
    }
    out.push(parsed.data);
  });
  return out;
}

function readDefinitions(raw: unknown, problems: ProblemCollector): Definitions {
  const defs = isRecord(raw) ? raw : {};
  const list = (key: string, noun: string): Definition[] =>
    readList(asArray(defs[key]), `CFDefinitions.${key}`, noun, problems);
  return {
    concepts: list('CFConcepts', 'concept'),
    subjects: list('CFSubjects', 'subject'),
    licences: list('CFLicenses', 'licence'),
    itemTypes: list('CFItemTypes', 'item type'),
    associationGroupings: list('CFAssociationGroupings', 'association grouping'),
  };
}
