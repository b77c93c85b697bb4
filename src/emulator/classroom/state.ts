import { EmulatorError } from '../errors.ts';
import type { RandomBytes } from '../ids.ts';
import type { Fault, RequestLogEntry } from '../types.ts';
import type {
  AddOnAttachment,
  AddOnRegistration,
  AddOnToken,
  AttachmentSubmission,
  AuthorizationCode,
  ClassroomCourse,
  CourseWork,
  GoogleAccessToken,
  GoogleUser,
  GradebookEntry,
  ItemType,
  OAuthClient,
  PendingAuthorization,
  RefreshGrant,
  StreamPost,
  StudentSubmission,
} from './types.ts';

export interface AddUserInput {
  email: string;
  givenName: string;
  familyName: string;
  /** Workspace domain; defaults to the email's domain unless `consumer` is true. */
  hostedDomain?: string | undefined;
  /** A consumer account (no `hd` claim), e.g. gmail.com. */
  consumer?: boolean;
  addOnLicence?: boolean;
  emailVerified?: boolean;
}

export interface RegisterClientInput {
  redirectUris: string[];
  name?: string;
  clientId?: string;
  clientSecret?: string;
  /** Share a Cloud project between clients; default: a new project per client. */
  projectNumber?: string;
}

export interface ClassroomSeed {
  readonly domain: string;
  readonly course: ClassroomCourse;
  readonly teacher: GoogleUser;
  /** A second teacher without the add-on licence. */
  readonly unlicensedTeacher: GoogleUser;
  readonly students: GoogleUser[];
  /** A Workspace user of another domain, enrolled as a student. */
  readonly outsider: GoogleUser;
  /** Coursework the teacher made in the Classroom UI (no Cloud project): add-ons attach here. */
  readonly courseWork: CourseWork;
}

export interface CreateCourseWorkInput {
  courseId: string;
  title: string;
  creatorUserId: string;
  projectNumber?: string | undefined;
  description?: string | undefined;
  materials?: unknown[];
  state?: CourseWork['state'];
  maxPoints?: number | undefined;
}

export interface CreateAttachmentInput {
  courseId: string;
  itemId: string;
  /** Default 'courseWork'. */
  itemType?: ItemType;
  copyHistory?: AddOnAttachment['copyHistory'];
  projectNumber: string;
  title: string;
  teacherViewUri: string;
  studentViewUri: string;
  studentWorkReviewUri?: string | undefined;
  maxPoints?: number | undefined;
}

/**
 * All data of one emulated Google (accounts + Classroom). Tests drive it directly: seed courses,
 * flip licences, revoke refresh tokens, inject faults, and read the gradebook the tool wrote.
 */
export class ClassroomState {
  readonly users = new Map<string, GoogleUser>();
  readonly clients = new Map<string, OAuthClient>();
  readonly addOns = new Map<string, AddOnRegistration>();
  readonly courses = new Map<string, ClassroomCourse>();
  readonly courseWork = new Map<string, CourseWork>();
  /** Keyed by submission id. */
  readonly submissions = new Map<string, StudentSubmission>();
  /** Course work materials and announcements (posts without grades). */
  readonly posts = new Map<string, StreamPost>();
  readonly attachments = new Map<string, AddOnAttachment>();
  /** Keyed by the attachment submission's own id. */
  readonly attachmentSubmissions = new Map<string, AttachmentSubmission>();
  /**
   * Cloud projects enrolled in the Google Workspace Developer Preview Program: only these may call
   * Developer Preview methods (userProfiles.checkUserCapability). None by default, as for a district.
   */
  readonly previewProjects = new Set<string>();
  /** Cloud projects where the Classroom API is not enabled: every call answers SERVICE_DISABLED. */
  readonly apiDisabledProjects = new Set<string>();
  readonly codes = new Map<string, AuthorizationCode>();
  readonly refreshGrants = new Map<string, RefreshGrant>();
  readonly accessTokens = new Map<string, GoogleAccessToken>();
  readonly addOnTokens = new Map<string, AddOnToken>();
  readonly pendingAuthorizations = new Map<string, PendingAuthorization>();
  /** `${userId}|${clientId}`: the user already consented, so `prompt=none` may succeed. */
  readonly consents = new Set<string>();
  readonly requestLog: RequestLogEntry[] = [];
  /** Claims of every id_token signed, oldest first. */
  readonly issuedIdTokens: Record<string, unknown>[] = [];
  readonly counters = { tokenRequests: 0, apiRequests: 0, gradeWrites: 0 };
  /** Faults applied, in order, to the next token or Classroom API requests. */
  readonly pendingFaults: Fault[] = [];

