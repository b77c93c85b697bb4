import { z } from 'zod';

/**
 * zod schemas for the CASE 1.0 / 1.1 JSON binding (CFPackage). Loose objects: publishers add fields,
 * and unknown fields are kept as extensions rather than rejected.
 *
 * Field names per 1EdTech CASE 1.0 (CFDocument, CFItem, CFAssociation, CFDefinitions, CFRubrics);
 * CASE 1.1 adds CFDocument.frameworkType and caseVersion ("1.1"), CFItem.alternativeLabel and
 * CFAssociation.notes, which we read only from packages that declare 1.1.
 */

/** Real servers write `"notes": null` for empty fields; null means absent. */
export function dropNulls(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== null) out[key] = v;
  return out;
}

const text = z.string();
const requiredText = z.string().trim().min(1);

export const linkUriSchema = z.looseObject({
  identifier: requiredText,
  uri: z.string(),
  title: z.string().optional(),
});

/** Some servers send numbers as strings ("3"); CASE says integer. */
const sequenceNumber = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform((s) => Number(s)),
]);

/** CASE says string[]; some exports write one comma-separated string. */
const stringList = z.union([
  z.array(z.string()),
  z.string().transform((s) =>
    s
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== ''),
  ),
]);

export const cfDocumentSchema = z.looseObject({
  identifier: requiredText,
  uri: requiredText,
  title: requiredText,
  creator: requiredText,
  lastChangeDateTime: text.optional(),
  officialSourceURL: text.optional(),
  publisher: text.optional(),
  description: text.optional(),
  subject: stringList.optional(),
  subjectURI: z.array(linkUriSchema).optional(),
  language: text.optional(),
  version: text.optional(),
  adoptionStatus: text.optional(),
  statusStartDate: text.optional(),
  statusEndDate: text.optional(),
  licenseURI: linkUriSchema.optional(),
  notes: text.optional(),
  CFPackageURI: linkUriSchema.optional(),
  frameworkType: text.optional(),
  caseVersion: text.optional(),
});

export const cfItemSchema = z.looseObject({
  identifier: requiredText,
  uri: requiredText,
  fullStatement: requiredText,
  humanCodingScheme: text.optional(),
  abbreviatedStatement: text.optional(),
  alternativeLabel: text.optional(),
  CFItemType: text.optional(),
  CFItemTypeURI: linkUriSchema.optional(),
  educationLevel: stringList.optional(),
  listEnumeration: z.union([text, z.number().transform((n) => String(n))]).optional(),
  notes: text.optional(),
  language: text.optional(),
  conceptKeywords: stringList.optional(),
  conceptKeywordsURI: linkUriSchema.optional(),
  licenseURI: linkUriSchema.optional(),
  statusStartDate: text.optional(),
  statusEndDate: text.optional(),
  lastChangeDateTime: text.optional(),
});

export const cfAssociationSchema = z.looseObject({
  identifier: requiredText,
  uri: requiredText,
  associationType: requiredText,
  originNodeURI: linkUriSchema,
  destinationNodeURI: linkUriSchema,
  sequenceNumber: sequenceNumber.optional(),
  lastChangeDateTime: text.optional(),
  CFAssociationGroupingURI: linkUriSchema.optional(),
  notes: text.optional(),
});

export const cfDefinitionSchema = z.looseObject({
  identifier: requiredText,
  uri: z.string(),
  title: text.optional(),
  lastChangeDateTime: text.optional(),
});

export const cfRubricSchema = z.looseObject({
  identifier: requiredText,
  uri: z.string(),
  title: text.optional(),
  description: text.optional(),
  lastChangeDateTime: text.optional(),
});

/** Fields of each object that the model reads (anything else becomes an extension). */
export const DOCUMENT_FIELDS_1_0 = [
  'identifier',
  'uri',
  'title',
  'creator',
  'lastChangeDateTime',
  'officialSourceURL',
  'publisher',
  'description',
  'subject',
  'subjectURI',
  'language',
  'version',
  'adoptionStatus',
  'statusStartDate',
  'statusEndDate',
  'licenseURI',
  'notes',
  'CFPackageURI',
] as const;
export const DOCUMENT_FIELDS_1_1_ONLY = ['frameworkType', 'caseVersion'] as const;

export const ITEM_FIELDS_1_0 = [
  'identifier',
  'uri',
  'fullStatement',
  'humanCodingScheme',
  'abbreviatedStatement',
  'CFItemType',
  'CFItemTypeURI',
  'educationLevel',
  'listEnumeration',
  'notes',
  'language',
  'conceptKeywords',
  'conceptKeywordsURI',
  'licenseURI',
  'statusStartDate',
  'statusEndDate',
  'lastChangeDateTime',
  // Rebuilt from the framework on export.
  'CFDocumentURI',
] as const;
export const ITEM_FIELDS_1_1_ONLY = ['alternativeLabel'] as const;

export const ASSOCIATION_FIELDS_1_0 = [
  'identifier',
  'uri',
  'associationType',
  'originNodeURI',
  'destinationNodeURI',
  'sequenceNumber',
  'lastChangeDateTime',
  'CFAssociationGroupingURI',
  'CFDocumentURI',
] as const;
export const ASSOCIATION_FIELDS_1_1_ONLY = ['notes'] as const;
