import type { Kysely } from 'kysely';
import type { DeepLinkingSettings } from '../../lti/claims.ts';
import type { Database } from '../schema.ts';
import type { DeepLinkingSettingsJson } from './schema.ts';

/** A Deep Linking request waiting for the teacher's choice, owned by one session. */
export interface DeepLinkRequest {
  readonly id: string;
  readonly tenantId: string;
  readonly deploymentRowId: string;
  readonly courseId: string | undefined;
  readonly settings: DeepLinkingSettings;
  readonly expiresAt: Date;
}

const toJson = (settings: DeepLinkingSettings): DeepLinkingSettingsJson => ({
  returnUrl: settings.returnUrl,
  acceptTypes: [...settings.acceptTypes],
  acceptPresentationDocumentTargets: [...settings.acceptPresentationDocumentTargets],
  acceptMediaTypes: settings.acceptMediaTypes ?? null,
  acceptMultiple: settings.acceptMultiple,
  acceptLineItem: settings.acceptLineItem ?? null,
  autoCreate: settings.autoCreate,
  title: settings.title ?? null,
  text: settings.text ?? null,
  data: settings.data ?? null,
});

const fromJson = (json: DeepLinkingSettingsJson): DeepLinkingSettings => ({
  returnUrl: json.returnUrl,
  acceptTypes: json.acceptTypes,
  acceptPresentationDocumentTargets: json.acceptPresentationDocumentTargets,
  acceptMediaTypes: json.acceptMediaTypes ?? undefined,
  acceptMultiple: json.acceptMultiple,
  acceptLineItem: json.acceptLineItem ?? undefined,
  autoCreate: json.autoCreate,
  title: json.title ?? undefined,
  text: json.text ?? undefined,
  data: json.data ?? undefined,
});

export function createDeepLinkRepository(db: Kysely<Database>, now: () => Date) {
  return {
    async create(input: {
      tenantId: string;
      sessionId: string;
      deploymentRowId: string;
      courseId: string | undefined;
      settings: DeepLinkingSettings;
      ttlMs: number;
    }): Promise<DeepLinkRequest> {
      const time = now();
      const row = await db
        .insertInto('deep_link_requests')
        .values({
          tenant_id: input.tenantId,
          session_id: input.sessionId,
          deployment_row_id: input.deploymentRowId,
          course_id: input.courseId ?? null,
          settings: JSON.stringify(toJson(input.settings)),
          created_at: time,
          expires_at: new Date(time.getTime() + input.ttlMs),
        })
        .returning(['id', 'expires_at'])
        .executeTakeFirstOrThrow();
      return {
        id: row.id,
        tenantId: input.tenantId,
        deploymentRowId: input.deploymentRowId,
        courseId: input.courseId,
        settings: input.settings,
        expiresAt: row.expires_at,
      };
    },

    /** The session's newest live request (a session answers at most one at a time). */
    async findForSession(
      tenantId: string,
      sessionId: string,
    ): Promise<DeepLinkRequest | undefined> {
      const row = await db
        .selectFrom('deep_link_requests')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('session_id', '=', sessionId)
        .where('expires_at', '>', now())
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        id: row.id,
        tenantId: row.tenant_id,
        deploymentRowId: row.deployment_row_id,
        courseId: row.course_id ?? undefined,
        settings: fromJson(row.settings),
        expiresAt: row.expires_at,
      };
    },

    /** Deletes requests nobody answered in time; returns how many. */
    async sweepExpired(): Promise<number> {
      const result = await db
        .deleteFrom('deep_link_requests')
        .where('expires_at', '<=', now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Answered requests are removed, so the same request cannot be answered twice. */
    async remove(tenantId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('deep_link_requests')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export type DeepLinkRepository = ReturnType<typeof createDeepLinkRepository>;