  private readonly randomBytes: RandomBytes;
  private readonly now: () => Date;
  private sequence = 0;

  constructor(randomBytes: RandomBytes, now: () => Date) {
    this.randomBytes = randomBytes;
    this.now = now;
  }

  // ---- ids in Google's shapes ---------------------------------------------------------------

  private digits(count: number): string {
    const bytes = this.randomBytes(count);
    let out = '';
    for (let i = 0; i < count; i++) out += String((bytes[i] ?? 0) % 10);
    return out.replace(/^0/, '1');
  }

  /** Opaque token-like string (base64url). */
  opaque(bytes = 24): string {
    return Buffer.from(this.randomBytes(bytes)).toString('base64url');
  }

  /** Numeric ids like Google's course (12 digits) and courseWork ids; unique per instance. */
  private numericId(length: number): string {
    this.sequence++;
    return `${this.digits(length - 4)}${String(this.sequence).padStart(4, '0')}`;
  }

  // ---- accounts and OAuth clients -----------------------------------------------------------

  addUser(input: AddUserInput): GoogleUser {
    const emailDomain = input.email.slice(input.email.lastIndexOf('@') + 1).toLowerCase();
    const user: GoogleUser = {
      // Google account ids are 21-digit numbers.
      id: `1${this.numericId(20)}`,
      email: input.email,
      givenName: input.givenName,
      familyName: input.familyName,
      hostedDomain: input.consumer ? undefined : (input.hostedDomain ?? emailDomain),
      emailVerified: input.emailVerified ?? true,
      addOnLicence: input.addOnLicence ?? true,
      classroomApiDisabled: false,
    };
    this.users.set(user.id, user);
    return user;
  }

  user(userId: string): GoogleUser {
    const user = this.users.get(userId);
    if (!user) throw new EmulatorError('unknown_person', `no Google user ${userId}`);
    return user;
  }

  /** Google accepts a user id, an email address or "me" wherever a user is named. */
  findUser(idOrEmail: string): GoogleUser | undefined {
    const lowered = idOrEmail.toLowerCase();
    return (
      this.users.get(idOrEmail) ??
      [...this.users.values()].find((u) => u.email.toLowerCase() === lowered)
    );
  }

  /** Turn the teacher's add-on licence (Teaching & Learning / Education Plus) on or off. */
  setAddOnLicence(userId: string, licensed: boolean): void {
    this.user(userId).addOnLicence = licensed;
  }

  /** The district turns Classroom data access off (or on again) for a user (Admin console). */
  setClassroomApiDisabled(userId: string, disabled: boolean): void {
    this.user(userId).classroomApiDisabled = disabled;
  }

  /** The Classroom API is not enabled (or is enabled again) in a Cloud project. */
  setApiEnabled(projectNumber: string, enabled: boolean): void {
    if (enabled) this.apiDisabledProjects.delete(projectNumber);
    else this.apiDisabledProjects.add(projectNumber);
  }

  registerClient(input: RegisterClientInput): OAuthClient {
    const projectNumber = input.projectNumber ?? this.digits(12);
    const client: OAuthClient = {
      clientId:
        input.clientId ??
        `${projectNumber}-${Buffer.from(this.randomBytes(16)).toString('hex')}.apps.googleusercontent.com`,
      clientSecret: input.clientSecret ?? `GOCSPX-${this.opaque(21)}`,
      projectNumber,
      name: input.name ?? 'Add-on',
      redirectUris: [...input.redirectUris],
    };
    if (this.clients.has(client.clientId)) {
      throw new EmulatorError('invalid_argument', `client ${client.clientId} already exists`);
    }
    this.clients.set(client.clientId, client);
    return client;
  }

