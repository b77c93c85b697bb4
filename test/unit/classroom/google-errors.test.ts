import { expect } from 'chai';
import { classroomErrorFromGoogle } from '../../../src/classroom/errors.ts';
import { GoogleApiError, parseGoogleErrorBody } from '../../../src/classroom/google-http.ts';

/** A 403 as Google sends it, read the way createGoogleHttp reads it (the whole body). */
function refusal(body: unknown): GoogleApiError {
  const text = JSON.stringify(body);
  return new GoogleApiError(
    {
      kind: 'status',
      method: 'GET',
      url: 'https://classroom.googleapis.com/v1/courses/1',
      status: 403,
      bodyExcerpt: text.slice(0, 500),
      retryable: false,
    },
    parseGoogleErrorBody(text),
  );
}

const LONG =
  'Google Classroom API has not been used in project 123456789012 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/classroom.googleapis.com/overview?project=123456789012 then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.';

describe('Google error bodies, in words (Access Errors, errors guide, google.rpc.ErrorInfo)', () => {
  it('when the reason is in details past the first 500 characters, then it is still read', () => {
    const error = refusal({
      error: {
        code: 403,
        message: LONG,
        errors: [{ message: LONG, domain: 'usageLimits', reason: 'accessNotConfigured' }],
        status: 'PERMISSION_DENIED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'SERVICE_DISABLED',
            domain: 'googleapis.com',
          },
        ],
      },
    });
    expect(error.bodyExcerpt).not.to.include('SERVICE_DISABLED');
    expect(classroomErrorFromGoogle(error)?.code).to.equal('api_not_enabled');
  });

  it('when the message starts with an @Reason, then each documented reason has its own words and course-stopping kind', () => {
    const cases: [string, string, boolean][] = [
      [
        '@ClassroomApiDisabled The user is not permitted to access the Classroom API.',
        'classroom_api_disabled',
        true,
      ],
      [
        '@ClassroomDisabled The user is not permitted to access Classroom.',
        'classroom_disabled',
        true,
      ],
      [
        '@ProjectPermissionDenied The Developer Console project is not permitted to make this request.',
        'permission_denied',
        false,
      ],
      ['@ExpiredAddOnToken The add-on token has expired.', 'add_on_token_invalid', false],
    ];
    for (const [message, code, stops] of cases) {
      const explained = classroomErrorFromGoogle(
        refusal({ error: { code: 403, message, status: 'PERMISSION_DENIED' } }),
      );
      expect(explained?.code, message).to.equal(code);
      expect(explained?.stopsCourseGrading, message).to.equal(stops);
    }
  });

  it('when scopes are missing or the caller is no longer in the class, then those are told apart; a bare 403 without a body is not explained', () => {
    const scopes = classroomErrorFromGoogle(
      refusal({
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          status: 'PERMISSION_DENIED',
          details: [{ reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com' }],
        },
      }),
    );
    expect(scopes?.code).to.equal('scopes_not_granted');
    const generic = refusal({
      error: {
        code: 403,
        message: 'The caller does not have permission',
        status: 'PERMISSION_DENIED',
      },
    });
    expect(classroomErrorFromGoogle(generic)).to.equal(undefined);
    expect(classroomErrorFromGoogle(generic, 'teacher_left_course')?.code).to.equal(
      'teacher_left_course',
    );
    // A reason that is an Object.prototype key names nothing.
    expect(
      classroomErrorFromGoogle(
        refusal({ error: { code: 403, message: '@constructor x', status: 'PERMISSION_DENIED' } }),
      ),
    ).to.equal(undefined);
    expect(parseGoogleErrorBody('<html>Forbidden</html>')).to.equal(undefined);
  });
});
