/**
 * Every failure of the LTI protocol core has one stable code from this closed list, an HTTP status and a
 * message written for people (teachers, LMS admins). Details for operators travel in `detail` and `cause`
 * and are meant for logs, never for the response body.
 */
export type LtiErrorCode =
  | 'unknown_issuer'
  | 'unknown_client'
  | 'missing_parameter'
  | 'invalid_parameter'
  | 'state_not_found'
  | 'state_mismatch'
  | 'state_expired'
  | 'invalid_token'
  | 'unsupported_alg'
  | 'missing_kid'
  | 'signature_invalid'
  | 'unknown_kid'
  | 'jwks_unavailable'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'azp_mismatch'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'iat_in_future'
  | 'nonce_mismatch'
  | 'nonce_replay'
  | 'unknown_deployment'
  | 'deployment_mismatch'
  | 'wrong_version'
  | 'wrong_message_type'
  | 'missing_claim'
  | 'invalid_claim'
  | 'foreign_target_link_uri'
  | 'no_course_context'
  | 'content_item_not_accepted'
  | 'service_not_available'
  | 'token_request_failed'
  | 'invalid_service_response'
  | 'no_signing_key'
  | 'key_decryption_failed'
  | 'registration_url_rejected'
  | 'registration_failed';

interface ErrorDescription {
  readonly status: number;
  readonly message: string;
}

/** A frozen table, not mutable state: one place to read every message people may see. */
const DESCRIPTIONS: Readonly<Record<LtiErrorCode, ErrorDescription>> = Object.freeze({
  unknown_issuer: {
    status: 400,
    message:
      'This LMS is not registered with Mastery Pathways. Ask your LMS administrator to register the tool (or check that the issuer URL in the registration is exact).',
  },
  unknown_client: {
    status: 400,
    message:
      'This LMS sent a client ID that is not registered with Mastery Pathways. Ask your LMS administrator to check the tool registration.',
  },
  missing_parameter: {
    status: 400,
    message:
      'The LMS sent an incomplete launch request. Try opening the tool again; if it keeps happening, ask your LMS administrator to check the tool configuration.',
  },
  invalid_parameter: {
    status: 400,
    message:
      'The LMS sent a launch request that could not be read. Try opening the tool again; if it keeps happening, ask your LMS administrator.',
  },
  state_not_found: {
    status: 400,
    message:
      'This launch has expired or was already used. Go back to your course and open the tool again.',
  },
  state_mismatch: {
    status: 400,
    message:
      'This launch did not start in this browser. Go back to your course and open the tool again. If your browser blocks third-party cookies, allow them for this site.',
  },
  state_expired: {
    status: 400,
    message:
      'This launch took too long and expired. Go back to your course and open the tool again.',
  },
  invalid_token: {
    status: 401,
    message:
      'The LMS sent a launch message that could not be read. Ask your LMS administrator to check the tool registration.',
  },
  unsupported_alg: {
    status: 401,
    message:
      'The LMS signed the launch with an algorithm Mastery Pathways does not accept (RS256 is required). Ask your LMS administrator.',
  },
  missing_kid: {
    status: 401,
    message:
      'The LMS signed the launch without naming its key (the JWT header has no "kid"), which LTI 1.3 requires. Ask your LMS administrator to check the platform\'s LTI 1.3 settings.',
  },
  signature_invalid: {
    status: 401,
    message:
      "The launch message's signature is not valid. Ask your LMS administrator to check the platform key set URL in the tool registration.",
  },
  unknown_kid: {
    status: 401,
    message:
      "The LMS signed with a key it does not publish: Mastery Pathways fetched the LMS's public keys again and the key is not among them. Open the tool again in a minute; if it keeps happening, ask your LMS administrator.",
  },
  jwks_unavailable: {
    status: 502,
    message:
      "Mastery Pathways could not fetch the LMS's public keys. Try again in a minute; if it persists, ask your LMS administrator to check the key set URL.",
  },
  issuer_mismatch: {
    status: 401,
    message:
      'The launch message came from a different LMS than the one that started the login. Ask your LMS administrator to check the issuer in the tool registration.',
  },
  audience_mismatch: {
    status: 401,
    message:
      'The launch message was meant for a different tool (client ID). Ask your LMS administrator to check the client ID in the tool registration.',
  },
  azp_mismatch: {
    status: 401,
    message:
      'The launch message names a different authorized party (azp) than our client ID. Ask your LMS administrator to check the tool registration.',
  },
  token_expired: {
    status: 401,
    message:
      'The launch message has expired. Go back to your course and open the tool again; if it keeps happening, the LMS server clock may be wrong.',
  },
  token_not_yet_valid: {
    status: 401,
    message:
      'The launch message is not valid yet. The LMS server clock may be wrong; ask your LMS administrator.',
  },
  iat_in_future: {
    status: 401,
    message:
      'The launch message was issued in the future. The LMS server clock may be wrong; ask your LMS administrator.',
  },
  nonce_mismatch: {
    status: 401,
    message:
      'The launch message does not belong to this login. Go back to your course and open the tool again.',
  },
  nonce_replay: {
    status: 401,
    message:
      'This launch message was already used. Go back to your course and open the tool again.',
  },
  unknown_deployment: {
    status: 403,
    message:
      'This installation of the tool (deployment) is not enabled in Mastery Pathways. Ask your district administrator to add the deployment ID.',
  },
  deployment_mismatch: {
    status: 401,
    message:
      'The launch names a different deployment than the login. Go back to your course and open the tool again.',
  },
  wrong_version: {
    status: 400,
    message:
      'The LMS sent a launch for an LTI version other than 1.3. Ask your LMS administrator to use LTI 1.3.',
  },
  wrong_message_type: {
    status: 400,
    message:
      'The LMS sent a kind of launch Mastery Pathways does not handle here. Ask your LMS administrator to check the tool placements.',
  },
  missing_claim: {
    status: 400,
    message:
      'The LMS left out information Mastery Pathways needs (for example the user or course). Ask your LMS administrator to check the privacy level of the tool.',
  },
  invalid_claim: {
    status: 400,
    message:
      'The LMS sent launch information in a form Mastery Pathways cannot read. Ask your LMS administrator.',
  },
  foreign_target_link_uri: {
    status: 400,
    message:
      'The launch points at an address that is not part of Mastery Pathways. Ask your LMS administrator to check the target link URI.',
  },
  no_course_context: {
    status: 400,
    message:
      'Mastery Pathways must be launched from a course. Go to your course in the LMS and open the tool from there (for example from the course menu or an assignment).',
  },
  content_item_not_accepted: {
    status: 400,
    message:
      'The LMS does not accept this kind of content here. Try adding it from a different place in the course.',
  },
  service_not_available: {
    status: 409,
    message:
      'The LMS did not grant access to this service (grades or class list) for this course. Ask your LMS administrator to enable it for the tool.',
  },
  token_request_failed: {
    status: 502,
    message:
      'The LMS refused to give Mastery Pathways access to grades or the class list. Ask your LMS administrator to check that the tool key is enabled and has the needed scopes.',
  },
  invalid_service_response: {
    status: 502,
    message: 'The LMS answered in a form Mastery Pathways could not read. Try again later.',
  },
  no_signing_key: {
    status: 500,
    message: 'Mastery Pathways has no active signing key. The tool operator must create one.',
  },
  key_decryption_failed: {
    status: 500,
    message:
      'Mastery Pathways could not unlock its signing key. The tool operator must check the key secret.',
  },
  registration_url_rejected: {
    status: 400,
    message:
      'The registration address from the LMS is not allowed (it must be a public https address). Ask your LMS administrator.',
  },
  registration_failed: {
    status: 502,
    message:
      'Registering the tool with the LMS failed. Try again; if it keeps failing, register the tool manually.',
  },
});

