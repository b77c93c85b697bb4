import type { CaseVersion, Definitions, NodeRef, Rubric } from '../../domain/standards-model.ts';

/**
 * The columns of the standards tables that a framework's content decides, as the repositories write
 * and read them. Fields with a column of their own are the ones the app queries or shows; everything
 * else the model keeps travels in `extra` (jsonb) so an export gives back what was imported. The
 * conversions from and to the model are the standards area's (`src/standards/rows.ts`): storage
 * knows the model's types only.
 */

/**
 * Conversions between the standards model and table rows. Fields with a column of their own are the
 * ones the app queries or shows; everything else the model keeps travels in `extra` (jsonb) so an
 * export gives back what was imported.
 */

/** The columns of an item that its content decides (no ids of the tenant or framework, no timestamps). */
export interface ItemContent {
  readonly guid: string;
  readonly uri: string;
  readonly code: string | null;
  readonly full_statement: string;
  readonly abbreviated_statement: string | null;
  readonly item_type: string | null;
  readonly education_levels: readonly string[];
  readonly extra: Record<string, unknown>;
  readonly search: string;
}

export interface StoredItemRow {
  readonly guid: string;
  readonly uri: string;
  readonly code: string | null;
  readonly full_statement: string;
  readonly abbreviated_statement: string | null;
  readonly item_type: string | null;
  readonly education_levels: readonly string[];
  readonly extra: Record<string, unknown>;
}

/** Framework columns decided by the package (no tenant, source or timestamps). */
export interface FrameworkContent {
  readonly case_guid: string;
  readonly uri: string;
  readonly title: string;
  readonly creator: string;
  readonly publisher: string | null;
  readonly version: string | null;
  readonly subjects: readonly string[];
  readonly adoption_status: string | null;
  readonly language: string | null;
  readonly description: string | null;
  readonly licence: NodeRef | null;
  readonly notes: string | null;
  readonly case_version: CaseVersion;
  readonly definitions: Definitions;
  readonly rubrics: readonly Rubric[];
  readonly extensions: Record<string, unknown> | null;
  readonly extra: Record<string, unknown>;
}

export interface AssociationContent {
  readonly guid: string;
  readonly association_type: string;
  readonly origin: NodeRef;
  readonly destination: NodeRef;
  readonly sequence_number: number | null;
  readonly extra: Record<string, unknown>;
}
