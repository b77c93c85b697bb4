import { expect } from 'chai';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { LTI_CLAIM } from '../../../src/lti/claims.ts';
import type { DeepLinkingSettings } from '../../../src/lti/claims.ts';
import {
  autoSubmitFormHtml,
  buildDeepLinkingResponse,
  linkItem,
  ltiResourceLinkItem,
} from '../../../src/lti/deep-linking.ts';
import { LtiError } from '../../../src/lti/errors.ts';
import {
  createToolSigner,
  generateToolKey,
  loadSigningKey,
  publishJwks,
  rotate,
} from '../../../src/lti/tool-keys.ts';
import type { ToolSigner, ToolKey } from '../../../src/lti/tool-keys.ts';
import { manualClock } from './fixtures.ts';

const SECRET = 'another-configured-secret-for-tests-0123456789';

const settings: DeepLinkingSettings = {
  returnUrl: 'https://platform.example/dl/return?x=1&y=2',
  acceptTypes: ['ltiResourceLink', 'link'],
  acceptPresentationDocumentTargets: ['iframe'],
  acceptMediaTypes: undefined,
  acceptMultiple: true,
  acceptLineItem: true,
  autoCreate: false,
  title: undefined,
  text: undefined,
  data: 'opaque-data-xyz',
};