  client(clientId: string): OAuthClient {
    const client = this.clients.get(clientId);
    if (!client) throw new EmulatorError('unknown_tool', `no OAuth client ${clientId}`);
    return client;
  }

  /** The Marketplace SDK "Attachment Setup URI" (and allowed prefixes) of a project's add-on. */
  registerAddOn(input: {
    projectNumber: string;
    attachmentSetupUri: string;
    allowedUriPrefixes?: string[];
    name?: string;
  }): AddOnRegistration {
    const registration: AddOnRegistration = {
      projectNumber: input.projectNumber,
      attachmentSetupUri: input.attachmentSetupUri,
      allowedUriPrefixes: [...(input.allowedUriPrefixes ?? [])],
      name: input.name ?? 'Add-on',
    };
    this.addOns.set(input.projectNumber, registration);
    return registration;
  }

  // ---- courses and rosters ------------------------------------------------------------------

  addCourse(input: { name: string; section?: string; ownerId: string }): ClassroomCourse {
    this.user(input.ownerId);
    const now = this.now();
    const course: ClassroomCourse = {
      id: this.numericId(12),
      name: input.name,
      section: input.section ?? '',
      ownerId: input.ownerId,
      courseState: 'ACTIVE',
      enrollmentCode: this.opaque(5)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x'),
      creationTime: now,
      updateTime: now,
      teacherIds: [input.ownerId],
      studentIds: [],
    };
    this.courses.set(course.id, course);
    return course;
  }

  course(courseId: string): ClassroomCourse {
    const course = this.courses.get(courseId);
    if (!course) throw new EmulatorError('unknown_course', `no Classroom course ${courseId}`);
    return course;
  }

  addTeacher(courseId: string, userId: string): void {
    const course = this.course(courseId);
    this.user(userId);
    if (!course.teacherIds.includes(userId)) course.teacherIds.push(userId);
  }

  addStudent(courseId: string, userId: string): void {
    const course = this.course(courseId);
    this.user(userId);
    if (!course.studentIds.includes(userId)) course.studentIds.push(userId);
  }

  /** A teacher leaves the class (or is removed from it): the API refuses them from then on. */
  removeTeacher(courseId: string, userId: string): void {
    const course = this.course(courseId);
    const at = course.teacherIds.indexOf(userId);
    if (at >= 0) course.teacherIds.splice(at, 1);
  }

  removeStudent(courseId: string, userId: string): void {
    const course = this.course(courseId);
    const at = course.studentIds.indexOf(userId);
    if (at >= 0) course.studentIds.splice(at, 1);
  }

  /** ARCHIVED courses refuse writes with FAILED_PRECONDITION @CourseNotModifiable. */
  setCourseState(courseId: string, courseState: ClassroomCourse['courseState']): void {
    const course = this.course(courseId);
    course.courseState = courseState;
    course.updateTime = this.now();
  }

  isTeacher(courseId: string, userId: string): boolean {
    return this.courses.get(courseId)?.teacherIds.includes(userId) ?? false;
  }

  isStudent(courseId: string, userId: string): boolean {
    return this.courses.get(courseId)?.studentIds.includes(userId) ?? false;
  }

  /**
   * A Workspace domain with a course: a licensed teacher, an unlicensed co-teacher, four students,
   * a student from another Workspace domain, and one assignment the teacher made in Classroom.
   */
  seedCourse(
    options: { domain?: string; name?: string; section?: string; students?: number } = {},
  ): ClassroomSeed {
    const domain = options.domain ?? 'district.example.edu';
    const person = (given: string, family: string, extra: Partial<AddUserInput> = {}) =>
      this.addUser({
        email: `${given}.${family}@${extra.hostedDomain ?? domain}`.toLowerCase(),
        givenName: given,
        familyName: family,
        ...extra,
      });
    const teacher = person('Maria', 'Alvarez');
    const unlicensedTeacher = person('Tom', 'Nguyen', { addOnLicence: false });
    const course = this.addCourse({
      name: options.name ?? 'Algebra I',
      section: options.section ?? 'Period 3',
      ownerId: teacher.id,
    });
    this.addTeacher(course.id, unlicensedTeacher.id);
    const names: [string, string][] = [
      ['Ava', 'Brooks'],
      ['Ben', 'Carter'],
      ['Chloe', 'Diaz'],
      ['Dev', 'Evans'],
    ];
    const count = options.students ?? names.length;
    const students: GoogleUser[] = [];
    for (let i = 0; i < count; i++) {
      const [given, family] = names[i % names.length] ?? ['Student', 'Example'];
      const student = person(i < names.length ? given : `${given}${i}`, family, {
        addOnLicence: false,
      });
      this.addStudent(course.id, student.id);
      students.push(student);
    }
    const outsider = person('Olga', 'Ivanova', {
      hostedDomain: 'other-district.example.org',
      addOnLicence: false,
    });
    this.addStudent(course.id, outsider.id);
    const courseWork = this.createCourseWork({
      courseId: course.id,
      title: 'Linear equations practice',
      creatorUserId: teacher.id,
      state: 'PUBLISHED',
      maxPoints: 100,
    });
    return { domain, course, teacher, unlicensedTeacher, students, outsider, courseWork };
  }

