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
  /** Canvas: send `new_submission:false, prioritize_non_tool_grade:true` so manual grades win (LMS-NOTES). */
  readonly canvasSubmissionExtension?: boolean;
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
          options.canvasSubmissionExtension === true
            ? { newSubmission: false, prioritizeNonToolGrade: true }
            : undefined,
      });
    },
  };
}