describe('deep linking response', () => {
  const clock = manualClock();
  let keys: readonly ToolKey[];
  let signer: ToolSigner;

  before(async () => {
    keys = rotate(
      [await generateToolKey({ secret: SECRET, now: clock.now, kid: 'tool-1' })],
      clock.now(),
      {
        publishBeforeUseMs: 0,
        keepRetiredMs: 0,
      },
    ).keys;
    signer = createToolSigner(await loadSigningKey(keys, SECRET));
  });

  const item = ltiResourceLinkItem({
    url: 'https://tool.example/lti/launch',
    title: 'Fractions mastery',
    custom: { standard_id: 'std-1' },
    lineItem: { scoreMaximum: 4, label: 'Fractions', resourceId: 'std-1', tag: 'mastery' },
    text: undefined,
  });

  it('when content items are returned, then the JWT carries every claim the spec names', async () => {
    const jwt = await buildDeepLinkingResponse(
      {
        settings,
        platformIssuer: 'https://platform.example',
        clientId: 'client-1',
        deploymentId: 'deployment-1',
        contentItems: [item],
        msg: 'Added 1 item',
        log: 'added std-1',
      },
      { signer, now: clock.now, randomToken: () => 'fresh-nonce' },
    );
    const { payload, protectedHeader } = await jwtVerify(
      jwt,
      createLocalJWKSet(publishJwks(keys)),
      {
        issuer: 'client-1',
        audience: 'https://platform.example',
        currentDate: clock.now(),
      },
    );
    expect(protectedHeader).to.include({ alg: 'RS256', kid: 'tool-1' });
    expect(payload.nonce).to.equal('fresh-nonce');
    expect(payload.exp! - payload.iat!).to.equal(300);
    expect(payload['https://purl.imsglobal.org/spec/lti/claim/message_type']).to.equal(
      'LtiDeepLinkingResponse',
    );
    expect(payload['https://purl.imsglobal.org/spec/lti/claim/version']).to.equal('1.3.0');
    expect(payload['https://purl.imsglobal.org/spec/lti/claim/deployment_id']).to.equal(
      'deployment-1',
    );
    expect(payload['https://purl.imsglobal.org/spec/lti-dl/claim/data']).to.equal(
      'opaque-data-xyz',
    );
    expect(payload['https://purl.imsglobal.org/spec/lti-dl/claim/msg']).to.equal('Added 1 item');
    expect(payload['https://purl.imsglobal.org/spec/lti-dl/claim/log']).to.equal('added std-1');
    expect(payload).not.to.have.property('https://purl.imsglobal.org/spec/lti-dl/claim/errormsg');
    expect(payload['https://purl.imsglobal.org/spec/lti-dl/claim/content_items']).to.deep.equal([
      {
        type: 'ltiResourceLink',
        url: 'https://tool.example/lti/launch',
        title: 'Fractions mastery',
        custom: { standard_id: 'std-1' },
        lineItem: { scoreMaximum: 4, label: 'Fractions', resourceId: 'std-1', tag: 'mastery' },
      },
    ]);
  });

  it('when the response reports an error, then errormsg and errorlog are spelled per spec', async () => {
    const jwt = await buildDeepLinkingResponse(
      {
        settings: { ...settings, data: undefined },
        platformIssuer: 'https://platform.example',
        clientId: 'client-1',
        deploymentId: 'deployment-1',
        contentItems: [],
        errorMsg: 'Nothing was selected',
        errorLog: 'empty selection',
      },
      { signer, now: clock.now, randomToken: () => 'n' },
    );
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(publishJwks(keys)), {
      currentDate: clock.now(),
    });
    expect(payload[LTI_CLAIM.dlErrorMsg]).to.equal('Nothing was selected');
    expect(payload[LTI_CLAIM.dlErrorLog]).to.equal('empty selection');
    expect(payload).not.to.have.property(LTI_CLAIM.dlData);
    expect(payload[LTI_CLAIM.dlContentItems]).to.deep.equal([]);
  });

  for (const [name, changed, items] of [
    ['several items where one is accepted', { acceptMultiple: false }, [item, item]],
    ['a type the platform does not accept', { acceptTypes: ['link'] }, [item]],
    ['a line item where none are accepted', { acceptLineItem: false }, [item]],
  ] as const) {
    it(`when the tool returns ${name}, then it fails with content_item_not_accepted`, async () => {
      try {
        await buildDeepLinkingResponse(
          {
            settings: { ...settings, ...changed },
            platformIssuer: 'https://platform.example',
            clientId: 'client-1',
            deploymentId: 'deployment-1',
            contentItems: items,
          },
          { signer, now: clock.now, randomToken: () => 'n' },
        );
      } catch (error) {
        expect(error).to.be.instanceOf(LtiError).with.property('code', 'content_item_not_accepted');
        return;
      }
      throw new Error('expected content_item_not_accepted');
    });
  }

  it('when the platform did not say whether it accepts line items (Moodle 4.3, Canvas), then the line item is returned', async () => {
    const jwt = await buildDeepLinkingResponse(
      {
        settings: { ...settings, acceptLineItem: undefined },
        platformIssuer: 'https://platform.example',
        clientId: 'client-1',
        deploymentId: 'deployment-1',
        contentItems: [item],
      },
      { signer, now: clock.now, randomToken: () => 'n' },
    );
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(publishJwks(keys)), {
      currentDate: clock.now(),
    });
    const [returned] = payload[LTI_CLAIM.dlContentItems] as { lineItem?: unknown }[];
    expect(returned?.lineItem).to.deep.include({ scoreMaximum: 4, resourceId: 'std-1' });
  });

  it('when a link item is built, then undefined fields are left out', () => {
    expect(linkItem({ url: 'https://example.org' })).to.deep.equal({
      type: 'link',
      url: 'https://example.org',
    });
  });

  it('when the auto-submit form is rendered, then the return URL and JWT are escaped and the CSP nonce is set', () => {
    const html = autoSubmitFormHtml(
      'https://platform.example/dl/return?x=1&y="2"',
      'a.b.c"><script>',
      { cspNonce: 'abc123' },
    );
    expect(html).to.include('action="https://platform.example/dl/return?x=1&amp;y=&quot;2&quot;"');
    expect(html).to.include('name="JWT" value="a.b.c&quot;&gt;&lt;script&gt;"');
    expect(html).to.include('<script nonce="abc123">');
    expect(html).not.to.include('"><script>');
  });

  it('when the return URL is not http(s), then no form is rendered', () => {
    expect(() => autoSubmitFormHtml('javascript:alert(1)', 'jwt')).to.throw(LtiError);
  });
});
