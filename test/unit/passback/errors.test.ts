import { expect } from 'chai';
import { ClassroomError } from '../../../src/classroom/errors.ts';
import { LmsHttpError } from '../../../src/lti/errors.ts';
import { classifyPassbackError, PASSBACK_ERROR_MESSAGES } from '../../../src/passback/errors.ts';

const http = (status: number, body: string) =>
  new LmsHttpError({
    kind: 'status',
    method: 'PATCH',
    url: 'https://classroom.googleapis.com/v1/courses/1/courseWork/2/studentSubmissions/3',
    status,
    bodyExcerpt: body,
    retryable: status >= 500 || status === 429,
  });

describe('passback errors: Google Classroom causes', () => {
  it('when Google answers 403 PERMISSION_DENIED, then the cell stops with words about the other project', () => {
    const classified = classifyPassbackError(
      http(
        403,
        '{"error":{"code":403,"message":"@ProjectPermissionDenied The Developer Project is not permitted to make this request.","status":"PERMISSION_DENIED"}}',
      ),
    );
    expect(classified).to.deep.include({ kind: 'permanent', code: 'classroom_permission_denied' });
    expect(PASSBACK_ERROR_MESSAGES.classroom_permission_denied).to.contain('another app');
  });

  it('when an LTI platform answers a plain 403, then it stays the generic refusal', () => {
    expect(classifyPassbackError(http(403, 'Forbidden'))).to.deep.include({
      kind: 'permanent',
      code: 'forbidden',
    });
  });

  it('when the teacher’s Google access was revoked, then grades wait (transient) and the page says to sign in again', () => {
    const classified = classifyPassbackError(new ClassroomError('needs_teacher_sign_in'));
    expect(classified).to.deep.include({ kind: 'transient', code: 'classroom_sign_in_needed' });
    expect(PASSBACK_ERROR_MESSAGES.classroom_sign_in_needed).to.contain('signs in again');
  });
});

describe('passback errors: Canvas throttling', () => {
  const canvas = (status: number, body: string, retryable: boolean, retryAfterMs?: number) =>
    new LmsHttpError({
      kind: 'status',
      method: 'POST',
      url: 'https://canvas.example/api/lti/courses/1/line_items/2/scores',
      status,
      bodyExcerpt: body,
      retryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });

  it('when Canvas answers its throttling 403, then the grade waits as rate limited (transient), not as a refusal', () => {
    expect(
      classifyPassbackError(canvas(403, '403 Forbidden (Rate Limit Exceeded)\n', true, 2000)),
    ).to.deep.include({ kind: 'transient', code: 'rate_limited', retryAfterMs: 2000 });
    // The body alone is enough, whatever the client decided.
    expect(
      classifyPassbackError(canvas(403, '403 Forbidden (Rate Limit Exceeded)', false)),
    ).to.deep.include({ kind: 'transient', code: 'rate_limited' });
    // X-Rate-Limit-Remaining: 0 with another body: the HTTP client marks the 403 retryable.
    expect(classifyPassbackError(canvas(403, 'Forbidden', true))).to.deep.include({
      kind: 'transient',
      code: 'rate_limited',
    });
  });

  it('when Canvas answers a genuine 403, then it stays a permanent refusal', () => {
    expect(
      classifyPassbackError(
        canvas(403, '{"errors":[{"message":"user not authorized to perform that action"}]}', false),
      ),
    ).to.deep.include({ kind: 'permanent', code: 'forbidden' });
  });
});