  // ---- coursework and submissions -----------------------------------------------------------

  createCourseWork(input: CreateCourseWorkInput): CourseWork {
    this.course(input.courseId);
    const now = this.now();
    const work: CourseWork = {
      id: this.numericId(12),
      courseId: input.courseId,
      title: input.title,
      description: input.description,
      materials: [...(input.materials ?? [])],
      state: input.state ?? 'DRAFT',
      workType: 'ASSIGNMENT',
      maxPoints: input.maxPoints,
      creatorUserId: input.creatorUserId,
      projectNumber: input.projectNumber,
      creationTime: now,
      updateTime: now,
    };
    this.courseWork.set(work.id, work);
    return work;
  }

  findCourseWork(courseId: string, courseWorkId: string): CourseWork | undefined {
    const work = this.courseWork.get(courseWorkId);
    return work && work.courseId === courseId && work.state !== 'DELETED' ? work : undefined;
  }

  /**
   * Every student of the course has one submission per published assignment; Classroom makes them
   * when the work is published or the student joins, so they are created here on first read.
   */
  submissionsOf(work: CourseWork): StudentSubmission[] {
    if (work.state !== 'PUBLISHED') return [];
    const course = this.course(work.courseId);
    return course.studentIds.map((userId) => this.submissionFor(work, userId));
  }

  submissionFor(work: CourseWork, userId: string): StudentSubmission {
    const existing = [...this.submissions.values()].find(
      (s) => s.courseWorkId === work.id && s.userId === userId,
    );
    if (existing) return existing;
    const now = this.now();
    const submission: StudentSubmission = {
      // Submission ids are opaque base64-like strings.
      id: `Cg${this.opaque(12)}`,
      courseId: work.courseId,
      courseWorkId: work.id,
      userId,
      state: 'CREATED',
      draftGrade: undefined,
      assignedGrade: undefined,
      creationTime: now,
      updateTime: now,
      writes: { draftGrade: 0, assignedGrade: 0 },
    };
    this.submissions.set(submission.id, submission);
    return submission;
  }

  /** The teacher deletes the assignment in Classroom: the API answers 404 for it from then on. */
  deleteCourseWork(courseWorkId: string): void {
    const work = this.courseWork.get(courseWorkId);
    if (!work) throw new EmulatorError('invalid_argument', `no courseWork ${courseWorkId}`);
    work.state = 'DELETED';
    work.updateTime = this.now();
  }

  /** A course work material or announcement the teacher posts in Classroom (no grades). */
  createPost(input: {
    courseId: string;
    itemType: StreamPost['itemType'];
    title: string;
    creatorUserId: string;
    projectNumber?: string | undefined;
  }): StreamPost {
    this.course(input.courseId);
    const post: StreamPost = {
      id: this.numericId(12),
      courseId: input.courseId,
      itemType: input.itemType,
      title: input.title,
      state: 'PUBLISHED',
      creatorUserId: input.creatorUserId,
      projectNumber: input.projectNumber,
      creationTime: this.now(),
    };
    this.posts.set(post.id, post);
    return post;
  }

  findPost(courseId: string, itemType: ItemType, id: string): StreamPost | undefined {
    const post = this.posts.get(id);
    return post &&
      post.courseId === courseId &&
      post.itemType === itemType &&
      post.state !== 'DELETED'
      ? post
      : undefined;
  }

