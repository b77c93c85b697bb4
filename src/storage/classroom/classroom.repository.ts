import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import {
  assignmentResourceId,
  createCourseAssignmentRepository,
} from '../courses/assignments.repository.ts';
import { upsertCourseRow, upsertEnrollment } from '../people-rows.ts';
import type { Database } from '../schema.ts';
import type { ClassroomColumnKind, ClassroomColumnTable } from './schema.ts';
import { isUuid } from '../../ids.ts';

/**
 * Google Classroom add-on storage. Every statement of district data filters by tenant (STYLE:
 * tenancy). Secrets arrive here already encrypted (src/classroom/secrets.ts).
 */

export interface ClassroomInstall {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly platformId: string;
  readonly deploymentRowId: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly encryptedClientSecret: unknown;
  readonly allowedDomains: readonly string[];
  readonly apiBaseUrl: string;
  readonly frameOrigin: string;
  /** When Google answered `invalid_client` (expired or deleted secret); cleared by a new secret. */
  readonly clientRejectedAt: Date | undefined;
  readonly updatedAt: Date;
}

export interface ClassroomCourseLink {
  readonly tenantId: string;
  readonly courseId: string;
  readonly classroomCourseId: string;
  readonly gradingUserId: string | undefined;
  readonly needsTeacherSignIn: boolean;
  readonly needsSignInReason: string | undefined;
}

export interface ClassroomColumn {
  readonly id: string;
  readonly tenantId: string;
  readonly courseId: string;
  readonly kind: ClassroomColumnKind;
  readonly courseWorkId: string;
  readonly attachmentId: string | undefined;
  readonly assignmentId: string | undefined;
  readonly title: string;
  readonly maxPoints: number;
  readonly tag: string | undefined;
  readonly resourceId: string | undefined;
}

/** What the add-on was opened with, kept across the Google sign-in (never trusted without the API). */
export interface ClassroomLaunchParams {
  /** 'link': the plain CourseWork link (no add-on licence), checked by roster membership. */
  readonly view: 'setup' | 'teacher' | 'student' | 'review' | 'link';
  readonly courseId: string;
  /** Classroom's `itemType`: courseWork (default), courseWorkMaterials or announcements. */
  readonly itemType?: 'courseWork' | 'courseWorkMaterials' | 'announcements' | undefined;
  readonly itemId: string;
  readonly attachmentId?: string | undefined;
  readonly submissionId?: string | undefined;
  readonly addOnToken?: string | undefined;
  readonly loginHint?: string | undefined;
  /** Set by the callback: this sign-in cleared the course's "needs teacher sign-in". */
  readonly signInRestored?: boolean | undefined;
}

export interface SignInFlow {
  readonly state: string;
  readonly flowId: string;
  readonly tenantId: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly launch: ClassroomLaunchParams;
  readonly userId: string | undefined;
  readonly courseId: string | undefined;
  readonly role: 'teacher' | 'student' | undefined;
  readonly completedAt: Date | undefined;
  readonly expiresAt: Date;
}

export interface StandardChoice {
  readonly id: string;
  readonly code: string | undefined;
  readonly statement: string;
  readonly framework: string;
}

type ColumnRow = Selectable<ClassroomColumnTable>;

const toColumn = (row: ColumnRow): ClassroomColumn => ({
  id: row.id,
  tenantId: row.tenant_id,
  courseId: row.course_id,
  kind: row.kind,
  courseWorkId: row.course_work_id,
  attachmentId: row.attachment_id ?? undefined,
  assignmentId: row.assignment_id ?? undefined,
  title: row.title,
  maxPoints: row.max_points,
  tag: row.tag ?? undefined,
  resourceId: row.resource_id ?? undefined,
});

/** A Classroom column as written: the row less its generated id. */
type ColumnFields = Omit<ClassroomColumn, 'id'>;

