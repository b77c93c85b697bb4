import type { LmsRole } from './roles.ts';

/**
 * The port every LMS adapter implements (LTI Advantage in `src/lms/lti/adapter.ts`, Google
 * Classroom in `src/classroom/adapter.ts`), so passback, rosters and imports never see LTI claims
 * or Classroom API shapes. The conformance suite (test/lms/port-conformance.test.ts) runs the same
 * cases against each adapter on the emulator.
 *
 * Errors: adapters throw their own errors (the LTI adapter `LtiError` and the HTTP client's
 * `LmsHttpError`, the Classroom adapter `ClassroomError` and Google's answers), which the pages
 * that sync rosters or import results put in their own words. Code that acts on a failure (the
 * passback worker) reads it in the LMS-neutral kinds through `toLmsError` (src/lms/translate.ts),
 * which uses each adapter's translation; an adapter's own failures (a student Classroom cannot
 * grade yet) are thrown as `LmsError` directly.
 */

/** A course is `(issuer, deploymentId, contextId)`: never a context id alone (STYLE: tenancy). */
export interface CourseRef {
  readonly issuer: string;
  readonly deploymentId: string;
  readonly contextId: string;
}

export interface LmsLaunch {
  readonly course: CourseRef | undefined;
  /** A user is `(issuer, userId)`. */
  readonly user: {
    readonly issuer: string;
    readonly userId: string;
    readonly name: string | undefined;
    readonly email: string | undefined;
  };
  readonly role: LmsRole;
  readonly courseTitle: string | undefined;
}

export interface RosterMember {
  readonly userId: string;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
  readonly role: LmsRole;
  readonly active: boolean;
  /** The platform's test user (Canvas Student View): shown as such, never graded or counted. */
  readonly testUser?: boolean | undefined;
}

export interface GradebookColumn {
  /** Adapter-specific stable id (the line item URL for LTI). */
  readonly id: string;
  readonly label: string;
  readonly scoreMaximum: number;
  readonly tag: string | undefined;
  readonly resourceId: string | undefined;
}

export interface NewGradebookColumn {
  readonly label: string;
  readonly scoreMaximum: number;
  readonly tag?: string | undefined;
  readonly resourceId?: string | undefined;
}

export interface ScorePost {
  readonly userId: string;
  readonly scoreGiven: number;
  readonly scoreMaximum: number;
  readonly comment?: string | undefined;
  /** Must increase per student and column (Canvas rejects older timestamps). */
  readonly timestamp: Date;
}

/**
 * What the gradebook shows for one student in one column. Score and maximum are on the column's
 * own scale as the LMS reports it (AGS `resultScore` / `resultMaximum`); undefined: not graded.
 */
export interface GradebookResult {
  readonly userId: string;
  readonly resultScore: number | undefined;
  readonly resultMaximum: number | undefined;
}

export interface LmsPort {
  readonly course: CourseRef;
  roster(): Promise<RosterMember[]>;
  findGradebookColumn(query: {
    tag?: string;
    resourceId?: string;
  }): Promise<GradebookColumn | undefined>;
  createGradebookColumn(column: NewGradebookColumn): Promise<GradebookColumn>;
  postScore(column: GradebookColumn, score: ScorePost): Promise<void>;
  /**
   * Every student's result in a column (the evidence import reads an assignment's own column).
   * `columnId` is a `GradebookColumn.id`, also one the LMS handed out itself (an AGS line item URL
   * stored from a launch or Deep Linking).
   */
  readResults(columnId: string): Promise<GradebookResult[]>;
  /**
   * The score the gradebook shows for one student now (undefined: none), so a teacher's manual
   * grade can be told from the tool's last one before posting. Absent when the adapter cannot read
   * results (no AGS result scope, or the platform's rule keeps manual grades by itself).
   */
  readScore?(column: GradebookColumn, userId: string): Promise<number | undefined>;
}
