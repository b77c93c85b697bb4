import express, { type Router } from 'express';
import { z } from 'zod';
import { MEDIA_TYPE, SCOPE, TEST_USER_ROLE, membershipRoles, roleMatches } from '../claims.ts';
import type { EmulatorContext } from '../context.ts';
import { canvasThrottle } from './canvas-throttle.ts';
import { nextPageLink, requireToken, sendApiError, serviceGuard } from './service-guard.ts';

const membershipQuery = z.object({
  role: z.string().min(1).optional(),
  rlid: z.string().min(1).optional(),
  limit: z.coerce.number().int().positive().optional(),
  page: z.coerce.number().int().positive().optional(),
});

/** Names and Role Provisioning Services 2.0: the context membership container. */
export function nrpsRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const { state, options } = ctx;
  const path = '/api/lti/courses/:courseId/names_and_roles';
  router.get(path, canvasThrottle(ctx), serviceGuard(ctx), (req, res) => {
    const token = requireToken(ctx, req, res, [SCOPE.nrps]);
    if (!token) return;
    const course = state.courses.get(String(req.params['courseId']));
    if (!course) {
      sendApiError(res, 404, 'not_found', 'The specified resource does not exist.');
      return;
    }
    const deployed = state
      .deploymentsOf(token.clientId)
      .some((d) => d.courseIds === undefined || d.courseIds.includes(course.courseId));
    if (!deployed) {
      sendApiError(res, 403, 'forbidden', 'Tool is not installed in this context');
      return;
    }
    const q = membershipQuery.safeParse(req.query);
    if (!q.success) {
      sendApiError(res, 400, 'bad_request', q.error.issues.map((i) => i.message).join('; '));
      return;
    }
    if (q.data.rlid !== undefined) {
      const link = state.resourceLinks.get(q.data.rlid);
      if (!link || link.courseId !== course.courseId) {
        sendApiError(res, 400, 'bad_request', 'rlid is not a resource link of this context');
        return;
      }
    }
    const members = state
      .members(course.courseId)
      .map(({ person, roles }) => ({
        status: 'Active',
        name: person.name,
        given_name: person.givenName,
        family_name: person.familyName,
        email: person.email,
        user_id: person.sub,
        lis_person_sourcedid: `sis-${person.userId}`,
        roles: [
          ...new Set(roles.flatMap((r) => membershipRoles(r, state.flavour))),
          // Canvas's Student View user: Learner plus the TestUser system role.
          ...(state.flavour === 'canvas' && person.isTestStudent ? [TEST_USER_ROLE] : []),
        ],
      }))
      .filter((m) => q.data.role === undefined || roleMatches(m.roles, q.data.role));
    // Pages: Canvas 50 by default and at most 50 (memberships_provider.rb MAX_PAGE_SIZE), Schoology
    // at most 100; follow Link rel="next".
    const limit = Math.min(q.data.limit ?? options.nrpsMaxPageSize, options.nrpsMaxPageSize);
    const page = q.data.page ?? 1;
    if (page * limit < members.length) res.set('Link', nextPageLink(options.baseUrl, req, page));
    res
      .status(200)
      .type(MEDIA_TYPE.membershipContainer)
      .send(
        JSON.stringify({
          id: new URL(req.originalUrl, options.baseUrl).toString(),
          context: { id: course.contextId, label: course.label, title: course.title },
          members: members.slice((page - 1) * limit, page * limit),
        }),
      );
  });
  return router;
}
