import type { RequestHandler, Request } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { LmsRole } from '../../lms/roles.ts';
import { resumeToolSession, type Session, type User } from '../../launch/tool-session.ts';
import { HttpError, sessionEnded } from '../errors.ts';
import { csrfGuard } from './csrf.ts';

/**
 * A launched user's session. Inside LMS iframes third-party cookies are blocked, so the session
 * token travels in the URL path (`/s/<token>/…`): every link and form of a tool page is relative
 * to it. Only the token's hash is stored; the logger strips the token from paths; Referrer-Policy
 * keeps it from leaving the tool.
 */
export interface ToolViewer {
  readonly session: Session;
  readonly token: string;
  readonly user: User;
  readonly tenantId: string;
  readonly isInstructor: boolean;
  readonly isLearner: boolean;
  readonly isMentor: boolean;
  readonly isAdministrator: boolean;
  /** `/s/<token>`: prefix for links and form actions. */
  readonly base: string;
}

const viewers = new WeakMap<Request, ToolViewer>();

export function viewer(req: Request): ToolViewer {
  const found = viewers.get(req);
  if (found === undefined) throw new Error('viewer used outside a session route');
  return found;
}

/** What people read for each role. */
export const ROLE_LABELS: Readonly<Record<LmsRole, string>> = {
  teacher: 'Teacher',
  student: 'Student',
  mentor: 'Mentor',
  administrator: 'Administrator',
  other: 'Member',
};

/** The viewer's own label: an administrator acts as one here even when also teaching the course. */
export function roleLabel(v: ToolViewer): string {
  if (v.isAdministrator) return ROLE_LABELS.administrator;
  if (v.isInstructor) return ROLE_LABELS.teacher;
  if (v.isMentor) return ROLE_LABELS.mentor;
  if (v.isLearner) return ROLE_LABELS.student;
  return ROLE_LABELS.other;
}

const TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

export function sessionMiddleware(services: AppServices): RequestHandler {
  return async (req, _res, next) => {
    const token = req.params.sessionToken;
    if (typeof token !== 'string' || !TOKEN.test(token)) {
      throw sessionEnded();
    }
    const resumed = await resumeToolSession(services, token);
    if (resumed === undefined) throw sessionEnded();
    const { session, user } = resumed;
    viewers.set(req, {
      session,
      token,
      user,
      tenantId: session.tenantId,
      isInstructor: session.roles.includes('teacher'),
      isLearner: session.roles.includes('student'),
      isMentor: session.roles.includes('mentor'),
      isAdministrator: session.roles.includes('administrator'),
      base: `/s/${token}`,
    });
    next();
  };
}

/** Forms carry the session's CSRF secret in `_csrf`; a POST without the right one is refused. */
export const requireCsrf: RequestHandler = csrfGuard((req) => viewer(req).session.csrfSecret);

export const requireInstructor: RequestHandler = (req, _res, next) => {
  const v = viewer(req);
  if (!v.isInstructor && !v.isAdministrator) {
    throw new HttpError(403, 'forbidden', 'Only the course’s teachers can open this page.');
  }
  next();
};
