import { EmulatorError } from './errors.ts';
import type { IdFactory } from './ids.ts';
import type {
  AccessToken,
  CanvasThrottle,
  Course,
  CourseRole,
  DeepLinkingReceipt,
  DeepLinkingSession,
  Deployment,
  Enrollment,
  Fault,
  Flavour,
  GradebookCell,
  LineItem,
  PendingLaunch,
  Person,
  Placement,
  RequestLogEntry,
  ResourceLink,
  ThrottleBucket,
  Tool,
} from './types.ts';

/** Canvas's defaults (`request_throttle.rb`, `LeakyBucket`): maximum 800, hwm 600, outflow 10, up-front 50. */
export const CANVAS_THROTTLE_DEFAULTS: CanvasThrottle = Object.freeze({
  highWater: 600,
  maximum: 800,
  outflow: 10,
  upFrontCost: 50,
  requestCost: undefined,
});

export interface RegisterToolInput {
  name?: string;
  toolJwksUrl: string;
  oidcInitiationUrl: string;
  targetLinkUri: string;
  redirectUris: string[];
  deepLinkingUrl?: string;
  customParameters?: Record<string, string>;
  scopes?: string[];
  /** Defaults to a generated id in the flavour's format. */
  clientId?: string;
  registeredVia?: 'manual' | 'dynamic';
  registration?: unknown;
}

export interface AddPersonInput {
  name: string;
  givenName: string;
  familyName: string;
  email: string;
  isTestStudent?: boolean;
}

export interface CreateLineItemInput {
  courseId: string;
  clientId: string;
  label: string;
  scoreMaximum: number;
  resourceLinkId?: string | undefined;
  resourceId?: string | undefined;
  tag?: string | undefined;
  startDateTime?: string | undefined;
  endDateTime?: string | undefined;
  gradesReleased?: boolean | undefined;
}

export interface DemoSeed {
  course: Course;
  teacher: Person;
  students: Person[];
  admin: Person;
  teachingAssistant: Person;
  mentor: Person;
  /** Canvas only: the Student View user. */
  testStudent: Person | undefined;
}

interface RegistrationToken {
  readonly expiresAt: Date;
  used: boolean;
}

/**
 * All data of one emulated platform. Tests drive it directly (register tools, seed courses, flip
 * quirk flags, inject faults, read what the tool wrote); the HTTP routes read and write it too.
 */
export class EmulatorState {
  readonly flavour: Flavour;
  readonly tools = new Map<string, Tool>();
  readonly deployments = new Map<string, Deployment>();
  readonly courses = new Map<string, Course>();
  readonly people = new Map<string, Person>();
  readonly enrollments: Enrollment[] = [];
  readonly resourceLinks = new Map<string, ResourceLink>();
  readonly lineItems = new Map<string, LineItem>();
  /** Keyed by `${lineItemId}|${sub}`. */
  readonly cells = new Map<string, GradebookCell>();
  readonly accessTokens = new Map<string, AccessToken>();
  /** Client-assertion jti values already used, with their expiry (RFC 7523 §3 replay check). */
  readonly usedJtis = new Map<string, Date>();
  /** Nonces of Deep Linking responses already accepted. */
  readonly usedDeepLinkingNonces = new Set<string>();
  readonly pendingLaunches = new Map<string, PendingLaunch>();
  readonly deepLinkingSessions = new Map<string, DeepLinkingSession>();
  readonly deepLinkingReceipts: DeepLinkingReceipt[] = [];
  readonly registrationTokens = new Map<string, RegistrationToken>();
  /** CASE packages the emulator serves as a CASE server (`/ims/case/v1p0/CFPackages/:id`). */
  readonly casePackages = new Map<string, { body: string; bearerToken: string | undefined }>();
  readonly requestLog: RequestLogEntry[] = [];
  /** Claims of every id_token the platform signed, oldest first. */
  readonly issuedIdTokens: Record<string, unknown>[] = [];
  readonly counters = { tokenRequests: 0, serviceRequests: 0, scorePosts: 0 };
  /** Faults applied, in order, to the next service requests (token, AGS, NRPS). */
  readonly pendingFaults: Fault[] = [];
  /** Rate limiting window (see emulator option `rateLimit`). */
  readonly rateWindow = { startedAtMs: 0, count: 0 };
  /**
   * Canvas flavour: its leaky-bucket throttle on AGS and NRPS calls, Canvas's own numbers by
   * default; tests set a small bucket (`setCanvasThrottle`). Undefined for other flavours.
   */
  canvasThrottle: CanvasThrottle | undefined;
  /** The throttle's buckets, by client id. */
  readonly throttleBuckets = new Map<string, ThrottleBucket>();
  /** How many requests the throttle refused. */
  throttled = 0;