async function insertColumn(
  db: Kysely<Database>,
  column: ColumnFields,
  time: Date,
): Promise<ClassroomColumn> {
  const row = await db
    .insertInto('classroom_columns')
    .values({
      tenant_id: column.tenantId,
      course_id: column.courseId,
      kind: column.kind,
      course_work_id: column.courseWorkId,
      attachment_id: column.attachmentId ?? null,
      assignment_id: column.assignmentId ?? null,
      title: column.title,
      max_points: column.maxPoints,
      tag: column.tag ?? null,
      resource_id: column.resourceId ?? null,
      created_at: time,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toColumn(row);
}

/** How many of these (distinct) ids are live standards of this district. */
async function countLiveStandards(
  db: Kysely<Database>,
  tenantId: string,
  uniqueIds: readonly string[],
): Promise<number> {
  const found = await db
    .selectFrom('standard_items')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', uniqueIds)
    .where('archived_at', 'is', null)
    .execute();
  return found.length;
}

type FlowRow = {
  state: string;
  flow_id: string;
  tenant_id: string;
  nonce: string;
  code_verifier: string;
  launch: Record<string, unknown>;
  user_id: string | null;
  course_id: string | null;
  role: 'teacher' | 'student' | null;
  completed_at: Date | null;
  completion_hash?: string | null;
  expires_at: Date;
};

const toFlow = (row: FlowRow): SignInFlow => ({
  state: row.state,
  flowId: row.flow_id,
  tenantId: row.tenant_id,
  nonce: row.nonce,
  codeVerifier: row.code_verifier,
  launch: row.launch as unknown as ClassroomLaunchParams,
  userId: row.user_id ?? undefined,
  courseId: row.course_id ?? undefined,
  role: row.role ?? undefined,
  completedAt: row.completed_at ?? undefined,
  expiresAt: row.expires_at,
});

const installQuery = (db: Kysely<Database>) =>
  db
    .selectFrom('classroom_installs as i')
    .innerJoin('tenants as t', 't.id', 'i.tenant_id')
    .select([
      'i.id',
      'i.tenant_id',
      't.slug',
      'i.platform_id',
      'i.deployment_row_id',
      'i.issuer',
      'i.client_id',
      'i.encrypted_client_secret',
      'i.allowed_domains',
      'i.api_base_url',
      'i.frame_origin',
      'i.client_rejected_at',
      'i.updated_at',
    ]);
type InstallRow = Awaited<ReturnType<ReturnType<typeof installQuery>['executeTakeFirstOrThrow']>>;
const toInstall = (row: InstallRow): ClassroomInstall => ({
  id: row.id,
  tenantId: row.tenant_id,
  tenantSlug: row.slug,
  platformId: row.platform_id,
  deploymentRowId: row.deployment_row_id,
  issuer: row.issuer,
  clientId: row.client_id,
  encryptedClientSecret: row.encrypted_client_secret,
  allowedDomains: row.allowed_domains,
  apiBaseUrl: row.api_base_url,
  frameOrigin: row.frame_origin,
  clientRejectedAt: row.client_rejected_at ?? undefined,
  updatedAt: row.updated_at,
});

// Every column lookup starts from the tenant's own columns.
const columnsOf = (db: Kysely<Database>, tenantId: string) =>
  db.selectFrom('classroom_columns').selectAll().where('tenant_id', '=', tenantId);

async function findInstall(
  db: Kysely<Database>,
  tenantId: string,
): Promise<ClassroomInstall | undefined> {
  const row = await installQuery(db).where('i.tenant_id', '=', tenantId).executeTakeFirst();
  return row === undefined ? undefined : toInstall(row);
}

async function findInstallBySlug(
  db: Kysely<Database>,
  slug: string,
): Promise<ClassroomInstall | undefined> {
  const row = await installQuery(db).where('t.slug', '=', slug).executeTakeFirst();
  return row === undefined ? undefined : toInstall(row);
}

/** What an admin saves for a district's install (the Classroom admin page). */
type InstallInput = {
  tenantId: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUrl: string;
  clientId: string;
  encryptedClientSecret: Record<string, unknown> | undefined;
  allowedDomains: readonly string[];
  apiBaseUrl: string;
  frameOrigin: string;
  name: string;
};

/**
 * Creates or updates a district's install in one transaction, with its platform row (flavour
 * 'classroom', keyed by Google's issuer and the OAuth client id) and a deployment bound to the
 * tenant, so courses and sessions work as for LTI. A new client secret is optional on update.
 */
async function saveInstall(
  db: Kysely<Database>,
  now: () => Date,
  input: InstallInput,
): Promise<{ created: boolean }> {
  const time = now();
  return db.transaction().execute(async (tx) => {
    const existing = await tx
      .selectFrom('classroom_installs')
      .select(['id', 'platform_id', 'deployment_row_id'])
      .where('tenant_id', '=', input.tenantId)
      .executeTakeFirst();
    if (existing === undefined) {
      await insertInstall(tx, input, time);
      return { created: true };
    }
    await updateInstall(tx, input, existing.platform_id, time);
    return { created: false };
  });
}

/** The platform row of an install, as written on create and on every update. */
const platformFieldsOf = (input: InstallInput) => ({
  issuer: input.issuer,
  client_id: input.clientId,
  name: input.name,
  flavour: 'classroom' as const,
  auth_login_url: input.authorizationEndpoint,
  auth_token_url: input.tokenEndpoint,
  jwks_url: input.jwksUrl,
  frame_origins: [input.frameOrigin],
});

/** The install row's fields written on create and on every update (not the secret). */
const installFieldsOf = (input: InstallInput, time: Date) => ({
  issuer: input.issuer,
  client_id: input.clientId,
  allowed_domains: [...input.allowedDomains],
  api_base_url: input.apiBaseUrl,
  frame_origin: input.frameOrigin,
  updated_at: time,
});

/** A new install: its platform, a deployment bound to the tenant, and the install row. */
async function insertInstall(
  tx: Transaction<Database>,
  input: InstallInput,
  time: Date,
): Promise<void> {
  const platform = await tx
    .insertInto('platforms')
    .values({ ...platformFieldsOf(input), status: 'active' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const deployment = await tx
    .insertInto('deployments')
    .values({
      platform_id: platform.id,
      deployment_id: `classroom:${input.tenantId}`,
      tenant_id: input.tenantId,
      label: 'Google Classroom add-on',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (input.encryptedClientSecret === undefined) {
    throw new Error('a new Classroom install needs its client secret');
  }
  await tx
    .insertInto('classroom_installs')
    .values({
      ...installFieldsOf(input, time),
      tenant_id: input.tenantId,
      platform_id: platform.id,
      deployment_row_id: deployment.id,
      encrypted_client_secret: JSON.stringify(input.encryptedClientSecret),
      created_at: time,
    })
    .execute();
}

/** An existing install: its platform row and install row follow what the admin saved. */
async function updateInstall(
  tx: Transaction<Database>,
  input: InstallInput,
  platformId: string,
  time: Date,
): Promise<void> {
  await tx
    .updateTable('platforms')
    .set(platformFieldsOf(input))
    .where('id', '=', platformId)
    .execute();
  await tx
    .updateTable('classroom_installs')
    .set({
      ...installFieldsOf(input, time),
      // A new client secret is optional on update: without one, the stored one stays.
      ...(input.encryptedClientSecret === undefined
        ? {}
        : {
            encrypted_client_secret: JSON.stringify(input.encryptedClientSecret),
            // A new secret is a new chance: Google is asked again.
            client_rejected_at: null,
          }),
    })
    .where('tenant_id', '=', input.tenantId)
    .execute();
}

async function saveRefreshToken(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    tenantId: string;
    userId: string;
    encrypted: Record<string, unknown>;
    scopes: readonly string[];
  },
): Promise<void> {
  // A new token replaces the old one and revives a revoked one.
  const token = {
    encrypted_refresh_token: JSON.stringify(input.encrypted),
    scopes: [...input.scopes],
    revoked_at: null,
    updated_at: now(),
  };
  await db
    .insertInto('classroom_user_tokens')
    .values({ tenant_id: input.tenantId, user_id: input.userId, ...token })
    .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet(token))
    .execute();
}

async function findRefreshToken(
  db: Kysely<Database>,
  tenantId: string,
  userId: string,
): Promise<{ encrypted: unknown; revoked: boolean; scopes: readonly string[] } | undefined> {
  const row = await db
    .selectFrom('classroom_user_tokens')
    .select(['encrypted_refresh_token', 'revoked_at', 'scopes'])
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : {
        encrypted: row.encrypted_refresh_token,
        revoked: row.revoked_at !== null,
        scopes: row.scopes,
      };
}

/** Google answered `invalid_client`: no call is made with this secret until a new one is saved. */
async function markClientRejected(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
): Promise<void> {
  await db
    .updateTable('classroom_installs')
    .set({ client_rejected_at: now() })
    .where('tenant_id', '=', tenantId)
    .where('client_rejected_at', 'is', null)
    .execute();
}

/**
 * Google refused the course's grading teacher for a reason only a person can fix (Classroom
 * data access turned off, a permission not allowed, the teacher left the class, the API not
 * enabled): grading stops for the course, with the reason in words, until a teacher signs in.
 */
async function pauseCourse(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  courseId: string,
  reason: string,
): Promise<void> {
  await db
    .updateTable('classroom_courses')
    .set({ needs_teacher_sign_in: true, needs_sign_in_reason: reason, updated_at: now() })
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .execute();
}

/** The district's Classroom courses whose grading is stopped, with the reason (admin page). */
async function listPausedCourses(
  db: Kysely<Database>,
  tenantId: string,
): Promise<{ courseId: string; title: string | undefined; reason: string | undefined }[]> {
  const rows = await db
    .selectFrom('classroom_courses as cc')
    .innerJoin('courses as c', 'c.id', 'cc.course_id')
    .select(['cc.course_id', 'c.title', 'cc.needs_sign_in_reason'])
    .where('cc.tenant_id', '=', tenantId)
    .where('c.tenant_id', '=', tenantId)
    .where('cc.needs_teacher_sign_in', '=', true)
    .orderBy('c.title')
    .limit(200)
    .execute();
  return rows.map((row) => ({
    courseId: row.course_id,
    title: row.title ?? undefined,
    reason: row.needs_sign_in_reason ?? undefined,
  }));
}

/** The student's own submission id on an attachment, as getAddOnContext gave it. */
async function saveAttachmentSubmission(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string;
    courseWorkId: string;
    attachmentId: string;
    googleUserId: string;
    submissionId: string;
  },
): Promise<void> {
  const time = now();
  await db
    .insertInto('classroom_attachment_submissions')
    .values({
      tenant_id: input.tenantId,
      course_id: input.courseId,
      course_work_id: input.courseWorkId,
      attachment_id: input.attachmentId,
      google_user_id: input.googleUserId,
      submission_id: input.submissionId,
      updated_at: time,
    })
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'course_id', 'course_work_id', 'attachment_id', 'google_user_id'])
        .doUpdateSet({ submission_id: input.submissionId, updated_at: time }),
    )
    .execute();
}

