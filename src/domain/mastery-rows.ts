/**
 * The row shapes of the mastery pages' read queries, in ONE place: the repository
 * (`src/storage/mastery/views.repository.ts`) returns them and the presenters
 * (`src/mastery-views/`) read them. Kept here, in a folder that imports nothing of ours, so neither
 * side imports the other and the presenters stay pure.
 */

/** Spelled out (not imported) so this file imports nothing; equal to `MasteryStatus` and the stored status. */
export type RowMasteryStatus = 'mastery' | 'insufficientEvidence' | 'noEvidence';

/** Where a piece of evidence came from; equal to the stored `EvidenceSource`. */
export type RowEvidenceSource = 'teacher' | 'lms' | 'csv';

export interface CourseStudent {
  readonly id: string;
  /** What people read; never logged. */
  readonly name: string;
  /** Family name first, lower case: the class list order teachers expect. */
  readonly sortKey: string;
  readonly active: boolean;
  /** The LMS's test user (Canvas Student View: LTI system role TestUser), shown as such. */
  readonly testUser?: boolean;
}

export interface CourseStandard {
  readonly id: string;
  readonly code: string | undefined;
  readonly statement: string;
  readonly fullStatement: string;
  readonly parentId: string | undefined;
  readonly itemType: string | undefined;
}

export interface AncestorStandard extends CourseStandard {
  readonly depth: number;
}

export interface ResultCell {
  readonly studentId: string;
  readonly itemId: string;
  readonly status: RowMasteryStatus;
  readonly value: number | undefined;
  readonly levelId: string | undefined;
  readonly mastered: boolean;
  readonly overridden: boolean;
  readonly evidenceCount: number;
}

/**
 * One student's stored result with what its working is worked out from (beside the student's
 * evidence): the standard's parent, so children can be found for a roll-up, and the override.
 */
export interface StudentResult extends ResultCell {
  readonly computedValue: number | undefined;
  readonly computedAt: Date;
  readonly parentId: string | undefined;
  readonly override: { value: number; reason: string; setBy: string; setAt: Date } | undefined;
}

export interface EvidenceEntry {
  readonly id: string;
  readonly itemId: string;
  readonly assignmentId: string | undefined;
  readonly assignmentTitle: string | undefined;
  readonly score: number | null;
  readonly points: number | null;
  readonly pointsPossible: number | null;
  readonly assessedAt: Date | null;
  readonly dueAt: Date | null;
  readonly gradedAt: Date | null;
  readonly lastGradedAt: Date | null;
  readonly submittedAt: Date | null;
  readonly recordedAt: Date;
  readonly excused: boolean;
  readonly comment: string | undefined;
  readonly source: RowEvidenceSource;
}

export interface AlignedAssignment {
  readonly assignmentId: string;
  readonly title: string;
  readonly dueAt: Date | undefined;
  readonly itemId: string;
}

export interface EvidencedCell {
  readonly studentId: string;
  readonly assignmentId: string;
  readonly itemId: string;
}
