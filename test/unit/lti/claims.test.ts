import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  deepLinkingLaunchClaimsSchema,
  isAdministrator,
  isInstructor,
  isLearner,
  isMentor,
  LTI_CLAIM,
  normalizeContextType,
  parseRole,
  resourceLinkLaunchClaimsSchema,
  toLaunchContext,
} from '../../../src/lti/claims.ts';
import { LTI_ERROR_CODES, LtiError } from '../../../src/lti/errors.ts';
import { courseServicesFromLaunch, lmsLaunchFromLti } from '../../../src/lms/lti/adapter.ts';
import type { LtiErrorCode } from '../../../src/lti/errors.ts';
import { resourceLinkClaims } from './fixtures.ts';

const V2 = 'http://purl.imsglobal.org/vocab/lis/v2';

describe('LTI claims', () => {
  describe('roles', () => {
    it('when roles come as full URIs, then the helpers recognise them', () => {
      expect(isInstructor([`${V2}/membership#Instructor`])).to.equal(true);
      expect(isLearner([`${V2}/membership#Learner`])).to.equal(true);
      expect(isMentor([`${V2}/membership#Mentor`])).to.equal(true);
      expect(isAdministrator([`${V2}/institution/person#Administrator`])).to.equal(true);
      expect(isAdministrator([`${V2}/system/person#Administrator`])).to.equal(true);
      expect(isAdministrator([`${V2}/system/person#SysAdmin`])).to.equal(true);
    });

    it('when Moodle sends short forms, then the helpers recognise them too', () => {
      expect(isInstructor(['Instructor'])).to.equal(true);
      expect(isLearner(['Learner'])).to.equal(true);
      expect(isMentor(['Mentor'])).to.equal(true);
    });

    it('when a sub-role of Instructor is sent, then it counts as instructor', () => {
      expect(isInstructor([`${V2}/membership/Instructor#TeachingAssistant`])).to.equal(true);
      expect(parseRole(`${V2}/membership/Instructor#TeachingAssistant`)).to.deep.equal({
        scope: 'context',
        principal: 'Instructor',
        subRole: 'TeachingAssistant',
      });
    });

    it('when deprecated LIS v1 URNs are sent, then they are read by scope', () => {
      expect(isInstructor(['urn:lti:role:ims/lis/Instructor'])).to.equal(true);
      expect(isAdministrator(['urn:lti:instrole:ims/lis/Administrator'])).to.equal(true);
      expect(isAdministrator(['urn:lti:sysrole:ims/lis/SysAdmin'])).to.equal(true);
    });

    it('when a context-level Administrator or an institution Instructor is sent, then they are not confused', () => {
      expect(isAdministrator(['Administrator', `${V2}/membership#Administrator`])).to.equal(false);
      expect(isInstructor([`${V2}/institution/person#Instructor`])).to.equal(false);
      expect(isLearner([`${V2}/institution/person#Student`])).to.equal(false);
    });

    it('when roles are empty or foreign, then no helper matches', () => {
      for (const roles of [[], ['http://example.org/roles#Instructor'], ['']]) {
        expect([
          isInstructor(roles),
          isLearner(roles),
          isMentor(roles),
          isAdministrator(roles),
        ]).to.deep.equal([false, false, false, false]);
      }
    });
  });

  describe('normalization', () => {
    it('when the context type is a URI or short form, then both become the short name', () => {
      expect(normalizeContextType(`${V2}/course#CourseSection`)).to.equal('CourseSection');
      expect(normalizeContextType('CourseSection')).to.equal('CourseSection');
      expect(normalizeContextType('urn:lti:context-type:ims/lis/CourseOffering')).to.equal(
        'CourseOffering',
      );
    });

    it('when claims are converted, then the launch context is camelCase and keeps custom keys as given', () => {
      const parsed = resourceLinkLaunchClaimsSchema.parse({
        ...resourceLinkClaims({ nonce: 'n' }),
        iss: 'https://schoology.schoology.com',
        aud: 'client-1',
        iat: 1,
        exp: 2,
        [LTI_CLAIM.custom]: { standard_set: 'ccss', grade: 5, enabled: true },
        [LTI_CLAIM.context]: { id: 'c1', type: [`${V2}/course#CourseOffering`] },
        [LTI_CLAIM.ags]: {
          scope: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'],
          lineitems: 'https://lms.example/lineitems',
        },
        [LTI_CLAIM.nrps]: {
          context_memberships_url: 'https://lms.example/members',
          service_versions: ['1.0', '2.0'],
        },
        [LTI_CLAIM.launchPresentation]: {
          document_target: 'iframe',
          return_url: 'https://lms.example/back',
          locale: 'en',
        },
      });
      const launch = toLaunchContext(
        { messageType: 'LtiResourceLinkRequest', claims: parsed },
        'client-1',
      );
      expect(launch.custom).to.deep.equal({ standard_set: 'ccss', grade: '5', enabled: 'true' });
      expect(launch.context).to.deep.equal({
        id: 'c1',
        title: undefined,
        label: undefined,
        type: ['CourseOffering'],
      });
      expect(launch.ags).to.deep.equal({
        scopes: ['https://purl.imsglobal.org/spec/lti-ags/scope/score'],
        lineItemsUrl: 'https://lms.example/lineitems',
        lineItemUrl: undefined,
      });
      expect(launch.nrps).to.deep.equal({
        membershipsUrl: 'https://lms.example/members',
        serviceVersions: ['1.0', '2.0'],
      });
      expect(launch.launchPresentation?.documentTarget).to.equal('iframe');
      expect(launch.email).to.equal(undefined);

      const services = courseServicesFromLaunch(launch);
      expect(services?.course).to.deep.equal({
        issuer: 'https://schoology.schoology.com',
        deploymentId: 'deployment-1',
        contextId: 'c1',
      });
      expect(services?.scopes).to.deep.equal([
        'https://purl.imsglobal.org/spec/lti-ags/scope/score',
        'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
      ]);
      expect(lmsLaunchFromLti(launch)).to.deep.include({
        role: 'teacher',
        user: {
          issuer: 'https://schoology.schoology.com',
          userId: 'user-1',
          name: 'Ada Lovelace',
          email: undefined,
        },
      });
    });

    it('when deep linking settings omit optional flags, then they default to false and accept_lineitem stays unknown', () => {
      const parsed = deepLinkingLaunchClaimsSchema.parse({
        ...resourceLinkClaims({ nonce: 'n' }),
        iss: 'https://lms.example',
        aud: 'client-1',
        iat: 1,
        exp: 2,
        [LTI_CLAIM.messageType]: 'LtiDeepLinkingRequest',
        [LTI_CLAIM.deepLinkingSettings]: {
          deep_link_return_url: 'https://lms.example/return',
          accept_types: ['ltiResourceLink'],
          accept_presentation_document_targets: ['iframe'],
        },
      });
      const launch = toLaunchContext(
        { messageType: 'LtiDeepLinkingRequest', claims: parsed },
        'client-1',
      );
      if (launch.messageType !== 'LtiDeepLinkingRequest') throw new Error('wrong type');
      expect(launch.deepLinking).to.include({
        acceptMultiple: false,
        acceptLineItem: undefined,
        autoCreate: false,
        data: undefined,
      });
    });
  });

  // Older Canvas code puts null in optional nested fields (LMS-NOTES; issue 20 item 7): each optional
  // field given as null is read as absent instead of refusing the launch.
  describe('null in optional fields', () => {
    const base = () => ({
      ...resourceLinkClaims({ nonce: 'n' }),
      iss: 'https://canvas.instructure.com',
      aud: 'client-1',
      iat: 1,
      exp: 2,
      [LTI_CLAIM.ags]: { scope: [], lineitems: 'https://lms.example/li' },
      [LTI_CLAIM.nrps]: { context_memberships_url: 'https://lms.example/members' },
      [LTI_CLAIM.launchPresentation]: { document_target: 'iframe' },
      [LTI_CLAIM.toolPlatform]: { guid: 'g' },
    });
    const nested: readonly (readonly [claim: string, short: string, field: string])[] = [
      [LTI_CLAIM.resourceLink, 'resource_link', 'title'],
      [LTI_CLAIM.resourceLink, 'resource_link', 'description'],
      [LTI_CLAIM.context, 'context', 'label'],
      [LTI_CLAIM.context, 'context', 'title'],
      [LTI_CLAIM.context, 'context', 'type'],
      [LTI_CLAIM.launchPresentation, 'launch_presentation', 'height'],
      [LTI_CLAIM.launchPresentation, 'launch_presentation', 'width'],
      [LTI_CLAIM.launchPresentation, 'launch_presentation', 'document_target'],
      [LTI_CLAIM.launchPresentation, 'launch_presentation', 'return_url'],
      [LTI_CLAIM.launchPresentation, 'launch_presentation', 'locale'],
      [LTI_CLAIM.toolPlatform, 'tool_platform', 'guid'],
      [LTI_CLAIM.toolPlatform, 'tool_platform', 'name'],
      [LTI_CLAIM.toolPlatform, 'tool_platform', 'version'],
      [LTI_CLAIM.toolPlatform, 'tool_platform', 'product_family_code'],
      [LTI_CLAIM.toolPlatform, 'tool_platform', 'contact_email'],
      [LTI_CLAIM.toolPlatform, 'tool_platform', 'url'],
      [LTI_CLAIM.ags, 'ags endpoint', 'lineitems'],
      [LTI_CLAIM.ags, 'ags endpoint', 'lineitem'],
      [LTI_CLAIM.nrps, 'namesroleservice', 'service_versions'],
    ];
    for (const [claim, short, field] of nested) {
      it(`when ${short}.${field} is null, then the launch is read with it absent`, () => {
        const claims = base() as Record<string, unknown>;
        claims[claim] = { ...(claims[claim] as object), [field]: null };
        const parsed = resourceLinkLaunchClaimsSchema.safeParse(claims);
        expect(parsed.success, parsed.error?.message).to.equal(true);
        const launch = toLaunchContext(
          { messageType: 'LtiResourceLinkRequest', claims: parsed.data! },
          'client-1',
        );
        if (field === 'service_versions')
          expect(launch.nrps?.serviceVersions).to.deep.equal(['2.0']);
        if (field === 'description') expect(launch.resourceLink?.description).to.equal(undefined);
        if (field === 'height') expect(launch.launchPresentation?.height).to.equal(undefined);
        if (field === 'type') expect(launch.context?.type).to.deep.equal([]);
      });
    }

    const topLevel = [
      'azp',
      'name',
      'given_name',
      'family_name',
      'email',
      LTI_CLAIM.roleScopeMentor,
      LTI_CLAIM.context,
      LTI_CLAIM.toolPlatform,
      LTI_CLAIM.launchPresentation,
      LTI_CLAIM.custom,
      LTI_CLAIM.ags,
      LTI_CLAIM.nrps,
    ];
    for (const claim of topLevel) {
      it(`when the optional claim ${claim} is null, then the launch is read with it absent`, () => {
        const parsed = resourceLinkLaunchClaimsSchema.safeParse({ ...base(), [claim]: null });
        expect(parsed.success, parsed.error?.message).to.equal(true);
      });
    }

    it('when a custom parameter value is null, then it is left out and the others kept', () => {
      const parsed = resourceLinkLaunchClaimsSchema.parse({
        ...base(),
        [LTI_CLAIM.custom]: { unit: '3', canvas_course_id: null },
      });
      expect(
        toLaunchContext({ messageType: 'LtiResourceLinkRequest', claims: parsed }, 'client-1')
          .custom,
      ).to.deep.equal({ unit: '3' });
    });

    for (const field of [
      'accept_media_types',
      'accept_multiple',
      'accept_lineitem',
      'auto_create',
      'title',
      'text',
      'data',
    ]) {
      it(`when deep_linking_settings.${field} is null, then the request is read with it absent`, () => {
        const parsed = deepLinkingLaunchClaimsSchema.safeParse({
          ...base(),
          [LTI_CLAIM.messageType]: 'LtiDeepLinkingRequest',
          [LTI_CLAIM.resourceLink]: null,
          [LTI_CLAIM.deepLinkingSettings]: {
            deep_link_return_url: 'https://lms.example/return',
            accept_types: ['ltiResourceLink'],
            accept_presentation_document_targets: ['iframe'],
            [field]: null,
          },
        });
        expect(parsed.success, parsed.error?.message).to.equal(true);
      });
    }

    it('when a required field is null, then it is still refused', () => {
      const parsed = resourceLinkLaunchClaimsSchema.safeParse({
        ...base(),
        [LTI_CLAIM.resourceLink]: { id: null },
      });
      expect(parsed.success).to.equal(false);
    });
  });
});