async function findAttachmentSubmission(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  courseWorkId: string,
  attachmentId: string,
  googleUserId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('classroom_attachment_submissions')
    .select('submission_id')
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('course_work_id', '=', courseWorkId)
    .where('attachment_id', '=', attachmentId)
    .where('google_user_id', '=', googleUserId)
    .executeTakeFirst();
  return row?.submission_id;
}

/**
 * A column of this district for a Classroom attachment, in whichever course it was made: the
 * way back from a copied attachment's `copyHistory` (the original's course, item, attachment).
 */
async function findColumnByClassroomAttachment(
  db: Kysely<Database>,
  tenantId: string,
  classroomCourseId: string,
  courseWorkId: string,
  attachmentId: string,
): Promise<ClassroomColumn | undefined> {
  const row = await db
    .selectFrom('classroom_columns as col')
    .innerJoin('classroom_courses as cc', 'cc.course_id', 'col.course_id')
    .selectAll('col')
    .where('col.tenant_id', '=', tenantId)
    .where('cc.tenant_id', '=', tenantId)
    .where('cc.classroom_course_id', '=', classroomCourseId)
    .where('col.course_work_id', '=', courseWorkId)
    .where('col.attachment_id', '=', attachmentId)
    .executeTakeFirst();
  return row === undefined ? undefined : toColumn(row);
}

