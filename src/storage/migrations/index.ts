import type { Migration } from 'kysely/migration';
import * as createTenants from './20261127T0400-create-tenants.ts';
import * as createLtiTables from './20261127T0500-create-lti-tables.ts';
import * as createStandardsTables from './20261127T0510-create-standards-tables.ts';
import * as addPlatformFrameOrigins from './20261127T0520-add-platform-frame-origins.ts';
import * as createDeepLinkRequests from './20261127T0530-create-deep-link-requests.ts';
import * as createPassbackTables from './20261127T0600-create-passback-tables.ts';
import * as createAdminSessions from './20261127T0610-create-admin-sessions.ts';
import * as createCourseAssignments from './20261127T0700-create-course-assignments.ts';
import * as createEvidenceAndMastery from './20261127T0710-create-evidence-and-mastery.ts';
import * as createClassroomTables from './20261127T0720-create-classroom-tables.ts';
import * as addSignInCompletion from './20261127T0740-add-sign-in-completion.ts';
import * as stopStoringExplanations from './20261127T0750-stop-storing-explanations.ts';
import * as createMentorScopes from './20261127T0760-create-mentor-scopes.ts';
import * as addTeacherHeldGrades from './20261207T2210-add-teacher-held-grades.ts';
import * as addEvidenceOrderingDates from './20261207T2220-add-evidence-ordering-dates.ts';
import * as createLoginRestarts from './20261207T2240-create-login-restarts.ts';
import * as recordClassroomAttachmentSubmissions from './20261207T2250-record-classroom-attachment-submissions.ts';
import * as createClassroomRememberedSignIns from './20261207T2260-create-classroom-remembered-sign-ins.ts';
import * as createDeletionRecords from './20261207T2270-create-deletion-records.ts';
import * as addClaimedValue from './20261208T0100-add-claimed-value.ts';
import * as createServerSecrets from './20261208T0110-create-server-secrets.ts';
import * as convertSessionRoles from './20261208T0200-convert-session-roles.ts';
import * as createJobs from './20261208T0300-create-jobs.ts';

/**
 * Every migration, by name. Names start with a UTC timestamp and Kysely runs them in name order.
 * The list is static (not read from the folder) so the compiled build and the sources run the
 * same set. Add one line per new migration file.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '20261127T0400-create-tenants': createTenants,
  '20261127T0500-create-lti-tables': createLtiTables,
  '20261127T0510-create-standards-tables': createStandardsTables,
  '20261127T0520-add-platform-frame-origins': addPlatformFrameOrigins,
  '20261127T0530-create-deep-link-requests': createDeepLinkRequests,
  '20261127T0600-create-passback-tables': createPassbackTables,
  '20261127T0610-create-admin-sessions': createAdminSessions,
  '20261127T0700-create-course-assignments': createCourseAssignments,
  '20261127T0710-create-evidence-and-mastery': createEvidenceAndMastery,
  '20261127T0720-create-classroom-tables': createClassroomTables,
  '20261127T0740-add-sign-in-completion': addSignInCompletion,
  '20261127T0750-stop-storing-explanations': stopStoringExplanations,
  '20261127T0760-create-mentor-scopes': createMentorScopes,
  '20261207T2210-add-teacher-held-grades': addTeacherHeldGrades,
  '20261207T2220-add-evidence-ordering-dates': addEvidenceOrderingDates,
  '20261207T2240-create-login-restarts': createLoginRestarts,
  '20261207T2250-record-classroom-attachment-submissions': recordClassroomAttachmentSubmissions,
  '20261207T2260-create-classroom-remembered-sign-ins': createClassroomRememberedSignIns,
  '20261207T2270-create-deletion-records': createDeletionRecords,
  '20261208T0100-add-claimed-value': addClaimedValue,
  '20261208T0110-create-server-secrets': createServerSecrets,
  '20261208T0200-convert-session-roles': convertSessionRoles,
  '20261208T0300-create-jobs': createJobs,
};
