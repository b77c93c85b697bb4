import type { PeopleRepository, User } from '../storage/lti/people.repository.ts';
import type { Session, SessionRepository } from '../storage/lti/sessions.repository.ts';

export type { Session, User };

export interface ToolSessionDeps {
  readonly sessions: Pick<SessionRepository, 'findByToken' | 'touch'>;
  readonly people: Pick<PeopleRepository, 'findUserById'>;
}

/**
 * The live session of a token from the path, and its user; `undefined` when it ended (idle too
 * long, past its absolute limit) or its user is gone. Seen now: its idle timeout starts again.
 */
export async function resumeToolSession(
  deps: ToolSessionDeps,
  token: string,
): Promise<{ session: Session; user: User } | undefined> {
  const session = await deps.sessions.findByToken(token);
  if (session === undefined) return undefined;
  const user = await deps.people.findUserById(session.tenantId, session.userId);
  if (user === undefined) return undefined;
  await deps.sessions.touch(token);
  return { session, user };
}
