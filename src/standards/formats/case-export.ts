import type {
  Association,
  Definition,
  Framework,
  Item,
  NodeRef,
} from '../../domain/standards-model.ts';
import { compact, nameBasedGuid } from './problems.ts';

/** A CFPackage as JSON-ready data (serialize with JSON.stringify). */
export interface CasePackageJson {
  readonly CFDocument: Record<string, unknown>;
  readonly CFItems: readonly Record<string, unknown>[];
  readonly CFAssociations: readonly Record<string, unknown>[];
  readonly CFDefinitions: {
    readonly CFConcepts: readonly Definition[];
    readonly CFSubjects: readonly Definition[];
    readonly CFLicenses: readonly Definition[];
    readonly CFItemTypes: readonly Definition[];
    readonly CFAssociationGroupings: readonly Definition[];
  };
  readonly CFRubrics: readonly Record<string, unknown>[];
}

function withExtensions(
  extensions: Readonly<Record<string, unknown>> | undefined,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return { ...extensions, ...compact(fields) };
}

function link(ref: NodeRef | undefined): Record<string, string> | undefined {
  return ref ? { title: ref.title, identifier: ref.identifier, uri: ref.uri } : undefined;
}

/**
 * Writes the framework as a CASE CFPackage: CASE 1.0 field names, plus the CASE 1.1 fields
 * (caseVersion, frameworkType, alternativeLabel, association notes) when the framework is 1.1.
 *
 * Associations are written as held. Items that have no isChildOf association at all (frameworks
 * authored in the app) get one from parentGuid/order, so the tree always travels with the package.
 */
export function exportCasePackage(framework: Framework): CasePackageJson {
  const is11 = framework.caseVersion === '1.1';
  const documentRef: NodeRef = {
    identifier: framework.caseGuid,
    uri: framework.uri,
    title: framework.title,
  };

  // Extensions first, then our fields: a field we do not write for this version (a 1.1 field in a
  // 1.0 package) must not blank out the publisher's value kept in extensions.
  const CFDocument = withExtensions(framework.extensions, {
    identifier: framework.caseGuid,
    uri: framework.uri,
    lastChangeDateTime: framework.lastChangeDateTime,
    CFPackageURI: link(framework.packageRef),
    title: framework.title,
    creator: framework.creator,
    publisher: framework.publisher,
    officialSourceURL: framework.officialSourceUrl,
    description: framework.description,
    subject: framework.subject.length > 0 ? [...framework.subject] : undefined,
    subjectURI: framework.subjectRefs.length > 0 ? framework.subjectRefs.map(link) : undefined,
    language: framework.language,
    version: framework.version,
    adoptionStatus: framework.adoptionStatus,
    statusStartDate: framework.statusStartDate,
    statusEndDate: framework.statusEndDate,
    licenseURI: link(framework.licence),
    notes: framework.notes,
    frameworkType: is11 ? framework.frameworkType : undefined,
    caseVersion: is11 ? '1.1' : undefined,
  });

  const CFItems = framework.items.map((item) => exportItem(item, documentRef, is11));

  const linked = new Set<string>();
  for (const association of framework.associations) {
    if (association.type === 'isChildOf') linked.add(association.origin.identifier);
  }
  const itemsByGuid = new Map(framework.items.map((item) => [item.guid, item]));
  const synthesized: Association[] = framework.items
    .filter((item) => !linked.has(item.guid))
    .map((item) => {
      const parent = item.parentGuid === null ? undefined : itemsByGuid.get(item.parentGuid);
      const guid = nameBasedGuid(framework.caseGuid, `isChildOf:${item.guid}`);
      return {
        guid,
        uri: `local:${guid}`,
        type: 'isChildOf',
        origin: { identifier: item.guid, uri: item.uri, title: item.code ?? '' },
        destination: parent
          ? { identifier: parent.guid, uri: parent.uri, title: parent.code ?? '' }
          : documentRef,
        sequenceNumber: item.order,
      };
    });
  const CFAssociations = [...framework.associations, ...synthesized].map((association) =>
    exportAssociation(association, documentRef, is11),
  );

  return {
    CFDocument,
    CFItems,
    CFAssociations,
    CFDefinitions: {
      CFConcepts: framework.definitions.concepts,
      CFSubjects: framework.definitions.subjects,
      CFLicenses: framework.definitions.licences,
      CFItemTypes: framework.definitions.itemTypes,
      CFAssociationGroupings: framework.definitions.associationGroupings,
    },
    CFRubrics: framework.rubrics,
  };
}

function exportItem(item: Item, documentRef: NodeRef, is11: boolean): Record<string, unknown> {
  return withExtensions(item.extensions, {
    identifier: item.guid,
    uri: item.uri,
    lastChangeDateTime: item.lastChangeDateTime,
    CFDocumentURI: link(documentRef),
    CFItemType: item.itemType,
    CFItemTypeURI: link(item.itemTypeRef),
    educationLevel: item.educationLevels.length > 0 ? [...item.educationLevels] : undefined,
    fullStatement: item.fullStatement,
    abbreviatedStatement: item.abbreviatedStatement,
    alternativeLabel: is11 ? item.alternativeLabel : undefined,
    notes: item.notes,
    humanCodingScheme: item.code,
    listEnumeration: item.listEnumeration,
    language: item.language,
    conceptKeywords: item.conceptKeywords ? [...item.conceptKeywords] : undefined,
    conceptKeywordsURI: link(item.conceptKeywordsRef),
    licenseURI: link(item.licenceRef),
    statusStartDate: item.statusStartDate,
    statusEndDate: item.statusEndDate,
  });
}

function exportAssociation(
  association: Association,
  documentRef: NodeRef,
  is11: boolean,
): Record<string, unknown> {
  return withExtensions(association.extensions, {
    identifier: association.guid,
    uri: association.uri,
    lastChangeDateTime: association.lastChangeDateTime,
    CFDocumentURI: link(documentRef),
    originNodeURI: link(association.origin),
    associationType: association.type,
    destinationNodeURI: link(association.destination),
    sequenceNumber: association.sequenceNumber,
    CFAssociationGroupingURI: link(association.groupingRef),
    notes: is11 ? association.notes : undefined,
  });
}
