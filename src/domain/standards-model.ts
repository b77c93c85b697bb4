/**
 * The normalized standards model shared by every import/export format (CASE JSON, Canvas outcomes CSV,
 * simple CSV). Field names follow 1EdTech CASE where a CASE field exists, converted once at the edge
 * (`humanCodingScheme` → `code`, `CFItemType` → `itemType`, `identifier` → `guid`).
 */

/** A CASE LinkURI: how CASE points at another node (item, document, definition, possibly outside the package). */
export interface NodeRef {
  readonly identifier: string;
  readonly uri: string;
  readonly title: string;
}

export type CaseVersion = '1.0' | '1.1';

/** Unknown fields of a CASE object, kept verbatim so an export does not silently drop a publisher's data. */
export type Extensions = Readonly<Record<string, unknown>>;

/** Canvas outcome settings that only the Canvas outcomes CSV form carries (not written to CASE). */
export interface CanvasOutcomeSettings {
  readonly calculationMethod?: string;
  readonly calculationInt?: number;
  readonly masteryPoints?: number;
  readonly workflowState?: string;
  /** Rating levels, in the order given (Canvas lists them highest points first). */
  readonly ratings: readonly { readonly points: number; readonly description: string }[];
}

export interface Item {
  readonly guid: string;
  readonly uri: string;
  /** CASE `humanCodingScheme`; many real items (section headings, clarifications) have none. */
  readonly code?: string;
  /** Kept exactly as given: CRLF line breaks and Markdown are part of real statements. */
  readonly fullStatement: string;
  readonly abbreviatedStatement?: string;
  /** CASE 1.1 only. */
  readonly alternativeLabel?: string;
  /** Free text (`CFItemType`), e.g. "Range ALD", "Standard"; absent on some real items. */
  readonly itemType?: string;
  readonly itemTypeRef?: NodeRef;
  /** As given, zero padding included ("03"): CASE education levels are codes, not numbers. */
  readonly educationLevels: readonly string[];
  readonly listEnumeration?: string;
  readonly notes?: string;
  readonly language?: string;
  readonly conceptKeywords?: readonly string[];
  readonly conceptKeywordsRef?: NodeRef;
  readonly licenceRef?: NodeRef;
  readonly statusStartDate?: string;
  readonly statusEndDate?: string;
  readonly lastChangeDateTime?: string;
  /** Tree parent from `isChildOf`; null when the destination is the CFDocument (top level). */
  readonly parentGuid: string | null;
  /** 1-based position among siblings: by `sequenceNumber`, ties and missing numbers by file order. */
  readonly order: number;
  /** Subjects per row, only carried by the simple CSV form. */
  readonly subjects?: readonly string[];
  readonly canvas?: CanvasOutcomeSettings;
  readonly extensions?: Extensions;
}

export interface Association {
  readonly guid: string;
  readonly uri: string;
  /** `isChildOf`, `exactMatchOf`, `isRelatedTo`, … kept as a free string (CASE allows extension types). */
  readonly type: string;
  readonly origin: NodeRef;
  readonly destination: NodeRef;
  readonly sequenceNumber?: number;
  readonly lastChangeDateTime?: string;
  readonly groupingRef?: NodeRef;
  /** CASE 1.1 only. */
  readonly notes?: string;
  readonly extensions?: Extensions;
}

/** A CASE definition (CFConcept, CFSubject, CFLicense, CFItemType, CFAssociationGrouping): typed core, rest kept. */
export interface Definition {
  readonly identifier: string;
  readonly uri: string;
  readonly title?: string;
  readonly lastChangeDateTime?: string;
  readonly [field: string]: unknown;
}

export interface Definitions {
  readonly concepts: readonly Definition[];
  readonly subjects: readonly Definition[];
  readonly licences: readonly Definition[];
  readonly itemTypes: readonly Definition[];
  readonly associationGroupings: readonly Definition[];
}

/** A CFRubric with its criteria and levels, kept as given. */
export interface Rubric {
  readonly identifier: string;
  readonly uri: string;
  readonly title?: string;
  readonly description?: string;
  readonly lastChangeDateTime?: string;
  readonly [field: string]: unknown;
}

export interface Framework {
  /** CFDocument.identifier. */
  readonly caseGuid: string;
  readonly uri: string;
  readonly title: string;
  readonly creator: string;
  readonly publisher?: string;
  readonly version?: string;
  readonly subject: readonly string[];
  readonly subjectRefs: readonly NodeRef[];
  readonly adoptionStatus?: string;
  readonly language?: string;
  readonly description?: string;
  readonly lastChangeDateTime?: string;
  readonly licence?: NodeRef;
  readonly notes?: string;
  readonly officialSourceUrl?: string;
  readonly statusStartDate?: string;
  readonly statusEndDate?: string;
  readonly packageRef?: NodeRef;
  /** CASE 1.1 only. */
  readonly frameworkType?: string;
  readonly caseVersion: CaseVersion;
  readonly items: readonly Item[];
  /** Every association of the package, in file order, `isChildOf` included. */
  readonly associations: readonly Association[];
  readonly definitions: Definitions;
  readonly rubrics: readonly Rubric[];
  readonly extensions?: Extensions;
}

/** Problems that stop an import. A closed union: the UI and docs switch on it. */
export type ImportErrorCode =
  | 'file_too_large'
  | 'invalid_json'
  | 'not_a_case_package'
  | 'missing_field'
  | 'invalid_value'
  | 'duplicate_guid'
  | 'duplicate_code'
  | 'unknown_parent'
  | 'cycle'
  | 'missing_statement'
  | 'invalid_csv'
  | 'unknown_csv_form'
  | 'missing_column'
  | 'too_many_errors';

/** Things an import accepts but an admin should know about. */
export type ImportWarningCode =
  | 'duplicate_guid_merged'
  | 'duplicate_code'
  | 'multiple_parents'
  | 'orphan_item'
  | 'association_to_unknown_item';

export interface ImportProblem<C extends string> {
  readonly code: C;
  /** Plain words for a district admin: what is wrong and how to fix it. */
  readonly message: string;
  readonly itemGuid?: string;
  /** 1-based line in the uploaded file (CSV rows; JSON syntax errors). */
  readonly line?: number;
  readonly field?: string;
  /** Where in a CASE package, e.g. `CFItems[12].fullStatement`. */
  readonly path?: string;
}

export type ImportError = ImportProblem<ImportErrorCode>;
export type ImportWarning = ImportProblem<ImportWarningCode>;

export type ImportResult =
  | {
      readonly ok: true;
      readonly framework: Framework;
      readonly warnings: readonly ImportWarning[];
    }
  | { readonly ok: false; readonly errors: readonly ImportError[] };

export interface ImportOptions {
  /** Upper bound on the UTF-8 size of the uploaded text. */
  readonly maxBytes: number;
}

/** How many errors an import reports before it stops collecting (the last entry says so). */
export const MAX_IMPORT_ERRORS = 100;
