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
import { LtiError } from '../../../src/lti/errors.ts';
import { courseServicesFromLaunch, lmsLaunchFromLti } from '../../../src/lti/lms-port.ts';
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

    it('when deep linking settings omit optional flags, then they default to false', () => {
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
        acceptLineItem: false,
        autoCreate: false,
        data: undefined,
      });
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

  it('when a cause is given, then it is kept for operators', () => {
    const cause = new Error('jose said no');
    expect(new LtiError('invalid_token', { cause }).cause).to.equal(cause);
  });
});