  private readonly ids: IdFactory;
  private readonly now: () => Date;
  private personSequence = 0;

  constructor(flavour: Flavour, ids: IdFactory, now: () => Date) {
    this.flavour = flavour;
    this.ids = ids;
    this.now = now;
    this.canvasThrottle = flavour === 'canvas' ? CANVAS_THROTTLE_DEFAULTS : undefined;
  }

  // ---- registration -------------------------------------------------------------------------

  registerTool(input: RegisterToolInput): Tool {
    const clientId = input.clientId ?? this.ids.clientId();
    if (this.tools.has(clientId)) {
      throw new EmulatorError('invalid_argument', `client_id ${clientId} is already registered`);
    }
    const tool: Tool = {
      clientId,
      name: input.name ?? 'Tool',
      toolJwksUrl: input.toolJwksUrl,
      oidcInitiationUrl: input.oidcInitiationUrl,
      targetLinkUri: input.targetLinkUri,
      redirectUris: [...input.redirectUris],
      deepLinkingUrl: input.deepLinkingUrl,
      customParameters: { ...(input.customParameters ?? {}) },
      scopes: [...(input.scopes ?? [])],
      registeredVia: input.registeredVia ?? 'manual',
      registration: input.registration,
    };
    this.tools.set(clientId, tool);
    return tool;
  }

  /** Install a tool: account/site wide when `courseIds` is undefined. */
  addDeployment(
    clientId: string,
    options: { deploymentId?: string; courseIds?: string[] } = {},
  ): Deployment {
    this.tool(clientId);
    const deployment: Deployment = {
      deploymentId: options.deploymentId ?? this.ids.deploymentId(),
      clientId,
      courseIds: options.courseIds,
    };
    this.deployments.set(deployment.deploymentId, deployment);
    return deployment;
  }

  tool(clientId: string): Tool {
    const tool = this.tools.get(clientId);
    if (!tool) throw new EmulatorError('unknown_tool', `no tool with client_id ${clientId}`);
    return tool;
  }

  deploymentsOf(clientId: string): Deployment[] {
    return [...this.deployments.values()].filter((d) => d.clientId === clientId);
  }

  /** The deployment that makes a tool available in a course, if any. */
  deploymentFor(clientId: string, courseId: string, deploymentId?: string): Deployment {
    const match = this.deploymentsOf(clientId).find(
      (d) =>
        (deploymentId === undefined || d.deploymentId === deploymentId) &&
        (d.courseIds === undefined || d.courseIds.includes(courseId)),
    );
    if (!match) {
      throw new EmulatorError(
        'tool_not_deployed',
        `tool ${clientId} has no deployment${deploymentId ? ` ${deploymentId}` : ''} in course ${courseId}`,
      );
    }
    return match;
  }

  // ---- courses and people -------------------------------------------------------------------

  addCourse(input: { title: string; label: string; contextId?: string }): Course {
    const courseId = this.ids.sequential();
    const course: Course = {
      courseId,
      contextId: input.contextId ?? this.ids.contextId(courseId),
      title: input.title,
      label: input.label,
      concluded: false,
      hasGradingCategory: true,
    };
    this.courses.set(courseId, course);
    return course;
  }