/** Google answered invalid_grant: the token is dead, and so is grading through it. */
async function markTokenRevoked(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  userId: string,
  reason: string,
): Promise<number> {
  const time = now();
  return db.transaction().execute(async (tx) => {
    await tx
      .updateTable('classroom_user_tokens')
      .set({ revoked_at: time, updated_at: time })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .execute();
    const result = await tx
      .updateTable('classroom_courses')
      .set({ needs_teacher_sign_in: true, needs_sign_in_reason: reason, updated_at: time })
      .where('tenant_id', '=', tenantId)
      .where('grading_user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  });
}

/**
 * The tool's course for a Classroom course: a `courses` row under the install's deployment
 * (context_id = the Classroom course id) and its Classroom link. The course's roster and
 * gradebook "service URLs" point at the Classroom API, so the course pages offer roster sync
 * and grade sync as for LTI courses.
 */
async function upsertCourse(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    tenantId: string;
    deploymentRowId: string;
    classroomCourseId: string;
    title: string | undefined;
    section: string | undefined;
    apiBaseUrl: string;
  },
): Promise<string> {
  const time = now();
  const api = input.apiBaseUrl.replace(/\/+$/, '');
  const id = encodeURIComponent(input.classroomCourseId);
  return db.transaction().execute(async (tx) => {
    const row = await upsertCourseRow(
      tx,
      input.tenantId,
      {
        deploymentRowId: input.deploymentRowId,
        contextId: input.classroomCourseId,
        title: input.title,
        label: input.section,
        agsLineItemsUrl: `${api}/v1/courses/${id}/courseWork`,
        nrpsMembershipsUrl: `${api}/v1/courses/${id}/students`,
        // Classroom grants no AGS scopes or NRPS versions.
        agsScopes: undefined,
        nrpsServiceVersions: undefined,
      },
      time,
    )
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('classroom_courses')
      .values({
        tenant_id: input.tenantId,
        course_id: row.id,
        classroom_course_id: input.classroomCourseId,
        grading_user_id: null,
        needs_sign_in_reason: null,
        updated_at: time,
      })
      .onConflict((oc) => oc.column('course_id').doNothing())
      .execute();
    return row.id;
  });
}

/** A teacher signed in: their token grades this course from now on, and the flag clears. */
async function setGradingTeacher(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  courseId: string,
  userId: string,
): Promise<void> {
  await db
    .updateTable('classroom_courses')
    .set({
      grading_user_id: userId,
      needs_teacher_sign_in: false,
      needs_sign_in_reason: null,
      updated_at: now(),
    })
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .execute();
}

async function findCourseLink(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
): Promise<ClassroomCourseLink | undefined> {
  const row = await db
    .selectFrom('classroom_courses')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : {
        tenantId: row.tenant_id,
        courseId: row.course_id,
        classroomCourseId: row.classroom_course_id,
        gradingUserId: row.grading_user_id ?? undefined,
        needsTeacherSignIn: row.needs_teacher_sign_in,
        needsSignInReason: row.needs_sign_in_reason ?? undefined,
      };
}

async function upsertClassroomEnrollment(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string;
    userId: string;
    roles: readonly string[];
  },
): Promise<void> {
  await upsertEnrollment(
    db,
    input.tenantId,
    {
      courseId: input.courseId,
      userId: input.userId,
      roles: input.roles,
      status: 'active',
      source: 'launch',
      replaceSource: false,
    },
    now(),
  );
}

async function createColumn(
  db: Kysely<Database>,
  now: () => Date,
  input: ColumnFields,
): Promise<ClassroomColumn> {
  return insertColumn(db, input, now());
}

async function findColumnById(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<ClassroomColumn | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await columnsOf(db, tenantId).where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toColumn(row);
}

async function findColumnByAttachment(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  courseWorkId: string,
  attachmentId: string,
): Promise<ClassroomColumn | undefined> {
  const row = await columnsOf(db, tenantId)
    .where('course_id', '=', courseId)
    .where('course_work_id', '=', courseWorkId)
    .where('attachment_id', '=', attachmentId)
    .executeTakeFirst();
  return row === undefined ? undefined : toColumn(row);
}

async function findColumn(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  query: { tag?: string | undefined; resourceId?: string | undefined },
): Promise<ClassroomColumn | undefined> {
  let q = columnsOf(db, tenantId).where('course_id', '=', courseId);
  if (query.tag !== undefined) q = q.where('tag', '=', query.tag);
  if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
  const row = await q.orderBy('created_at').executeTakeFirst();
  return row === undefined ? undefined : toColumn(row);
}

/** The district's standards a teacher may align to (not archived), in framework order. */
async function listStandards(
  db: Kysely<Database>,
  tenantId: string,
  limit = 500,
): Promise<StandardChoice[]> {
  const rows = await db
    .selectFrom('standard_items as i')
    .innerJoin('standard_frameworks as f', 'f.id', 'i.framework_id')
    .select(['i.id', 'i.code', 'i.full_statement', 'f.title'])
    .where('i.tenant_id', '=', tenantId)
    .where('f.tenant_id', '=', tenantId)
    .where('i.archived_at', 'is', null)
    .orderBy('f.title')
    .orderBy('i.sequence')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    code: row.code ?? undefined,
    statement: row.full_statement,
    framework: row.title,
  }));
}