/**
 * What support needs to answer "why was this launch refused" from the log alone: the check that
 * failed and the claim, key id or deployment it was about. Only identifiers and claim names go here,
 * never names, emails or tokens.
 */
/** Every code of the closed union, in one list (for the test that each has a test). */
export const LTI_ERROR_CODES: readonly LtiErrorCode[] = Object.freeze(
  Object.keys(DESCRIPTIONS) as LtiErrorCode[],
);

export interface LtiDiagnostics {
  /** The launch check that failed (the checklist step's name, e.g. `verifySignature`). */
  readonly check?: string;
  /** The claim concerned (its URI or short name), for missing or malformed claims. */
  readonly claim?: string;
  /** The `kid` of the launch's JWT header. */
  readonly kid?: string;
  readonly issuer?: string;
  readonly clientId?: string;
  readonly deploymentId?: string;
  readonly messageType?: string;
}

export interface LtiErrorOptions {
  /** For operators and logs only: which claim, which URL, what was expected. */
  readonly detail?: string;
  readonly cause?: unknown;
  readonly diagnostics?: LtiDiagnostics;
}

export class LtiError extends Error {
  override readonly name = 'LtiError';
  readonly code: LtiErrorCode;
  readonly status: number;
  /** `true` when the people-facing `message` may be shown to the user (node-oidc-provider: status < 500). */
  readonly expose: boolean;
  readonly detail: string | undefined;
  readonly diagnostics: LtiDiagnostics;

  constructor(code: LtiErrorCode, options: LtiErrorOptions = {}) {
    const description = DESCRIPTIONS[code];
    super(description.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = description.status;
    this.expose = description.status < 500;
    this.detail = options.detail;
    this.diagnostics = options.diagnostics ?? {};
  }

  /** The same refusal, with more of what support needs to know (earlier values win). */
  withDiagnostics(more: LtiDiagnostics): LtiError {
    const merged: LtiDiagnostics = { ...dropUndefined(more), ...dropUndefined(this.diagnostics) };
    return new LtiError(this.code, {
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      cause: this.cause,
      diagnostics: merged,
    });
  }
}

function dropUndefined(value: LtiDiagnostics): LtiDiagnostics {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
}

export function isLtiError(error: unknown, code?: LtiErrorCode): error is LtiError {
  return error instanceof LtiError && (code === undefined || error.code === code);
}

export type LmsHttpErrorKind = 'status' | 'network' | 'timeout' | 'too_large';

/** An outbound call to an LMS service failed after the retry policy gave up (or chose not to retry). */
export class LmsHttpError extends Error {
  override readonly name = 'LmsHttpError';
  readonly kind: LmsHttpErrorKind;
  readonly method: string;
  readonly url: string;
  /** The HTTP status, when the LMS answered at all. */
  readonly status: number | undefined;
  /** The first characters of the response body, for logs and for showing LMS errors to teachers. */
  readonly bodyExcerpt: string;
  /** Whether trying the same request later could succeed (429, 5xx, network, timeout). */
  readonly retryable: boolean;
  /** When the LMS asked us to wait longer than we are willing to wait inline (Retry-After over the cap). */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    kind: LmsHttpErrorKind;
    method: string;
    url: string;
    status?: number;
    bodyExcerpt?: string;
    retryable: boolean;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    const what = init.status === undefined ? init.kind : `HTTP ${init.status}`;
    super(
      `${init.method} ${init.url} failed: ${what}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.kind = init.kind;
    this.method = init.method;
    this.url = init.url;
    this.status = init.status;
    this.bodyExcerpt = init.bodyExcerpt ?? '';
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
  }
}