  course(courseId: string): Course {
    const course = this.courses.get(courseId);
    if (!course) throw new EmulatorError('unknown_course', `no course ${courseId}`);
    return course;
  }

  addPerson(input: AddPersonInput): Person {
    const sequence = ++this.personSequence;
    const person: Person = {
      userId: `u${sequence}`,
      sub: this.ids.sub(sequence),
      name: input.name,
      givenName: input.givenName,
      familyName: input.familyName,
      email: input.email,
      isTestStudent: input.isTestStudent ?? false,
    };
    this.people.set(person.userId, person);
    return person;
  }

  person(userId: string): Person {
    const person = this.people.get(userId);
    if (!person) throw new EmulatorError('unknown_person', `no person ${userId}`);
    return person;
  }

  personBySub(sub: string): Person | undefined {
    return [...this.people.values()].find((p) => p.sub === sub);
  }

  enroll(courseId: string, userId: string, role: CourseRole): Enrollment {
    this.course(courseId);
    this.person(userId);
    const enrollment: Enrollment = { courseId, userId, role };
    this.enrollments.push(enrollment);
    return enrollment;
  }

  rolesIn(courseId: string, userId: string): CourseRole[] {
    return this.enrollments
      .filter((e) => e.courseId === courseId && e.userId === userId)
      .map((e) => e.role);
  }

