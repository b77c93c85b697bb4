import type { Kysely } from 'kysely';
import {
  courseAudit,
  courseSyncSummary,
  findCourseColumn,
  recreateColumn,
  releaseHeldCells,
  resyncCourse,
  retryFailed,
  setCoursePaused,
  studentCells,
  studentNames,
  syncCourseNow,
  type AuditLine,
  type CourseSyncSummary,
  type StudentCell,
} from '../storage/passback/passback.repository.ts';
import type { Database } from '../storage/schema.ts';
import { updateDesiredGrades } from './desired-grades.ts';

interface CourseScope {
  readonly tenantId: string;
  readonly courseId: string;
}

export interface CourseSyncView extends CourseSyncSummary {
  /** Tool user id → display name (null when the LMS shared none). */
  readonly names: ReadonlyMap<string, string | null>;
}

/**
 * The teacher's grade sync controls for one course. Every call is scoped by the caller's district
 * and launched course; the worker does the posting.
 */
export function createGradeSyncUseCases(deps: {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
}) {
  const { db, now } = deps;
  return {
    async summary(scope: CourseScope): Promise<CourseSyncView> {
      const summary = await courseSyncSummary(db, scope.tenantId, scope.courseId);
      const names = await studentNames(
        db,
        scope.tenantId,
        summary.students.map((s) => s.userId),
      );
      return { ...summary, names };
    },

    /** One student's cells, or undefined when the student has none in this course. */
    async student(
      scope: CourseScope & { userId: string },
    ): Promise<{ name: string | null; cells: StudentCell[] } | undefined> {
      const cells = await studentCells(db, scope);
      if (cells.length === 0) return undefined;
      const names = await studentNames(db, scope.tenantId, [scope.userId]);
      return { name: names.get(scope.userId) ?? null, cells };
    },

    audit(scope: CourseScope & { limit: number; offset: number }): Promise<AuditLine[]> {
      return courseAudit(db, scope);
    },

    /** "Sync now": cells waiting out a retry delay become due at once. */
    async syncNow(scope: CourseScope): Promise<number> {
      return syncCourseNow(db, scope.tenantId, scope.courseId);
    },

    /**
     * "Resync everything" (after a policy change): desired grades recomputed for the whole course
     * from its mastery results under the current policy, then every cell posted once more.
     */
    async resyncEverything(scope: CourseScope): Promise<{ recomputed: number; queued: number }> {
      return db.transaction().execute(async (trx) => {
        const update = await updateDesiredGrades(trx, scope, now());
        const queued = await resyncCourse(trx, scope.tenantId, scope.courseId);
        return { recomputed: update.changed, queued };
      });
    },

    async setPaused(scope: CourseScope, paused: boolean): Promise<void> {
      await setCoursePaused(db, { ...scope, paused });
    },

    /** "Retry now" for failed cells: all of the course, or one cause, column or student. */
    retryFailed(
      scope: CourseScope & {
        columnId?: string | undefined;
        userId?: string | undefined;
        errorCode?: string | undefined;
      },
    ): Promise<number> {
      return retryFailed(db, scope);
    },

    /**
     * "Let Mastery Pathways update this grade again" for cells a teacher changed in the LMS: one
     * cell (column and student), one student, or the whole course. The next post replaces the
     * teacher's grade with the tool's.
     */
    releaseHeld(
      scope: CourseScope & { columnId?: string | undefined; userId?: string | undefined },
    ): Promise<number> {
      return releaseHeldCells(db, scope);
    },

    /**
     * Recreates a column deleted in the LMS, only ever on the teacher's request. An assignment's own
     * column belongs to the LMS assignment: the tool cannot recreate it (a new column would not be
     * the assignment).
     */
    async recreateColumn(scope: CourseScope & { columnId: string }): Promise<boolean> {
      const column = await findCourseColumn(db, scope);
      if (column?.status !== 'deleted_in_lms' || column.kind === 'assignment') return false;
      return recreateColumn(db, {
        tenantId: scope.tenantId,
        courseId: scope.courseId,
        columnId: scope.columnId,
      });
    },
  };
}

export type GradeSyncUseCases = ReturnType<typeof createGradeSyncUseCases>;
