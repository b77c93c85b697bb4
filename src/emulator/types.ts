/**
 * Domain types of the LMS emulator: a test double of an LTI 1.3 Advantage PLATFORM.
 * Everything lives in one emulator instance (see state.ts); nothing here is module state.
 */

/** The LTI 1.3 platform flavours (everything in this folder outside classroom/ speaks LTI). */
export type Flavour = 'canvas' | 'schoology' | 'moodle';

export const FLAVOURS: readonly Flavour[] = ['canvas', 'schoology', 'moodle'];

/**
 * Every flavour the emulator starts: the LTI platforms plus Google Classroom, which is not an LTI
 * platform (Google OIDC + Classroom REST API + add-on iframes; see classroom/).
 */
export type EmulatorFlavour = Flavour | 'classroom';

export const EMULATOR_FLAVOURS: readonly EmulatorFlavour[] = [...FLAVOURS, 'classroom'];

/** Roles a person can hold in a course, named after the LIS v2 context roles. */
export type CourseRole =
  'Instructor' | 'Learner' | 'Administrator' | 'TeachingAssistant' | 'Mentor';

export const COURSE_ROLES: readonly CourseRole[] = [
  'Instructor',
  'Learner',
  'Administrator',
  'TeachingAssistant',
  'Mentor',
];

/** Canvas placements the emulator offers; other flavours reuse them as "where the launch came from". */
export type Placement = 'course_navigation' | 'assignment_selection' | 'link_selection';

export const PLACEMENTS: readonly Placement[] = [
  'course_navigation',
  'assignment_selection',
  'link_selection',
];

export type LaunchMessageType = 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';

export interface Tool {
  readonly clientId: string;
  name: string;
  toolJwksUrl: string;
  oidcInitiationUrl: string;
  targetLinkUri: string;
  redirectUris: string[];
  /** Canvas "assignment_selection"/Moodle "Content Selection URL"; falls back to targetLinkUri. */
  deepLinkingUrl: string | undefined;
  /** App-level custom parameters (Canvas `custom_fields`). */
  customParameters: Record<string, string>;
  /** OAuth2 scopes the tool may request at the token endpoint. */
  scopes: string[];
  registeredVia: 'manual' | 'dynamic';
  /** The client registration JSON, when the tool came through Dynamic Registration. */
  registration: unknown;
}

export interface Deployment {
  readonly deploymentId: string;
  readonly clientId: string;
  /** undefined = installed at account/site level, so available in every course. */
  readonly courseIds: readonly string[] | undefined;
}

export interface Course {
  /** The platform's own id, used in service URLs (Canvas course id). */
  readonly courseId: string;
  /** The LTI `context.id`. */
  readonly contextId: string;
  title: string;
  label: string;
  /** Canvas: AGS calls on a concluded course answer 404. */
  concluded: boolean;
  /** Schoology: a course without a grading category hides tool columns. */
  hasGradingCategory: boolean;
}

export interface Person {
  /** Internal id of the emulator (also the OIDC `login_hint`). */
  readonly userId: string;
  /** The LTI `sub`, in the flavour's format. */
  readonly sub: string;
  name: string;
  givenName: string;
  familyName: string;
  email: string;
  /**
   * Canvas "Test Student" (Student View): a Learner whose launches and NRPS membership carry the
   * LTI system role TestUser; current Canvas accepts AGS scores for it.
   */
  readonly isTestStudent: boolean;
}

export interface Enrollment {
  readonly courseId: string;
  readonly userId: string;
  readonly role: CourseRole;
}

export interface ResourceLink {
  readonly resourceLinkId: string;
  readonly courseId: string;
  readonly clientId: string;
  readonly deploymentId: string;
  title: string;
  /** Launch URL from a deep-linking item; undefined = the tool's targetLinkUri. */
  url: string | undefined;
  custom: Record<string, string>;
  /** course_navigation links are made by the platform; others by Deep Linking. */
  readonly createdBy: 'placement' | 'deep_linking';
  readonly placement: Placement | undefined;
}

export interface LineItem {
  readonly lineItemId: string;
  readonly courseId: string;
  readonly clientId: string;
  label: string;
  scoreMaximum: number;
  readonly resourceLinkId: string | undefined;
  resourceId: string | undefined;
  tag: string | undefined;
  startDateTime: string | undefined;
  endDateTime: string | undefined;
  gradesReleased: boolean | undefined;
  /**
   * Canvas: a standalone line item, or the FIRST one on a resource link, is a gradebook column;
   * further line items on the same link store results but show nothing.
   */
  readonly isGradebookColumn: boolean;
  /** Canvas: scores to an unpublished assignment are refused (set via state or UI). */
  published: boolean;
  readonly createdAt: Date;
}