  /** The project that created an item (undefined = made in the Classroom UI), if it exists. */
  itemProject(
    courseId: string,
    itemType: ItemType,
    id: string,
  ): { project: string | undefined } | undefined {
    if (itemType === 'courseWork') {
      const work = this.findCourseWork(courseId, id);
      return work && { project: work.projectNumber };
    }
    const post = this.findPost(courseId, itemType, id);
    return post && { project: post.projectNumber };
  }

  /**
   * Classroom copies an item with its add-on attachments (a reused post, or every post of a copied
   * class): the copies get new ids, and each attachment copy's `copyHistory` lists the attachments
   * it came from, oldest first (AddOnAttachment.copyHistory reference).
   */
  private copyAttachments(fromItemId: string, toCourseId: string, toItemId: string): void {
    for (const attachment of this.attachmentsOf(fromItemId)) {
      this.createAttachment({
        courseId: toCourseId,
        itemId: toItemId,
        itemType: attachment.itemType,
        projectNumber: attachment.projectNumber,
        title: attachment.title,
        teacherViewUri: attachment.teacherViewUri,
        studentViewUri: attachment.studentViewUri,
        studentWorkReviewUri: attachment.studentWorkReviewUri,
        maxPoints: attachment.maxPoints,
        copyHistory: [
          ...attachment.copyHistory,
          { courseId: attachment.courseId, itemId: attachment.itemId, attachmentId: attachment.id },
        ],
      });
    }
  }

  /**
   * A teacher reuses a post in another class (Classroom's "Reuse post"): a new assignment in the
   * target course, published, with copies of its add-on attachments.
   */
  reuseCourseWork(input: {
    courseId: string;
    courseWorkId: string;
    targetCourseId: string;
    userId: string;
  }): CourseWork {
    const source = this.findCourseWork(input.courseId, input.courseWorkId);
    if (!source) throw new EmulatorError('invalid_argument', `no courseWork ${input.courseWorkId}`);
    const copy = this.createCourseWork({
      courseId: input.targetCourseId,
      title: source.title,
      description: source.description,
      materials: source.materials,
      state: 'PUBLISHED',
      maxPoints: source.maxPoints,
      creatorUserId: input.userId,
      // The copy is the teacher's, made in the Classroom UI: no Cloud project owns it.
      projectNumber: undefined,
    });
    this.copyAttachments(source.id, input.targetCourseId, copy.id);
    return copy;
  }

  /**
   * A teacher copies a class (Classroom's "Copy"): a new course taught by the teacher with no
   * students, every assignment copied as a draft with copies of its add-on attachments.
   */
  copyCourse(input: { courseId: string; userId: string; name?: string }): {
    course: ClassroomCourse;
    courseWork: Map<string, CourseWork>;
  } {
    const source = this.course(input.courseId);
    if (!source.teacherIds.includes(input.userId)) {
      throw new EmulatorError('not_enrolled', 'only a teacher of the class can copy it');
    }
    const course = this.addCourse({
      name: input.name ?? `${source.name} (copy)`,
      section: source.section,
      ownerId: input.userId,
    });
    const courseWork = new Map<string, CourseWork>();
    for (const work of [...this.courseWork.values()]) {
      if (work.courseId !== source.id || work.state === 'DELETED') continue;
      const copy = this.createCourseWork({
        courseId: course.id,
        title: work.title,
        description: work.description,
        materials: work.materials,
        state: 'DRAFT',
        maxPoints: work.maxPoints,
        creatorUserId: input.userId,
        projectNumber: work.projectNumber,
      });
      this.copyAttachments(work.id, course.id, copy.id);
      courseWork.set(work.id, copy);
    }
    return { course, courseWork };
  }

  /** The teacher publishes a draft assignment in Classroom. */
  publishCourseWork(courseWorkId: string): void {
    const work = this.courseWork.get(courseWorkId);
    if (!work) throw new EmulatorError('invalid_argument', `no courseWork ${courseWorkId}`);
    work.state = 'PUBLISHED';
    work.updateTime = this.now();
  }