/** Whether every id is a live standard of this district (checked before calling Classroom). */
async function standardsExist(
  db: Kysely<Database>,
  tenantId: string,
  itemIds: readonly string[],
): Promise<boolean> {
  const unique = [...new Set(itemIds)];
  if (unique.length === 0 || unique.some((id) => !isUuid(id))) return false;
  return (await countLiveStandards(db, tenantId, unique)) === unique.length;
}

/**
 * Records an activity the teacher created in Classroom, in one transaction: the tool's
 * assignment (resource id `mp-assignment:<id>`, as for Deep Linking), its standards and the
 * Classroom column. Standards of another district are refused (the count must match), so
 * nothing half-aligned is stored.
 */
async function recordActivity(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string;
    title: string;
    itemIds: readonly string[];
    maxPoints: number;
    createdBy: string;
    kind: ClassroomColumnKind;
    courseWorkId: string;
    attachmentId: string | undefined;
    /** The LMS port's id of the new column: the assignment's own grades are posted there. */
    lineItemUrl: string;
  },
): Promise<{ assignmentId: string; column: ClassroomColumn } | undefined> {
  const time = now();
  const unique = [...new Set(input.itemIds)];
  return db.transaction().execute(async (tx) => {
    if ((await countLiveStandards(tx, input.tenantId, unique)) !== unique.length) {
      return undefined;
    }
    // The assignment and its standards, as Deep Linking makes them (resourceId known up front).
    const assignments = createCourseAssignmentRepository(tx, () => time);
    const assignmentId = randomUUID();
    const resourceId = assignmentResourceId(assignmentId);
    const assignment = await assignments.create({
      id: assignmentId,
      tenantId: input.tenantId,
      courseId: input.courseId,
      title: input.title,
      source: 'deep_link',
      resourceId,
      lineItemUrl: input.lineItemUrl,
      scoreMaximum: input.maxPoints,
      createdBy: input.createdBy,
    });
    await assignments.replaceAlignments(
      input.tenantId,
      input.courseId,
      assignment.id,
      unique.map((itemId) => ({
        itemId,
        weight: 1,
        points: undefined,
        rubricCriterion: undefined,
      })),
      input.createdBy,
    );
    const column = await insertColumn(
      tx,
      {
        tenantId: input.tenantId,
        courseId: input.courseId,
        kind: input.kind,
        courseWorkId: input.courseWorkId,
        attachmentId: input.attachmentId,
        assignmentId: assignment.id,
        title: input.title,
        maxPoints: input.maxPoints,
        tag: undefined,
        resourceId,
      },
      time,
    );
    return { assignmentId: assignment.id, column };
  });
}

