import type { AreaDeps } from '../area-deps.ts';
import { createAgsClient, type LineItem } from '../lti/ags.ts';
import { LmsHttpError, LtiError } from '../lti/errors.ts';
import type { LtiServiceContext } from '../lti/service-request.ts';
import {
  inAssignmentTransaction,
  type Assignment,
  type CourseAssignmentRepository,
} from '../storage/courses/assignments.repository.ts';
import { createDeploymentRepository } from '../storage/lti/deployments.repository.ts';
import { createCourseRepository } from '../storage/lti/courses.repository.ts';
import { createPlatformRepository } from '../storage/lti/platforms.repository.ts';
import { assignmentIdFromResourceId } from './assignments.ts';
import { AlignmentError } from './errors.ts';

export interface DiscoveryResult {
  /** New assignments for columns the tool did not know. */
  readonly created: number;
  /** New assignments recognised as copies of another course's, with their alignments copied. */
  readonly copied: number;
  /** Known assignments whose column details were refreshed or newly linked. */
  readonly linked: number;
  /** Columns the tool itself writes mastery grades to: not assignments. */
  readonly skipped: number;
}

/** Line items the passback worker creates for mastery grades carry resourceId `mp:<kind>:<key>`. */
const MASTERY_COLUMN = /^mp:/;

/** The course's AGS endpoints and the platform to call them on, as stored at launch. */
async function courseServiceContext(
  deps: AreaDeps,
  tenantId: string,
  courseId: string,
): Promise<{ context: LtiServiceContext; lineItemsUrl: string }> {
  const course = await createCourseRepository(deps.db, deps.now).findCourseById(tenantId, courseId);
  if (course === undefined) {
    throw new AlignmentError('course_not_found', 'This course is not known here.');
  }
  if (course.agsLineItemsUrl === undefined) {
    throw new AlignmentError(
      'lms_unavailable',
      'The LMS did not share this course’s gradebook with Mastery Pathways, so its assignments cannot be read. Ask your LMS administrator to enable the Assignment and Grade Services scopes.',
    );
  }
  const deployment = await createDeploymentRepository(deps.db).findById(course.deploymentRowId);
  const platform =
    deployment === undefined
      ? undefined
      : await createPlatformRepository(deps.db).findById(deployment.platformId);
  if (deployment === undefined || platform === undefined || deployment.tenantId !== tenantId) {
    throw new AlignmentError('lms_unavailable', 'This course’s LMS registration no longer exists.');
  }
  const context: LtiServiceContext = {
    http: deps.http,
    tokens: deps.tokenClient,
    platform: {
      issuer: platform.issuer,
      clientId: platform.clientId,
      tokenEndpoint: platform.authTokenUrl,
      tokenAudience: platform.tokenAudience,
    },
    scopes: course.agsScopes,
  };
  return { context, lineItemsUrl: course.agsLineItemsUrl };
}

