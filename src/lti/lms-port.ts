import { isAdministrator, isInstructor, isLearner, isMentor, LTI_SCOPE } from './claims.ts';
import type { LaunchContext } from './claims.ts';
import { LtiError } from './errors.ts';
import type { AgsClient, LineItem } from './ags.ts';
import type { NrpsClient } from './nrps.ts';

/**
 * The port both LMS adapters implement (LTI Advantage here, Google Classroom later), so passback and
 * rosters never see LTI claims or Classroom API shapes. It lives in src/lti until src/lms exists; the
 * types below import nothing LTI-specific, so moving them is a file move.
 */

/** A course is `(issuer, deploymentId, contextId)`: never a context id alone (STYLE: tenancy). */
export interface CourseRef {
  readonly issuer: string;
  readonly deploymentId: string;
  readonly contextId: string;
}

export type LmsRole = 'teacher' | 'student' | 'mentor' | 'administrator' | 'other';

/**
 * LTI system role of a platform's test user. Canvas gives it to the Student View user ("Test
 * Student") in launches and NRPS; Canvas accepts AGS scores for that user, so the tool itself must
 * keep its grades out of the gradebook and its people out of counts.
 */
export const TEST_USER_ROLE = 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser';

/** Every form of the TestUser role we accept (full URI, or the short name some platforms send). */
export const TEST_USER_ROLES: readonly string[] = [TEST_USER_ROLE, 'TestUser'];

export function isTestUser(roles: readonly string[]): boolean {
  return roles.some((role) => TEST_USER_ROLES.includes(role));
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
   * The score the gradebook shows for one student now (undefined: none), so a teacher's manual
   * grade can be told from the tool's last one before posting. Absent when the adapter cannot read
   * results (no AGS result scope, or the platform's rule keeps manual grades by itself).
   */
  readScore?(column: GradebookColumn, userId: string): Promise<number | undefined>;
}

/** Most specific role wins for the product's purposes: administrators and teachers see the teacher view. */
export function lmsRole(roles: readonly string[]): LmsRole {
  if (isInstructor(roles)) return 'teacher';
  if (isAdministrator(roles)) return 'administrator';
  if (isLearner(roles)) return 'student';
  if (isMentor(roles)) return 'mentor';
  return 'other';
}

export function lmsLaunchFromLti(launch: LaunchContext): LmsLaunch {
  return {
    course:
      launch.context === undefined
        ? undefined
        : {
            issuer: launch.issuer,
            deploymentId: launch.deploymentId,
            contextId: launch.context.id,
          },
    user: { issuer: launch.issuer, userId: launch.sub, name: launch.name, email: launch.email },
    role: lmsRole(launch.roles),
    courseTitle: launch.context?.title,
  };
}

/** What must be stored per course to call its LTI services later, outside any launch. */
export interface LtiCourseServices {
  readonly course: CourseRef;
  readonly lineItemsUrl: string | undefined;
  readonly membershipsUrl: string | undefined;
  readonly scopes: readonly string[];
}

export function courseServicesFromLaunch(launch: LaunchContext): LtiCourseServices | undefined {
  if (launch.context === undefined) return undefined;
  return {
    course: {
      issuer: launch.issuer,
      deploymentId: launch.deploymentId,
      contextId: launch.context.id,
    },
    lineItemsUrl: launch.ags?.lineItemsUrl,
    membershipsUrl: launch.nrps?.membershipsUrl,
    // The NRPS claim carries no scope list: its presence means the platform granted the scope.
    scopes: [
      ...(launch.ags?.scopes ?? []),
      ...(launch.nrps === undefined ? [] : [LTI_SCOPE.membershipReadonly]),
    ],
  };
}

export interface LtiLmsAdapterOptions {
  readonly services: LtiCourseServices;
  readonly ags: AgsClient;
  readonly nrps: NrpsClient;
  /**
   * Canvas: send `new_submission: false` (no new attempt per post). `prioritize_non_tool_grade` is
   * never sent: Canvas then skips the update whenever the submission has ANY score, the tool's own
   * earlier one included, so grades would freeze after the first sync (LMS-NOTES, docs/lms/canvas.md).
   */
  readonly canvasSubmissionExtension?: boolean;
  /**
   * Read the result before each post so the worker can leave a teacher's manual grade alone
   * (`readScore`). Needs the AGS result.readonly scope; without it `readScore` is absent.
   */
  readonly protectManualGrades?: boolean;
}

function toColumn(item: LineItem): GradebookColumn {
  return {
    id: item.id,
    label: item.label,
    scoreMaximum: item.scoreMaximum,
    tag: item.tag,
    resourceId: item.resourceId,
  };
}

export function createLtiLmsAdapter(options: LtiLmsAdapterOptions): LmsPort {
  const { services } = options;
  const lineItemsUrl = (): string => {
    if (services.lineItemsUrl === undefined) {
      throw new LtiError('service_not_available', {
        detail: 'no AGS line items URL for this course',
      });
    }
    return services.lineItemsUrl;
  };
  return {
    course: services.course,

    async roster() {
      if (services.membershipsUrl === undefined) {
        throw new LtiError('service_not_available', {
          detail: 'no NRPS memberships URL for this course',
        });
      }
      const members = await options.nrps.listMembers(services.membershipsUrl);
      return members.map((member) => ({
        userId: member.userId,
        name: member.name,
        givenName: member.givenName,
        familyName: member.familyName,
        email: member.email,
        role: lmsRole(member.roles),
        active: member.status === 'Active',
        testUser: isTestUser(member.roles),
      }));
    },

    async findGradebookColumn(query) {
      const filters = {
        ...(query.tag === undefined ? {} : { tag: query.tag }),
        ...(query.resourceId === undefined ? {} : { resourceId: query.resourceId }),
      };
      const items = await options.ags.listLineItems(lineItemsUrl(), filters);
      // Platforms may ignore the filters (they are optional in AGS 2.0 §3.2.3): filter again here.
      const match = items.find(
        (item) =>
          (query.tag === undefined || item.tag === query.tag) &&
          (query.resourceId === undefined || item.resourceId === query.resourceId),
      );
      return match === undefined ? undefined : toColumn(match);
    },

    async createGradebookColumn(column) {
      // No resourceLinkId: on Canvas only a standalone line item gets its own gradebook column.
      const item = await options.ags.createLineItem(lineItemsUrl(), {
        label: column.label,
        scoreMaximum: column.scoreMaximum,
        tag: column.tag,
        resourceId: column.resourceId,
      });
      return toColumn(item);
    },

    async postScore(column, score) {
      await options.ags.postScore(column.id, {
        userId: score.userId,
        scoreGiven: score.scoreGiven,
        scoreMaximum: score.scoreMaximum,
        comment: score.comment,
        activityProgress: 'Completed',
        gradingProgress: 'FullyGraded',
        timestamp: score.timestamp,
        canvasSubmission:
          options.canvasSubmissionExtension === true ? { newSubmission: false } : undefined,
      });
    },

    ...(options.protectManualGrades === true && services.scopes.includes(LTI_SCOPE.resultReadonly)
      ? {
          async readScore(column: GradebookColumn, userId: string) {
            const results = await options.ags.listResults(column.id, { userId });
            const mine = results.find((result) => result.userId === userId);
            const score = mine?.resultScore ?? undefined;
            const maximum = mine?.resultMaximum ?? undefined;
            // A result is on the line item's scale (AGS 2.0 §3.3.2): bring it to the column's.
            if (score === undefined || maximum === undefined || maximum <= 0) return score;
            return (score / maximum) * column.scoreMaximum;
          },
        }
      : {}),
  };
}
