import type { AgsClient, LineItem } from '../../lti/ags.ts';
import { LTI_SCOPE } from '../../lti/claims.ts';
import type { LaunchContext } from '../../lti/claims.ts';
import { LtiError } from '../../lti/errors.ts';
import type { NrpsClient } from '../../lti/nrps.ts';
import type { CourseRef, GradebookColumn, GradebookResult, LmsLaunch, LmsPort } from '../port.ts';
import { isTestUser, lmsRole } from './roles.ts';

/** The LMS port over LTI Advantage services (AGS for the gradebook, NRPS for the roster). */

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
   * The platform profile says when (`src/lms/platforms/`).
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

  async function roster() {
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
  }

  async function findGradebookColumn(query: { tag?: string; resourceId?: string }) {
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
  }

  async function readScore(column: GradebookColumn, userId: string) {
    const results = await options.ags.listResults(column.id, { userId });
    const mine = results.find((result) => result.userId === userId);
    const score = mine?.resultScore ?? undefined;
    const maximum = mine?.resultMaximum ?? undefined;
    // A result is on the line item's scale (AGS 2.0 §3.3.2): bring it to the column's.
    if (score === undefined || maximum === undefined || maximum <= 0) return score;
    return (score / maximum) * column.scoreMaximum;
  }

  return {
    course: services.course,
    roster,

    findGradebookColumn,

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

    /** `listResults` refuses when the LMS did not grant the result.readonly scope. */
    async readResults(columnId): Promise<GradebookResult[]> {
      const results = await options.ags.listResults(columnId);
      return results.map((result) => ({
        userId: result.userId,
        resultScore: result.resultScore ?? undefined,
        resultMaximum: result.resultMaximum ?? undefined,
      }));
    },

    ...(options.protectManualGrades === true && services.scopes.includes(LTI_SCOPE.resultReadonly)
      ? { readScore }
      : {}),
  };
}