  members(courseId: string): { person: Person; roles: CourseRole[] }[] {
    const byUser = new Map<string, CourseRole[]>();
    for (const e of this.enrollments) {
      if (e.courseId !== courseId) continue;
      byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), e.role]);
    }
    return [...byUser.entries()].map(([userId, roles]) => ({ person: this.person(userId), roles }));
  }

  setCourseConcluded(courseId: string, concluded: boolean): void {
    this.course(courseId).concluded = concluded;
  }

  setGradingCategory(courseId: string, hasGradingCategory: boolean): void {
    this.course(courseId).hasGradingCategory = hasGradingCategory;
  }

  /**
   * Serves a CASE package (CFPackage JSON text) at `/ims/case/v1p0/CFPackages/<id>`, as a state's or
   * consortium's CASE server does; with `bearerToken`, only requests carrying it get the package.
   */
  addCasePackage(id: string, body: string, options: { bearerToken?: string } = {}): string {
    this.casePackages.set(id, { body, bearerToken: options.bearerToken });
    return `/ims/case/v1p0/CFPackages/${encodeURIComponent(id)}`;
  }

  /**
   * A demo course: a teacher, six students, a TA, a mentor and an admin (plus Canvas's Test
   * Student), all enrolled.
   */
  seedDemoCourse(title = 'Algebra I (Period 3)', label = 'ALG1-P3'): DemoSeed {
    const course = this.addCourse({ title, label });
    const person = (given: string, family: string): Person =>
      this.addPerson({
        name: `${given} ${family}`,
        givenName: given,
        familyName: family,
        email: `${given}.${family}@example.edu`.toLowerCase(),
      });
    const teacher = person('Maria', 'Alvarez');
    this.enroll(course.courseId, teacher.userId, 'Instructor');
    const students = [
      ['Ava', 'Brooks'],
      ['Ben', 'Carter'],
      ['Chloe', 'Diaz'],
      ['Dev', 'Evans'],
      ['Emma', 'Fischer'],
      ['Finn', 'Garcia'],
    ].map(([given = '', family = '']) => {
      const student = person(given, family);
      this.enroll(course.courseId, student.userId, 'Learner');
      return student;
    });
    const teachingAssistant = person('Tariq', 'Hassan');
    this.enroll(course.courseId, teachingAssistant.userId, 'TeachingAssistant');
    const mentor = person('Grace', 'Brooks');
    this.enroll(course.courseId, mentor.userId, 'Mentor');
    const admin = person('Sam', 'Okafor');
    this.enroll(course.courseId, admin.userId, 'Administrator');
    let testStudent: Person | undefined;
    if (this.flavour === 'canvas') {
      testStudent = this.addPerson({
        name: 'Test Student',
        givenName: 'Test',
        familyName: 'Student',
        email: '',
        isTestStudent: true,
      });
      this.enroll(course.courseId, testStudent.userId, 'Learner');
    }
    return { course, teacher, students, admin, teachingAssistant, mentor, testStudent };
  }

  // ---- resource links and line items --------------------------------------------------------

  createResourceLink(input: {
    courseId: string;
    clientId: string;
    deploymentId: string;
    title: string;
    url?: string | undefined;
    custom?: Record<string, string>;
    createdBy: 'placement' | 'deep_linking';
    placement?: Placement | undefined;
  }): ResourceLink {
    const link: ResourceLink = {
      resourceLinkId: this.ids.resourceLinkId(),
      courseId: input.courseId,
      clientId: input.clientId,
      deploymentId: input.deploymentId,
      title: input.title,
      url: input.url,
      custom: { ...(input.custom ?? {}) },
      createdBy: input.createdBy,
      placement: input.placement,
    };
    this.resourceLinks.set(link.resourceLinkId, link);
    return link;
  }

  /** The platform-made link behind a placement (e.g. the course navigation item). */
  placementLink(clientId: string, deploymentId: string, courseId: string, placement: Placement) {
    const existing = [...this.resourceLinks.values()].find(
      (l) =>
        l.createdBy === 'placement' &&
        l.clientId === clientId &&
        l.courseId === courseId &&
        l.placement === placement,
    );
    return (
      existing ??
      this.createResourceLink({
        courseId,
        clientId,
        deploymentId,
        title: this.tool(clientId).name,
        createdBy: 'placement',
        placement,
      })
    );
  }

  createLineItem(input: CreateLineItemInput): LineItem {
    const onSameLink =
      input.resourceLinkId === undefined
        ? []
        : [...this.lineItems.values()].filter((li) => li.resourceLinkId === input.resourceLinkId);
    const item: LineItem = {
      lineItemId: this.ids.sequential(),
      courseId: input.courseId,
      clientId: input.clientId,
      label: input.label,
      scoreMaximum: input.scoreMaximum,
      resourceLinkId: input.resourceLinkId,
      resourceId: input.resourceId,
      tag: input.tag,
      startDateTime: input.startDateTime,
      endDateTime: input.endDateTime,
      gradesReleased: input.gradesReleased,
      // Canvas: only the first line item on a resource link becomes the assignment column.
      isGradebookColumn: this.flavour !== 'canvas' || onSameLink.length === 0,
      published: true,
      createdAt: this.now(),
    };
    this.lineItems.set(item.lineItemId, item);
    return item;
  }

  lineItem(lineItemId: string): LineItem {
    const item = this.lineItems.get(lineItemId);
    if (!item) throw new EmulatorError('unknown_line_item', `no line item ${lineItemId}`);
    return item;
  }

  lineItemsOf(courseId: string, clientId?: string): LineItem[] {
    return [...this.lineItems.values()].filter(
      (li) => li.courseId === courseId && (clientId === undefined || li.clientId === clientId),
    );
  }

  deleteLineItem(lineItemId: string): void {
    this.lineItem(lineItemId);
    this.lineItems.delete(lineItemId);
    for (const key of [...this.cells.keys()]) {
      if (key.startsWith(`${lineItemId}|`)) this.cells.delete(key);
    }
  }

  /** Canvas: an unpublished assignment refuses scores with "still unpublished". */
  setLineItemPublished(lineItemId: string, published: boolean): void {
    this.lineItem(lineItemId).published = published;
  }

  /** Columns a teacher sees: Schoology hides tool columns in a course with no grading category. */
  gradebookColumns(courseId: string): LineItem[] {
    const course = this.course(courseId);
    if (this.flavour === 'schoology' && !course.hasGradingCategory) return [];
    return this.lineItemsOf(courseId).filter((li) => li.isGradebookColumn);
  }

  // ---- gradebook cells ----------------------------------------------------------------------

  cell(lineItemId: string, sub: string): GradebookCell {
    const key = `${lineItemId}|${sub}`;
    let cell = this.cells.get(key);
    if (!cell) {
      cell = {
        lineItemId,
        userId: sub,
        lastScore: undefined,
        history: [],
        postCount: 0,
        displayedScore: undefined,
        teacherGrade: undefined,
        missing: false,
        comments: [],
      };
      this.cells.set(key, cell);
    }
    return cell;
  }

  findCell(lineItemId: string, sub: string): GradebookCell | undefined {
    return this.cells.get(`${lineItemId}|${sub}`);
  }

  /**
   * A grade typed by the teacher in the gradebook (points); undefined clears the cell, as clearing
   * a grade in Canvas does. `sub` is the student's LTI sub.
   */
  setTeacherGrade(lineItemId: string, sub: string, grade: number | undefined): void {
    this.lineItem(lineItemId);
    const cell = this.cell(lineItemId, sub);
    cell.teacherGrade = grade;
    cell.displayedScore = grade;
  }

  /** Schoology: the teacher's "missing" flag. */
  setMissing(lineItemId: string, sub: string, missing: boolean): void {
    this.lineItem(lineItemId);
    this.cell(lineItemId, sub).missing = missing;
  }

  // ---- OAuth2 -------------------------------------------------------------------------------

  issueAccessToken(clientId: string, scopes: readonly string[], lifetimeSeconds: number) {
    const token: AccessToken = {
      token: this.ids.opaque(32),
      clientId,
      scopes: [...scopes],
      expiresAt: new Date(this.now().getTime() + lifetimeSeconds * 1000),
    };
    this.accessTokens.set(token.token, token);
    return token;
  }

  /** Atomically claim a jti: false when it was already used (replay). */
  claimJti(jti: string, expiresAt: Date): boolean {
    const nowMs = this.now().getTime();
    for (const [key, exp] of this.usedJtis) if (exp.getTime() < nowMs) this.usedJtis.delete(key);
    if (this.usedJtis.has(jti)) return false;
    this.usedJtis.set(jti, expiresAt);
    return true;
  }

  // ---- launches -----------------------------------------------------------------------------

  addPendingLaunch(launch: Omit<PendingLaunch, 'messageHint'>): PendingLaunch {
    const pending: PendingLaunch = { ...launch, messageHint: this.ids.opaque() };
    this.pendingLaunches.set(pending.messageHint, pending);
    return pending;
  }

  addDeepLinkingSession(session: Omit<DeepLinkingSession, 'sessionId' | 'data'>) {
    const created: DeepLinkingSession = {
      ...session,
      sessionId: this.ids.opaque(12),
      data: this.ids.opaque(12),
    };
    this.deepLinkingSessions.set(created.sessionId, created);
    return created;
  }

  // ---- Dynamic Registration -----------------------------------------------------------------

  createRegistrationToken(lifetimeSeconds = 3600): string {
    const token = this.ids.opaque(24);
    this.registrationTokens.set(token, {
      expiresAt: new Date(this.now().getTime() + lifetimeSeconds * 1000),
      used: false,
    });
    return token;
  }

  // ---- test hooks ---------------------------------------------------------------------------

  /** The next `count` service requests (token, AGS, NRPS) get `fault` instead of an answer. */
  injectFaults(fault: Fault, count = 1): void {
    for (let i = 0; i < count; i++) this.pendingFaults.push(fault);
  }

  clearFaults(): void {
    this.pendingFaults.length = 0;
  }

  /**
   * Canvas: the throttle's numbers (merged over Canvas's defaults), or `undefined` to switch it
   * off. Buckets start empty.
   */
  setCanvasThrottle(throttle: Partial<CanvasThrottle> | undefined): void {
    this.canvasThrottle =
      throttle === undefined ? undefined : { ...CANVAS_THROTTLE_DEFAULTS, ...throttle };
    this.throttleBuckets.clear();
  }
}
