import { expect } from 'chai';
import { loggedPath } from '../../../src/web/middleware/observability.ts';

describe('request log paths', () => {
  it('when a path carries a session token or a sign-in flow id, then the log gets a placeholder', () => {
    expect(loggedPath('/s/AbC_123-xyzxyzxyzxyzxyz/course/mastery?sort=name')).to.equal(
      '/s/:session/course/mastery',
    );
    expect(loggedPath('/classroom/bristol/sign-in/3f1c9a?k=secret')).to.equal(
      '/classroom/bristol/sign-in/:flow',
    );
    expect(loggedPath('/classroom/bristol/continue/3f1c9a')).to.equal(
      '/classroom/bristol/continue/:flow',
    );
  });

  it('when a path carries no secret, then it is logged as it is, without its query string', () => {
    expect(loggedPath('/classroom/bristol/teacher-view?courseId=1')).to.equal(
      '/classroom/bristol/teacher-view',
    );
    expect(loggedPath('/lti/launch')).to.equal('/lti/launch');
  });
});
