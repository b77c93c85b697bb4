import { z } from 'zod';
import { LTI_SCOPE } from './claims.ts';
import { fetchAllPages, parseJsonBody, requireScope } from './service-request.ts';
import type { LtiServiceContext } from './service-request.ts';

/**
 * The page size asked of NRPS (`limit`, NRPS 2.0 §2.4.1). Platforms cap it at their own maximum:
 * Canvas 50 (`MembershipsProvider::MAX_PAGE_SIZE`), Schoology 100. Bigger pages mean fewer calls
 * against Canvas's rate limit.
 */
export const NRPS_PAGE_SIZE = 100;

/** Names and Role Provisioning Services 2.0 membership container (NRPS 2.0 §2.2). */
export const NRPS_MEDIA_TYPE = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json';

const memberSchema = z.looseObject({
  user_id: z.string().min(1),
  status: z.string().optional(),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  email: z.string().optional(),
  lis_person_sourcedid: z.string().optional(),
  // Moodle sends short role names ("Learner"); keep them open and use the role helpers of claims.ts.
  roles: z.array(z.string()).default([]),
});

const membershipContainerSchema = z.looseObject({
  id: z.string().optional(),
  context: z
    .looseObject({ id: z.string(), label: z.string().optional(), title: z.string().optional() })
    .optional(),
  members: z.array(memberSchema),
});

export type MemberStatus = 'Active' | 'Inactive' | 'Deleted';

export interface Member {
  /** The same value as `sub` in launches from this platform. */
  readonly userId: string;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
  readonly sourcedId: string | undefined;
  readonly roles: readonly string[];
  readonly status: MemberStatus;
}

function normalizeStatus(status: string | undefined): MemberStatus {
  // Status is optional and defaults to Active (NRPS 2.0 §2.3).
  if (status === 'Inactive' || status === 'Deleted') return status;
  return 'Active';
}

export interface NrpsClient {
  /** Every member of the context, across all pages, asking for the largest page (`limit`). */
  listMembers(
    membershipsUrl: string,
    filters?: { role?: string; limit?: number },
  ): Promise<Member[]>;
}

export function createNrpsClient(context: LtiServiceContext): NrpsClient {
  return {
    async listMembers(membershipsUrl, filters = {}) {
      requireScope(context, [LTI_SCOPE.membershipReadonly], 'reading the class list');
      const url = new URL(membershipsUrl);
      if (filters.role !== undefined) url.searchParams.set('role', filters.role);
      url.searchParams.set('limit', String(filters.limit ?? NRPS_PAGE_SIZE));
      const members = await fetchAllPages(
        { ...context, scopes: [LTI_SCOPE.membershipReadonly] },
        url.toString(),
        NRPS_MEDIA_TYPE,
        (response) =>
          parseJsonBody(response, membershipContainerSchema, 'membership container').members,
      );
      return members.map((member) => ({
        userId: member.user_id,
        name: member.name,
        givenName: member.given_name,
        familyName: member.family_name,
        email: member.email,
        sourcedId: member.lis_person_sourcedid,
        roles: member.roles,
        status: normalizeStatus(member.status),
      }));
    },
  };
}