/**
 * A Classroom copy (reused post or copied class) of an attachment the tool made elsewhere in the
 * district, recorded in one transaction: a copy of the original's assignment in this course
 * (`copied_from`, its alignments copied, as an LMS course copy keeps them) and the column for
 * the copy's own ids. Idempotent: a second open finds the column the first one made.
 */
async function recordCopiedActivity(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string;
    original: ClassroomColumn;
    courseWorkId: string;
    attachmentId: string;
    maxPoints: number | undefined;
    actor: string;
    /** The LMS port's id of the copy's column: the copied assignment's grades go there. */
    lineItemUrl: string;
  },
): Promise<ClassroomColumn | undefined> {
  const time = now();
  return db.transaction().execute(async (tx) => {
    const known = await tx
      .selectFrom('classroom_columns')
      .selectAll()
      .where('tenant_id', '=', input.tenantId)
      .where('course_id', '=', input.courseId)
      .where('course_work_id', '=', input.courseWorkId)
      .where('attachment_id', '=', input.attachmentId)
      .executeTakeFirst();
    if (known !== undefined) return toColumn(known);
    const { original } = input;
    if (original.assignmentId === undefined || original.tenantId !== input.tenantId) {
      return undefined;
    }
    const assignments = createCourseAssignmentRepository(tx, () => time);
    const source = await assignments.find(input.tenantId, original.courseId, original.assignmentId);
    if (source === undefined) return undefined;
    const maxPoints =
      input.maxPoints !== undefined && input.maxPoints > 0 ? input.maxPoints : original.maxPoints;
    const assignmentId = randomUUID();
    const resourceId = assignmentResourceId(assignmentId);
    await assignments.create({
      id: assignmentId,
      tenantId: input.tenantId,
      courseId: input.courseId,
      title: source.title,
      description: source.description,
      source: 'deep_link',
      resourceId,
      lineItemUrl: input.lineItemUrl,
      scoreMaximum: maxPoints,
      copiedFrom: source.id,
      createdBy: input.actor,
    });
    await assignments.copyAlignments(
      input.tenantId,
      { courseId: original.courseId, assignmentId: source.id },
      { courseId: input.courseId, assignmentId },
      input.actor,
    );
    return insertColumn(
      tx,
      {
        tenantId: input.tenantId,
        courseId: input.courseId,
        kind: 'attachment',
        courseWorkId: input.courseWorkId,
        attachmentId: input.attachmentId,
        assignmentId,
        title: original.title,
        maxPoints,
        tag: undefined,
        resourceId,
      },
      time,
    );
  });
}

