/**
 * Domain types of the Google Classroom flavour: a test double of Google's OAuth 2.0 / OpenID
 * Connect server plus the Classroom REST API v1 subset an add-on uses. Field names follow Google's
 * JSON resources (courses, courseWork, studentSubmissions, addOnAttachments) so serialising is a copy.
 */

/** A Google account (Workspace or consumer). `id` is Google's numeric user id = the OIDC `sub`. */
export interface GoogleUser {
  readonly id: string;
  email: string;
  givenName: string;
  familyName: string;
  /** Workspace domain (`hd` claim); undefined for a consumer (gmail.com) account. */
  hostedDomain: string | undefined;
  emailVerified: boolean;
  /** Teaching & Learning / Education Plus licence: may create add-on attachments. */
  addOnLicence: boolean;
  /**
   * The district turned Classroom data access off for this user (Admin console): every API call
   * answers 403 `@ClassroomApiDisabled` (Access Errors reference).
   */
  classroomApiDisabled: boolean;
}

/** An OAuth client of a Google Cloud project (one project may own several clients). */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The Cloud project number; grading rights follow the project, not the client. */
  readonly projectNumber: string;
  name: string;
  redirectUris: string[];
}

/** The add-on's Marketplace SDK settings: where Classroom opens attachment discovery. */
export interface AddOnRegistration {
  readonly projectNumber: string;
  /** "Attachment Setup URI" in the Google Workspace Marketplace SDK. */
  attachmentSetupUri: string;
  /** Allowed attachment URI prefixes; an empty list allows any https/loopback URI. */
  allowedUriPrefixes: string[];
  name: string;
}

export type CourseState = 'ACTIVE' | 'ARCHIVED' | 'PROVISIONED' | 'DECLINED' | 'SUSPENDED';

export interface ClassroomCourse {
  readonly id: string;
  name: string;
  section: string;
  readonly ownerId: string;
  courseState: CourseState;
  readonly enrollmentCode: string;
  readonly creationTime: Date;
  updateTime: Date;
  readonly teacherIds: string[];
  readonly studentIds: string[];
}

export type CourseWorkState = 'PUBLISHED' | 'DRAFT' | 'DELETED';

export interface CourseWork {
  readonly id: string;
  readonly courseId: string;
  title: string;
  description: string | undefined;
  materials: unknown[];
  state: CourseWorkState;
  readonly workType: 'ASSIGNMENT';
  maxPoints: number | undefined;
  readonly creatorUserId: string;
  /** The Cloud project that created it through the API; undefined = made in the Classroom UI. */
  readonly projectNumber: string | undefined;
  readonly creationTime: Date;
  updateTime: Date;
}

/** Where an add-on opens: Classroom's `itemType` query parameter (add-on iframes guide). */
export type ItemType = 'courseWork' | 'courseWorkMaterials' | 'announcements';

/** A course work material or an announcement: a post with no grades and no submissions. */
export interface StreamPost {
  readonly id: string;
  readonly courseId: string;
  readonly itemType: 'courseWorkMaterials' | 'announcements';
  title: string;
  state: 'PUBLISHED' | 'DRAFT' | 'DELETED';
  readonly creatorUserId: string;
  readonly projectNumber: string | undefined;
  readonly creationTime: Date;
}

/** AddOnAttachment.copyHistory[]: a previous copy of the attachment (reference: CopyHistory). */
export interface CopyHistory {
  readonly courseId: string;
  readonly itemId: string;
  readonly attachmentId: string;
}

export type SubmissionState = 'NEW' | 'CREATED' | 'TURNED_IN' | 'RETURNED' | 'RECLAIMED_BY_STUDENT';

export interface StudentSubmission {
  readonly id: string;
  readonly courseId: string;
  readonly courseWorkId: string;
  readonly userId: string;
  state: SubmissionState;
  draftGrade: number | undefined;
  assignedGrade: number | undefined;
  readonly creationTime: Date;
  updateTime: Date;
  /** PATCHes that named each field in `updateMask` (for "no re-post of unchanged grades"). */
  readonly writes: { draftGrade: number; assignedGrade: number };
}

export interface AddOnAttachment {
  readonly id: string;
  readonly courseId: string;
  readonly itemId: string;
  readonly itemType: ItemType;
  /** Set when Classroom copied the attachment (reused post, copied class): oldest first. */
  readonly copyHistory: readonly CopyHistory[];
  readonly projectNumber: string;
  title: string;
  teacherViewUri: string;
  studentViewUri: string;
  studentWorkReviewUri: string | undefined;
  maxPoints: number | undefined;
  readonly creationTime: Date;
}

/**
 * A student's submission on one add-on attachment (AddOnAttachmentStudentSubmission). It has its
 * own `id` (returned as AddOnContext.studentContext.submissionId and given to the student work
 * review iframe), distinct from the CourseWork submission it belongs to.
 */
export interface AttachmentSubmission {
  readonly id: string;
  readonly attachmentId: string;
  readonly courseWorkSubmissionId: string;
  readonly userId: string;
  pointsEarned: number | undefined;
  writes: number;
}

export interface AuthorizationCode {
  readonly code: string;
  readonly clientId: string;
  readonly userId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain' | undefined;
  readonly offline: boolean;
  readonly expiresAt: Date;
  used: boolean;
}

export interface RefreshGrant {
  readonly token: string;
  readonly clientId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  revoked: boolean;
}

export interface GoogleAccessToken {
  readonly token: string;
  readonly clientId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date;
  /** The refresh token it came from: revoking the grant revokes its access tokens too. */
  readonly refreshToken: string | undefined;
  revoked: boolean;
}

/** The `addOnToken` Classroom hands the attachment discovery iframe. */
export interface AddOnToken {
  readonly token: string;
  readonly courseId: string;
  readonly itemId: string;
  readonly userId: string;
  readonly expiresAt: Date;
}

/** An authorization request waiting on the sign-in page. */
export interface PendingAuthorization {
  readonly id: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly loginHint: string | undefined;
  readonly hostedDomain: string | undefined;
  readonly prompt: readonly string[];
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain' | undefined;
  readonly offline: boolean;
  readonly expiresAt: Date;
}

/** One student's row in the emulated gradebook. */
export interface GradebookEntry {
  readonly courseWorkId: string;
  readonly userId: string;
  readonly submissionId: string;
  readonly draftGrade: number | undefined;
  readonly assignedGrade: number | undefined;
  readonly draftGradeWrites: number;
  readonly assignedGradeWrites: number;
  /** Per add-on attachment on the coursework. */
  readonly attachments: readonly {
    readonly attachmentId: string;
    /** The attachment submission's own id, once Classroom made one (the student opened it). */
    readonly submissionId: string | undefined;
    readonly pointsEarned: number | undefined;
    readonly writes: number;
  }[];
}