export type ActivityProgress = 'Initialized' | 'Started' | 'InProgress' | 'Submitted' | 'Completed';
export type GradingProgress = 'FullyGraded' | 'Pending' | 'PendingManual' | 'Failed' | 'NotReady';

export interface ReceivedScore {
  readonly userId: string;
  readonly scoreGiven: number | undefined;
  readonly scoreMaximum: number | undefined;
  readonly comment: string | undefined;
  readonly activityProgress: ActivityProgress;
  readonly gradingProgress: GradingProgress;
  readonly timestamp: string;
  readonly canvasSubmission: CanvasSubmissionExtension | undefined;
  readonly receivedAt: Date;
}

export interface CanvasSubmissionExtension {
  readonly new_submission?: boolean | undefined;
  readonly submitted_at?: string | undefined;
  readonly prioritize_non_tool_grade?: boolean | undefined;
  readonly submission_type?: string | undefined;
  readonly submission_data?: string | undefined;
  readonly content_items?: unknown;
}

/** One gradebook cell: what the tool posted and what a teacher did by hand. */
export interface GradebookCell {
  readonly lineItemId: string;
  /** The LTI `sub` of the student. */
  readonly userId: string;
  /** The latest score the tool posted (all posts are kept in `history`). */
  lastScore: ReceivedScore | undefined;
  history: ReceivedScore[];
  /** How many score POSTs reached this cell (for "do not re-post unchanged scores" tests). */
  postCount: number;
  /** The grade the gradebook shows (points), after quirks such as prioritize_non_tool_grade. */
  displayedScore: number | undefined;
  /** A grade typed by the teacher in the gradebook UI. */
  teacherGrade: number | undefined;
  /** Schoology: the teacher's "missing" flag; a re-posted score clears it. */
  missing: boolean;
  /**
   * Canvas: the submission comments, oldest first. Every score post that carries a `comment` adds
   * a NEW one, even when the score itself is skipped (scores_controller.rb `score_submission`).
   */
  comments: string[];
}

/**
 * Canvas's request throttle (`app/middleware/request_throttle.rb`): one leaky bucket per LTI
 * Advantage client id (and cluster). A request adds `upFrontCost` while it runs and its own cost
 * when it ends; the bucket leaks `outflow` a second; a request arriving at or above `highWater`
 * gets 403 "403 Forbidden (Rate Limit Exceeded)" with `X-Rate-Limit-Remaining: 0.0`.
 */
export interface CanvasThrottle {
  readonly highWater: number;
  readonly maximum: number;
  /** Units leaked per second. */
  readonly outflow: number;
  readonly upFrontCost: number;
  /**
   * What a finished request costs. Canvas: its CPU + database seconds; undefined = the handler's
   * elapsed seconds here. Tests set a fixed cost to fill a small bucket deterministically.
   */
  readonly requestCost: number | undefined;
}

/** One client's bucket: its level and when it was last leaked. */
export interface ThrottleBucket {
  count: number;
  touchedAtMs: number;
}

export interface AccessToken {
  readonly token: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
}

/** A launch the platform started: the OIDC `lti_message_hint` points at it. */
export interface PendingLaunch {
  readonly messageHint: string;
  readonly clientId: string;
  readonly deploymentId: string;
  readonly courseId: string;
  readonly userId: string;
  readonly placement: Placement;
  readonly messageType: LaunchMessageType;
  readonly resourceLinkId: string | undefined;
  readonly targetLinkUri: string;
  readonly expiresAt: Date;
}

/** A Deep Linking request the platform sent, awaiting the tool's response. */
export interface DeepLinkingSession {
  readonly sessionId: string;
  readonly clientId: string;
  readonly deploymentId: string;
  readonly courseId: string;
  readonly userId: string;
  readonly placement: Placement;
  readonly data: string;
  readonly acceptTypes: readonly string[];
  readonly acceptMultiple: boolean;
}

export interface DeepLinkingReceipt {
  readonly sessionId: string;
  readonly ok: boolean;
  /** Why the platform refused the response (verification or content rules). */
  readonly error: string | undefined;
  readonly claims: Record<string, unknown> | undefined;
  readonly createdResourceLinkIds: readonly string[];
  readonly createdLineItemIds: readonly string[];
  readonly msg: string | undefined;
  readonly errormsg: string | undefined;
  readonly receivedAt: Date;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly userAgent: string | undefined;
  readonly at: Date;
}

/** Fault injection for service endpoints (token, AGS, NRPS). */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'delay'; readonly ms: number };