describe('LTI errors', () => {
  const codes: LtiErrorCode[] = [
    'unknown_issuer',
    'state_mismatch',
    'nonce_replay',
    'unknown_deployment',
    'jwks_unavailable',
    'no_signing_key',
  ];

  it('when an error is created, then it carries its code, status, a people message and expose by status', () => {
    for (const code of codes) {
      const error = new LtiError(code, { detail: 'for logs' });
      expect(error.code).to.equal(code);
      expect(error.message).to.have.length.greaterThan(20);
      expect(error.message).not.to.include('for logs');
      expect(error.expose).to.equal(error.status < 500);
    }
    expect(new LtiError('unknown_deployment').status).to.equal(403);
    expect(new LtiError('no_signing_key').expose).to.equal(false);
  });

  it('every code in the closed union is named in at least one test that expects it', async () => {
    // A new code without a test fails here (issue 12 item 18). A test "expects" a code when it
    // names it as a string ('code') or as the page code (lti.code).
    const root = new URL('../../', import.meta.url).pathname;
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.name.endsWith('.test.ts')) files.push(path);
      }
    };
    await walk(root);
    const thisFile = new URL(import.meta.url).pathname;
    const texts = await Promise.all(
      files.filter((file) => file !== thisFile).map((file) => readFile(file, 'utf8')),
    );
    const untested = LTI_ERROR_CODES.filter(
      (code) => !texts.some((text) => text.includes(`'${code}'`) || text.includes(`lti.${code}`)),
    );
    expect(untested, 'LtiErrorCodes no test expects').to.deep.equal([]);
  });

  it('when a cause is given, then it is kept for operators', () => {
    const cause = new Error('jose said no');
    expect(new LtiError('invalid_token', { cause }).cause).to.equal(cause);
  });
});