async function listAlignedStandards(
  db: Kysely<Database>,
  tenantId: string,
  assignmentId: string,
): Promise<{ code: string | undefined; statement: string }[]> {
  const rows = await db
    .selectFrom('assignment_alignments as a')
    .innerJoin('standard_items as i', 'i.id', 'a.item_id')
    .select(['i.code', 'i.full_statement'])
    .where('a.tenant_id', '=', tenantId)
    .where('a.assignment_id', '=', assignmentId)
    .orderBy('a.position')
    .execute();
  return rows.map((row) => ({ code: row.code ?? undefined, statement: row.full_statement }));
}

async function createFlow(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    state: string;
    flowId: string;
    tenantId: string;
    nonce: string;
    codeVerifier: string;
    launch: ClassroomLaunchParams;
    ttlMs: number;
  },
): Promise<void> {
  const time = now();
  // The same signed launch opened twice (two clicks) keeps the first row.
  await db
    .insertInto('classroom_sign_in_flows')
    .values({
      state: input.state,
      flow_id: input.flowId,
      tenant_id: input.tenantId,
      nonce: input.nonce,
      code_verifier: input.codeVerifier,
      launch: JSON.stringify(input.launch),
      expires_at: new Date(time.getTime() + input.ttlMs),
      created_at: time,
    })
    .onConflict((oc) => oc.column('flow_id').doNothing())
    .execute();
}

async function findFlowByState(
  db: Kysely<Database>,
  now: () => Date,
  state: string,
): Promise<SignInFlow | undefined> {
  const row = await db
    .selectFrom('classroom_sign_in_flows')
    .selectAll()
    .where('state', '=', state)
    .where('expires_at', '>', now())
    .executeTakeFirst();
  return row === undefined ? undefined : toFlow(row);
}

async function findFlow(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  flowId: string,
): Promise<SignInFlow | undefined> {
  const row = await db
    .selectFrom('classroom_sign_in_flows')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId)
    .where('expires_at', '>', now())
    .executeTakeFirst();
  return row === undefined ? undefined : toFlow(row);
}