  /** The student turns the work in (state TURNED_IN). */
  turnIn(submissionId: string): void {
    const submission = this.submissions.get(submissionId);
    if (!submission) throw new EmulatorError('invalid_argument', `no submission ${submissionId}`);
    submission.state = 'TURNED_IN';
    submission.updateTime = this.now();
  }

  /** The teacher returns the work in Classroom: the draft grade becomes the assigned grade. */
  returnSubmission(submissionId: string): void {
    const submission = this.submissions.get(submissionId);
    if (!submission) throw new EmulatorError('invalid_argument', `no submission ${submissionId}`);
    submission.assignedGrade = submission.draftGrade;
    submission.state = 'RETURNED';
    submission.updateTime = this.now();
  }

  /** A teacher grading by hand in Classroom (not counted as a tool write). */
  setTeacherGrades(
    submissionId: string,
    grades: { draftGrade?: number | undefined; assignedGrade?: number | undefined },
  ): void {
    const submission = this.submissions.get(submissionId);
    if (!submission) throw new EmulatorError('invalid_argument', `no submission ${submissionId}`);
    if ('draftGrade' in grades) submission.draftGrade = grades.draftGrade;
    if ('assignedGrade' in grades) submission.assignedGrade = grades.assignedGrade;
    submission.updateTime = this.now();
  }

  // ---- add-on attachments -------------------------------------------------------------------

  createAttachment(input: CreateAttachmentInput): AddOnAttachment {
    const attachment: AddOnAttachment = {
      id: this.opaque(9),
      courseId: input.courseId,
      itemId: input.itemId,
      itemType: input.itemType ?? 'courseWork',
      copyHistory: [...(input.copyHistory ?? [])],
      projectNumber: input.projectNumber,
      title: input.title,
      teacherViewUri: input.teacherViewUri,
      studentViewUri: input.studentViewUri,
      studentWorkReviewUri: input.studentWorkReviewUri,
      maxPoints: input.maxPoints,
      creationTime: this.now(),
    };
    this.attachments.set(attachment.id, attachment);
    // Grade sync: the first graded attachment sets the assignment's points (add-ons guide).
    const work = this.courseWork.get(input.itemId);
    if (
      work &&
      attachment.maxPoints !== undefined &&
      this.gradeSyncAttachment(work.id) === attachment
    ) {
      work.maxPoints = attachment.maxPoints;
    }
    return attachment;
  }

  attachmentsOf(itemId: string): AddOnAttachment[] {
    return [...this.attachments.values()].filter((a) => a.itemId === itemId);
  }

  /** The attachment whose `pointsEarned` becomes the assignment's draft grade. */
  gradeSyncAttachment(itemId: string): AddOnAttachment | undefined {
    return this.attachmentsOf(itemId).find(
      (a) => a.maxPoints !== undefined && a.maxPoints > 0 && a.studentWorkReviewUri !== undefined,
    );
  }

  /** The student's submission on an attachment, if Classroom made one already. */
  findAttachmentSubmission(attachmentId: string, userId: string): AttachmentSubmission | undefined {
    return [...this.attachmentSubmissions.values()].find(
      (s) => s.attachmentId === attachmentId && s.userId === userId,
    );
  }

  /**
   * The student's submission on an attachment of an assignment, made when first needed (the
   * student opens the attachment): its own id, distinct from the CourseWork submission's.
   */
  attachmentSubmission(
    attachment: AddOnAttachment,
    submission: StudentSubmission,
  ): AttachmentSubmission {
    let found = this.findAttachmentSubmission(attachment.id, submission.userId);
    if (!found) {
      found = {
        // Opaque like Google's other submission ids, and never equal to the CourseWork one.
        id: `At${this.opaque(12)}`,
        attachmentId: attachment.id,
        courseWorkSubmissionId: submission.id,
        userId: submission.userId,
        pointsEarned: undefined,
        writes: 0,
      };
      this.attachmentSubmissions.set(found.id, found);
    }
    return found;
  }

  // ---- OAuth --------------------------------------------------------------------------------

