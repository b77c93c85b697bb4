import type { ColumnType, Generated } from 'kysely';

/** Tables of a course's assignments and alignments (migration 20261127T0700). */

type Timestamp = ColumnType<Date, Date, Date>;

export type AssignmentSource = 'lms_line_item' | 'deep_link' | 'teacher';

export interface CourseAssignmentTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string;
  title: string;
  description: string | null;
  source: AssignmentSource;
  line_item_url: string | null;
  resource_link_id: string | null;
  resource_id: string | null;
  tag: string | null;
  score_maximum: number | null;
  due_at: Date | null;
  copied_from: string | null;
  archived_at: Date | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AssignmentAlignmentTable {
  tenant_id: string;
  course_id: string;
  assignment_id: string;
  item_id: string;
  weight: ColumnType<number, number | undefined, number>;
  points: number | null;
  rubric_criterion: string | null;
  position: ColumnType<number, number | undefined, number>;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CourseTables {
  course_assignments: CourseAssignmentTable;
  assignment_alignments: AssignmentAlignmentTable;
}