/** Records the callback's outcome once: a replayed callback (same state) changes nothing. */
async function completeFlow(
  db: Kysely<Database>,
  now: () => Date,
  input: {
    state: string;
    userId: string;
    courseId: string;
    role: 'teacher' | 'student';
    launch: ClassroomLaunchParams;
    /** sha256 (hex) of the completion secret handed to the browser that signed in. */
    completionHash: string;
  },
): Promise<boolean> {
  const result = await db
    .updateTable('classroom_sign_in_flows')
    .set({
      launch: JSON.stringify(input.launch),
      user_id: input.userId,
      course_id: input.courseId,
      role: input.role,
      completion_hash: input.completionHash,
      completed_at: now(),
    })
    .where('state', '=', input.state)
    .where('completed_at', 'is', null)
    .where('expires_at', '>', now())
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Hands a completed flow out once (DELETE … RETURNING) to the holder of its completion secret
 * (matched by hash): a second "continue", or one with only the flow id, finds nothing.
 */
async function consumeFlow(
  db: Kysely<Database>,
  now: () => Date,
  tenantId: string,
  flowId: string,
  completionHash: string,
): Promise<SignInFlow | undefined> {
  const row = await db
    .deleteFrom('classroom_sign_in_flows')
    .where('tenant_id', '=', tenantId)
    .where('flow_id', '=', flowId)
    .where('completed_at', 'is not', null)
    .where('completion_hash', '=', completionHash)
    .where('expires_at', '>', now())
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : toFlow(row);
}

async function sweepExpiredFlows(db: Kysely<Database>, now: () => Date): Promise<number> {
  const result = await db
    .deleteFrom('classroom_sign_in_flows')
    .where('expires_at', '<=', now())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function createClassroomRepository(db: Kysely<Database>, now: () => Date) {
  // Each method is one of the functions above, given this database and clock.
  return {
    findInstall: findInstall.bind(undefined, db),
    findInstallBySlug: findInstallBySlug.bind(undefined, db),
    saveInstall: saveInstall.bind(undefined, db, now),
    saveRefreshToken: saveRefreshToken.bind(undefined, db, now),
    findRefreshToken: findRefreshToken.bind(undefined, db),
    markClientRejected: markClientRejected.bind(undefined, db, now),
    pauseCourse: pauseCourse.bind(undefined, db, now),
    listPausedCourses: listPausedCourses.bind(undefined, db),
    saveAttachmentSubmission: saveAttachmentSubmission.bind(undefined, db, now),
    findAttachmentSubmission: findAttachmentSubmission.bind(undefined, db),
    findColumnByClassroomAttachment: findColumnByClassroomAttachment.bind(undefined, db),
    markTokenRevoked: markTokenRevoked.bind(undefined, db, now),
    upsertCourse: upsertCourse.bind(undefined, db, now),
    setGradingTeacher: setGradingTeacher.bind(undefined, db, now),
    findCourseLink: findCourseLink.bind(undefined, db),
    upsertEnrollment: upsertClassroomEnrollment.bind(undefined, db, now),
    createColumn: createColumn.bind(undefined, db, now),
    findColumnById: findColumnById.bind(undefined, db),
    findColumnByAttachment: findColumnByAttachment.bind(undefined, db),
    findColumn: findColumn.bind(undefined, db),
    listStandards: listStandards.bind(undefined, db),
    standardsExist: standardsExist.bind(undefined, db),
    recordActivity: recordActivity.bind(undefined, db, now),
    recordCopiedActivity: recordCopiedActivity.bind(undefined, db, now),
    listAlignedStandards: listAlignedStandards.bind(undefined, db),
    createFlow: createFlow.bind(undefined, db, now),
    findFlowByState: findFlowByState.bind(undefined, db, now),
    findFlow: findFlow.bind(undefined, db, now),
    completeFlow: completeFlow.bind(undefined, db, now),
    consumeFlow: consumeFlow.bind(undefined, db, now),
    sweepExpiredFlows: sweepExpiredFlows.bind(undefined, db, now),
  };
}

export type ClassroomRepository = ReturnType<typeof createClassroomRepository>;