  issueAccessToken(input: {
    clientId: string;
    userId: string;
    scopes: readonly string[];
    lifetimeSeconds: number;
    refreshToken: string | undefined;
  }): GoogleAccessToken {
    const token: GoogleAccessToken = {
      // Google access tokens start with "ya29.".
      token: `ya29.${this.opaque(48)}`,
      clientId: input.clientId,
      userId: input.userId,
      scopes: [...input.scopes],
      expiresAt: new Date(this.now().getTime() + input.lifetimeSeconds * 1000),
      refreshToken: input.refreshToken,
      revoked: false,
    };
    this.accessTokens.set(token.token, token);
    return token;
  }

  issueRefreshToken(clientId: string, userId: string, scopes: readonly string[]): RefreshGrant {
    const grant: RefreshGrant = {
      // Google refresh tokens start with "1//".
      token: `1//${this.opaque(36)}`,
      clientId,
      userId,
      scopes: [...scopes],
      revoked: false,
    };
    this.refreshGrants.set(grant.token, grant);
    return grant;
  }

  /**
   * The user (or an admin) removed the app's access: every refresh token of the user (for one
   * client, or all) stops working, and so do access tokens minted from them.
   */
  revokeRefreshTokens(userId: string, clientId?: string): number {
    let revoked = 0;
    for (const grant of this.refreshGrants.values()) {
      if (grant.userId !== userId || (clientId !== undefined && grant.clientId !== clientId)) {
        continue;
      }
      if (!grant.revoked) revoked++;
      grant.revoked = true;
      for (const access of this.accessTokens.values()) {
        if (access.refreshToken === grant.token) access.revoked = true;
      }
    }
    for (const key of [...this.consents]) {
      if (
        key.startsWith(`${userId}|`) &&
        (clientId === undefined || key.endsWith(`|${clientId}`))
      ) {
        this.consents.delete(key);
      }
    }
    return revoked;
  }

  /** Let an access token expire now (the tool must refresh). */
  expireAccessTokens(userId: string): void {
    for (const access of this.accessTokens.values()) {
      if (access.userId === userId) access.revoked = true;
    }
  }

  issueAddOnToken(input: { courseId: string; itemId: string; userId: string }): AddOnToken {
    const token: AddOnToken = {
      ...input,
      token: this.opaque(32),
      expiresAt: new Date(this.now().getTime() + 3600 * 1000),
    };
    this.addOnTokens.set(token.token, token);
    return token;
  }

  // ---- gradebook (read by tests) ------------------------------------------------------------

  /** Every student's grades on every published assignment of a course. */
  gradebook(courseId: string): GradebookEntry[] {
    this.course(courseId);
    const entries: GradebookEntry[] = [];
    for (const work of this.courseWork.values()) {
      if (work.courseId !== courseId) continue;
      for (const submission of this.submissionsOf(work)) {
        entries.push(this.entry(work, submission));
      }
    }
    return entries;
  }

  /** One cell: a student's grades on one assignment (creates the submission if needed). */
  gradebookEntry(courseWorkId: string, userId: string): GradebookEntry {
    const work = this.courseWork.get(courseWorkId);
    if (!work) throw new EmulatorError('invalid_argument', `no courseWork ${courseWorkId}`);
    return this.entry(work, this.submissionFor(work, userId));
  }

  private entry(work: CourseWork, submission: StudentSubmission): GradebookEntry {
    return {
      courseWorkId: work.id,
      userId: submission.userId,
      submissionId: submission.id,
      draftGrade: submission.draftGrade,
      assignedGrade: submission.assignedGrade,
      draftGradeWrites: submission.writes.draftGrade,
      assignedGradeWrites: submission.writes.assignedGrade,
      attachments: this.attachmentsOf(work.id).map((attachment) => {
        const found = this.findAttachmentSubmission(attachment.id, submission.userId);
        return {
          attachmentId: attachment.id,
          submissionId: found?.id,
          pointsEarned: found?.pointsEarned,
          writes: found?.writes ?? 0,
        };
      }),
    };
  }

  // ---- test hooks ---------------------------------------------------------------------------

  /** The next `count` token or Classroom API requests get `fault` instead of an answer. */
  injectFaults(fault: Fault, count = 1): void {
    for (let i = 0; i < count; i++) this.pendingFaults.push(fault);
  }

  clearFaults(): void {
    this.pendingFaults.length = 0;
  }
}