/** The LMS's answer, or an AlignmentError in words for the teacher (details go to the log). */
async function fromLms<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof LtiError) {
      throw new AlignmentError(
        'lms_unavailable',
        `The LMS did not list this course’s assignments: ${error.message}`,
        { cause: error },
      );
    }
    if (error instanceof LmsHttpError) {
      // The URL and body go to the log (through `cause`), not to the page.
      const answer = error.status === undefined ? 'did not answer' : `answered ${error.status}`;
      throw new AlignmentError(
        'lms_unavailable',
        `The LMS ${answer} when asked for this course’s assignments. Nothing was changed; try Refresh from LMS again in a few minutes.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Reads the course's AGS line items with the endpoints and scopes stored at launch. */
async function listCourseLineItems(
  deps: AreaDeps,
  tenantId: string,
  courseId: string,
): Promise<LineItem[]> {
  const { context, lineItemsUrl } = await courseServiceContext(deps, tenantId, courseId);
  return fromLms(() => createAgsClient(context).listLineItems(lineItemsUrl));
}

/**
 * Makes `target` (an assignment of another course of the district) exist in `courseId`: the
 * assignment already recognised as its copy, or a new one with `copied_from` and a copy of its
 * alignments (a course copy keeps alignments).
 */
async function copyInto(
  tx: CourseAssignmentRepository,
  tenantId: string,
  courseId: string,
  target: Assignment,
  fields: {
    title: string;
    lineItemUrl?: string | undefined;
    resourceLinkId?: string | undefined;
    resourceId?: string | undefined;
    tag?: string | undefined;
    scoreMaximum?: number | undefined;
  },
  actor: string,
): Promise<{ assignment: Assignment; created: boolean }> {
  const existing = await tx.findCopyOf(tenantId, courseId, target.id);
  if (existing !== undefined) {
    const updated = await tx.updateLmsFields(tenantId, courseId, existing.id, {
      lineItemUrl: existing.lineItemUrl ?? fields.lineItemUrl,
      resourceLinkId: existing.resourceLinkId ?? fields.resourceLinkId,
      resourceId: fields.resourceId,
      tag: fields.tag,
      scoreMaximum: fields.scoreMaximum,
    });
    return { assignment: updated ?? existing, created: false };
  }
  const created = await tx.create({
    tenantId,
    courseId,
    title: fields.title,
    description: target.description,
    source: target.source === 'teacher' ? 'lms_line_item' : target.source,
    lineItemUrl: fields.lineItemUrl,
    resourceLinkId: fields.resourceLinkId,
    resourceId: fields.resourceId,
    tag: fields.tag,
    scoreMaximum: fields.scoreMaximum ?? target.scoreMaximum,
    copiedFrom: target.id,
    createdBy: actor,
  });
  await tx.copyAlignments(
    tenantId,
    { courseId: target.courseId, assignmentId: target.id },
    { courseId, assignmentId: created.id },
    actor,
  );
  return { assignment: created, created: true };
}

type Outcome = 'created' | 'copied' | 'linked' | 'skipped';

/** Matches one line item to an assignment of the course, in one transaction. */
async function applyLineItem(
  tx: CourseAssignmentRepository,
  tenantId: string,
  courseId: string,
  item: LineItem,
  actor: string,
): Promise<Outcome> {
  if (item.resourceId !== undefined && MASTERY_COLUMN.test(item.resourceId)) return 'skipped';
  const fields = {
    lineItemUrl: item.id,
    resourceId: item.resourceId,
    tag: item.tag,
    scoreMaximum: item.scoreMaximum > 0 ? item.scoreMaximum : undefined,
  };
  const known = await tx.findByLineItemUrl(tenantId, courseId, item.id);
  if (known !== undefined) {
    await tx.updateLmsFields(tenantId, courseId, known.id, {
      ...fields,
      // A teacher's own title is theirs; an LMS column's title follows the LMS.
      title: known.source === 'lms_line_item' ? item.label.slice(0, 500) : undefined,
      resourceLinkId: known.resourceLinkId ?? item.resourceLinkId,
    });
    return 'linked';
  }
  // A column the tool created (Deep Linking) names its assignment in resourceId; after a course
  // copy the LMS copies the resourceId, so it names the ORIGINAL course's assignment.
  const namedId = assignmentIdFromResourceId(item.resourceId);
  const named = namedId === undefined ? undefined : await tx.findInTenant(tenantId, namedId);
  if (named?.courseId === courseId) {
    await tx.updateLmsFields(tenantId, courseId, named.id, {
      ...fields,
      lineItemUrl: named.lineItemUrl ?? item.id,
      resourceLinkId: named.resourceLinkId ?? item.resourceLinkId,
    });
    return 'linked';
  }
  if (named !== undefined) {
    const { created } = await copyInto(
      tx,
      tenantId,
      courseId,
      named,
      { ...fields, title: item.label.slice(0, 500), resourceLinkId: item.resourceLinkId },
      actor,
    );
    return created ? 'copied' : 'linked';
  }
  if (item.resourceLinkId !== undefined) {
    const byLink = await tx.findByResourceLinkId(tenantId, courseId, item.resourceLinkId);
    if (byLink !== undefined) {
      await tx.updateLmsFields(tenantId, courseId, byLink.id, {
        ...fields,
        lineItemUrl: byLink.lineItemUrl ?? item.id,
      });
      return 'linked';
    }
  }
  await tx.create({
    tenantId,
    courseId,
    title: item.label.trim() === '' ? 'Untitled column' : item.label.slice(0, 500),
    source: item.resourceLinkId === undefined ? 'lms_line_item' : 'deep_link',
    resourceLinkId: item.resourceLinkId,
    createdBy: actor,
    ...fields,
  });
  return 'created';
}

export function createDiscovery(deps: AreaDeps) {
  return {
    /**
     * "Refresh from LMS": reads the course's line items (AGS) and makes each an assignment of the
     * course, recognising the tool's own Deep Linking columns and columns of a copied course.
     * Each line item is applied in its own transaction, so a failure leaves earlier ones applied
     * and the next refresh continues.
     */
    discoverFromLms: async (
      tenantId: string,
      courseId: string,
      actor: string,
    ): Promise<DiscoveryResult> => {
      const items = await listCourseLineItems(deps, tenantId, courseId);
      const counts = { created: 0, copied: 0, linked: 0, skipped: 0 };
      for (const item of items) {
        const outcome = await inAssignmentTransaction(deps.db, deps.now, (tx) =>
          applyLineItem(tx, tenantId, courseId, item, actor),
        );
        counts[outcome] += 1;
      }
      return counts;
    },

    /**
     * Called when a resource link of the course is launched. Links the assignment the link was
     * created for (`mp_assignment_id` custom parameter of a Deep Linking item), or, after a
     * course copy, recognises the link by the LMS's resource link history
     * (`$ResourceLink.id.history`, most recent first) and copies that assignment and its
     * alignments into the course. Returns the course's assignment for the link, if any.
     */
    recordResourceLink: async (input: {
      tenantId: string;
      courseId: string;
      resourceLinkId: string;
      title?: string | undefined;
      assignmentId?: string | undefined;
      history?: readonly string[] | undefined;
      /** The launch's AGS `lineitem`: the link's own column, when it has exactly one. */
      lineItemUrl?: string | undefined;
      actor: string;
    }): Promise<Assignment | undefined> => {
      const { tenantId, courseId, resourceLinkId } = input;
      const found = await inAssignmentTransaction(deps.db, deps.now, async (tx) => {
        const known = await tx.findByResourceLinkId(tenantId, courseId, resourceLinkId);
        if (known !== undefined) return known;
        const named =
          input.assignmentId === undefined
            ? undefined
            : await tx.findInTenant(tenantId, input.assignmentId);
        if (named?.courseId === courseId) {
          if (named.resourceLinkId !== undefined) return named;
          return tx.updateLmsFields(tenantId, courseId, named.id, { resourceLinkId });
        }
        const history = (input.history ?? [])
          .map((id) => id.trim())
          .filter((id) => id !== '' && id !== resourceLinkId)
          .slice(0, 50);
        // An assignment of ANOTHER course is copied only when the LMS's link history names its
        // link: a custom parameter alone (which some LMSs let teachers edit) could otherwise copy
        // any course's assignment and alignments in the district.
        const previous = (
          await tx.findByResourceLinkIdsElsewhere(tenantId, courseId, history)
        ).sort(
          (a, b) =>
            history.indexOf(a.resourceLinkId ?? '') - history.indexOf(b.resourceLinkId ?? ''),
        )[0];
        if (previous === undefined) return undefined;
        const { assignment } = await copyInto(
          tx,
          tenantId,
          courseId,
          previous,
          {
            title: (input.title ?? previous.title).slice(0, 500),
            resourceLinkId,
            resourceId: previous.resourceId,
            tag: previous.tag,
          },
          input.actor,
        );
        return assignment;
      });
      if (found !== undefined) return found;
      return recoverCopiedLink(input);
    },
  };

  /**
   * A copied link without `$ResourceLink.id.history` (Canvas fills it only for asset-processor
   * tools; Schoology and Moodle not at all) still names the ORIGINAL assignment in its custom
   * parameter, which a teacher may be able to edit. The link's column, read from the LMS at the
   * line item URL of this (signed) launch, carries the resourceId the tool gave the original
   * column, copied with the course and not editable by teachers. When both name the same
   * assignment of another course of the district, it is copied here with its alignments, as
   * "Refresh from LMS" would; anything else copies nothing.
   */
  async function recoverCopiedLink(input: {
    tenantId: string;
    courseId: string;
    resourceLinkId: string;
    title?: string | undefined;
    assignmentId?: string | undefined;
    lineItemUrl?: string | undefined;
    actor: string;
  }): Promise<Assignment | undefined> {
    const { tenantId, courseId, resourceLinkId, assignmentId, lineItemUrl } = input;
    if (assignmentId === undefined || lineItemUrl === undefined) return undefined;
    // Only for an assignment of another course: the common launch of a known link costs nothing.
    const elsewhere = await inAssignmentTransaction(deps.db, deps.now, async (tx) => {
      const named = await tx.findInTenant(tenantId, assignmentId);
      return named !== undefined && named.courseId !== courseId;
    });
    if (!elsewhere) return undefined;
    const { context } = await courseServiceContext(deps, tenantId, courseId);
    const item = await fromLms(() => createAgsClient(context).getLineItem(lineItemUrl));
    if (assignmentIdFromResourceId(item.resourceId) !== assignmentId) return undefined;
    if (item.resourceLinkId !== undefined && item.resourceLinkId !== resourceLinkId) {
      return undefined;
    }
    return inAssignmentTransaction(deps.db, deps.now, async (tx) => {
      const known = await tx.findByResourceLinkId(tenantId, courseId, resourceLinkId);
      if (known !== undefined) return known;
      const named = await tx.findInTenant(tenantId, assignmentId);
      if (named === undefined || named.courseId === courseId) return undefined;
      const { assignment } = await copyInto(
        tx,
        tenantId,
        courseId,
        named,
        {
          title: (input.title ?? item.label).slice(0, 500),
          lineItemUrl: item.id,
          resourceLinkId,
          resourceId: item.resourceId,
          tag: item.tag,
          scoreMaximum: item.scoreMaximum > 0 ? item.scoreMaximum : undefined,
        },
        input.actor,
      );
      return assignment;
    });
  }
}
