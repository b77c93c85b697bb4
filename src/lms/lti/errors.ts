import { LmsHttpError, LtiError } from '../../lti/errors.ts';
import { LmsError, type LmsErrorReason } from '../errors.ts';
import { PLATFORMS, type LmsRefusal } from '../platforms/index.ts';

/**
 * AGS/NRPS and token failures (the HTTP client's `LmsHttpError`, the protocol's `LtiError`) in the
 * LMS-neutral kinds. The checks run in the order that tells causes apart: throttling before the
 * refusal's words, the words before the bare status.
 */

/**
 * The platforms' own signals. A stored error does not say which platform answered, and each signal
 * is specific enough (Canvas's throttling words, Google's PERMISSION_DENIED) to read on all.
 */
function throttled(refusal: LmsRefusal): boolean {
  return Object.values(PLATFORMS).some((profile) => profile.isThrottled?.(refusal) === true);
}

function statedReason(refusal: LmsRefusal): LmsErrorReason | undefined {
  for (const profile of Object.values(PLATFORMS)) {
    const reason = profile.refusalReason?.(refusal);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

export function lmsErrorFromHttp(error: LmsHttpError): LmsError {
  const from = { cause: error, detail: error.message };
  if (error.kind === 'timeout') return new LmsError('unavailable', { ...from, reason: 'timeout' });
  if (error.kind === 'network') return new LmsError('unavailable', { ...from, reason: 'network' });
  const status = error.status;
  if (status === undefined) {
    return new LmsError('unavailable', { ...from, reason: 'unexpected_answer' });
  }
  const answered = { ...from, httpStatus: status };
  const waited = { ...answered, retryAfterMs: error.retryAfterMs };
  if (status === 429) return new LmsError('rate_limited', waited);
  if (status >= 500) return new LmsError('unavailable', waited);
  const refusal: LmsRefusal = {
    status,
    body: error.bodyExcerpt.toLowerCase(),
    retryable: error.retryable,
  };
  if (throttled(refusal)) return new LmsError('rate_limited', waited);
  const reason = statedReason(refusal);
  if (reason !== undefined) {
    const kind = status === 404 ? 'not_found' : status === 403 ? 'forbidden' : 'invalid';
    return new LmsError(kind, { ...answered, reason });
  }
  if (status === 404) return new LmsError('not_found', answered);
  if (status === 401) return new LmsError('auth_revoked', { ...answered, reason: 'token_refused' });
  if (status === 403) return new LmsError('forbidden', answered);
  return new LmsError('invalid', answered);
}

/** An LTI protocol or HTTP failure in neutral kinds; undefined when it is neither. */
export function lmsErrorFromLti(error: unknown): LmsError | undefined {
  if (error instanceof LmsHttpError) return lmsErrorFromHttp(error);
  if (!(error instanceof LtiError)) return undefined;
  const from = { cause: error, detail: error.message };
  if (error.code === 'token_request_failed') {
    const cause = error.cause instanceof LmsHttpError ? error.cause : undefined;
    return new LmsError('auth_revoked', {
      ...from,
      reason: 'token_refused',
      httpStatus: cause?.status,
      retryAfterMs: cause?.retryAfterMs,
    });
  }
  if (error.code === 'service_not_available') {
    return new LmsError('forbidden', { ...from, reason: 'service_not_granted' });
  }
  if (error.code === 'invalid_service_response') return new LmsError('unavailable', from);
  // Launch and registration codes are not failures of a service call.
  return undefined;
}
