import type { AreaDeps } from '../area-deps.ts';
import { createStandardsSearchCache } from '../standards/queries.ts';
import { createAssignmentUseCases } from './assignments.ts';
import { courseCoverage } from './coverage.ts';
import { createDiscovery } from './discovery.ts';
import { createStandardsPicker } from './picker.ts';

/**
 * The alignment area's services, built once per app: a course's assignments (from the LMS, Deep
 * Linking and teachers), their alignment to the district's standards, the standards picker,
 * suggestions and the coverage matrix. Every function takes the tenant and the course; an id of
 * another course or district finds nothing.
 */
export function createAlignmentServices(deps: AreaDeps) {
  const assignments = createAssignmentUseCases(deps.db, deps.now);
  const discovery = createDiscovery(deps);
  // Search indexes live as long as the app; a framework's revision tells when one is stale.
  const picker = createStandardsPicker(deps.db, deps.now, createStandardsSearchCache());
  return {
    listAssignments: assignments.listAssignments,
    getAssignment: assignments.getAssignment,
    alignmentsForCourse: assignments.alignmentsForCourse,
    alignmentsOf: assignments.alignmentsOf,
    createTeacherAssignment: assignments.createTeacherAssignment,
    createDeepLinkAssignment: assignments.createDeepLinkAssignment,
    setAlignments: assignments.setAlignments,
    addAlignment: assignments.addAlignment,
    removeAlignment: assignments.removeAlignment,
    discoverFromLms: discovery.discoverFromLms,
    recordResourceLink: discovery.recordResourceLink,
    searchStandards: picker.search,
    suggestStandards: picker.suggest,
    describeStandards: picker.describe,
    coverage: (request: {
      tenantId: string;
      courseId: string;
      frameworkId?: string | undefined;
      groupId?: string | undefined;
    }) => courseCoverage(deps.db, assignments.repository, request),
    /** For Deep Linking: the assignment row exists before the LMS creates its column. */
    repository: assignments.repository,
  };
}

export type AlignmentServices = ReturnType<typeof createAlignmentServices>;
