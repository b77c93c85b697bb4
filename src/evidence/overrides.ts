import type { Kysely } from 'kysely';
import { findLevel, isOnScale, MasteryError } from '../mastery/index.ts';
import { updateDesiredGrades } from '../passback/desired-grades.ts';
import { loadCoursePolicy } from '../policy/store.ts';
import { createCourseContextRepository } from '../storage/mastery/course-context.repository.ts';
import { createMasteryResultsRepository } from '../storage/mastery/results.repository.ts';
import type { Database } from '../storage/schema.ts';
import { EvidenceError, requireCourse, shown } from './errors.ts';
import { recomputeCells } from './recompute.ts';

/** One cell (student × standard) of a course, and who changes its override. */
export interface OverrideTarget {
  readonly tenantId: string;
  readonly courseId: string;
  readonly studentId: string;
  readonly itemId: string;
  readonly actor: string;
}

/** A teacher's override: a level of the scale, or a value on it, and why. */
export interface OverrideValue {
  readonly levelId?: string | undefined;
  readonly value?: number | undefined;
  readonly reason: string;
}

/**
 * Sets (or, with `set` undefined, clears) a teacher's override of one cell, and in the same
 * transaction recomputes the cell and its roll-ups and updates the desired grades.
 */
export async function changeOverride(
  deps: { readonly db: Kysely<Database>; readonly now: () => Date },
  input: OverrideTarget & { set?: OverrideValue | undefined },
): Promise<void> {
  const { db, now } = deps;
  const { tenantId, courseId, studentId, itemId } = input;
  await db.transaction().execute(async (tx) => {
    await requireCourse(tx, tenantId, courseId);
    const context = createCourseContextRepository(tx);
    const [learners, item] = await Promise.all([
      context.learners(tenantId, courseId, [studentId]),
      context.item(tenantId, itemId),
    ]);
    if (learners.length === 0 || item === undefined) {
      throw new EvidenceError('not_found', 'This student or standard is not part of this course.');
    }
    const policy = await loadCoursePolicy(tx, tenantId, courseId);
    const results = createMasteryResultsRepository(tx, now);
    if (input.set === undefined) {
      await results.clearOverride(tenantId, courseId, studentId, itemId);
    } else {
      const reason = input.set.reason.trim();
      if (reason === '') {
        throw new EvidenceError('invalid_override', 'Give a reason for the override.');
      }
      if (reason.length > 2000) {
        throw new EvidenceError('invalid_override', 'A reason can hold at most 2000 characters.');
      }
      let value: number;
      try {
        if (input.set.levelId !== undefined) {
          value = findLevel(input.set.levelId, policy.scale).value;
        } else if (input.set.value !== undefined && isOnScale(input.set.value, policy.scale)) {
          value = input.set.value;
        } else {
          throw new EvidenceError(
            'invalid_override',
            `Choose a level, or a value from ${shown(policy.scale.min)} to ${shown(policy.scale.max)}.`,
          );
        }
      } catch (error) {
        if (error instanceof MasteryError) {
          throw new EvidenceError('invalid_override', 'Choose one of the scale’s levels.', [], {
            cause: error,
          });
        }
        throw error;
      }
      await results.setOverride({
        tenantId,
        courseId,
        studentId,
        itemId,
        value,
        reason,
        setBy: input.actor,
      });
    }
    await recomputeCells(
      tx,
      policy,
      { tenantId, courseId, studentIds: [studentId], itemIds: [itemId] },
      now,
    );
    await updateDesiredGrades(tx, { tenantId, courseId, studentIds: [studentId], policy }, now());
  });
}
