import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import request from 'supertest';
import { CLAIM } from '../../../src/emulator/claims.ts';
import type { Flavour } from '../../../src/emulator/types.ts';
import {
  launch,
  pathOf,
  startFakeTool,
  startPlatform,
  TOOL_ORIGIN,
  type FakeTool,
  type Platform,
} from './fake-tool.ts';

interface Settings {
  deep_link_return_url: string;
  data?: string;
}

describe('emulator: Deep Linking response', () => {
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  async function deepLinkingLaunch(
    flavour: Flavour,
    placement: 'assignment_selection' | 'link_selection' = 'link_selection',
  ) {
    const platform = await startPlatform(flavour, fakeTool);
    const claims = await launch(platform, {
      courseId: platform.seed.course.courseId,
      userId: platform.seed.teacher.userId,
      placement,
    });
    return { platform, settings: claims[CLAIM.deepLinkingSettings] as Settings };
  }

  async function respond(
    platform: Platform,
    settings: Settings,
    items: object[],
    overrides: Record<string, unknown> = {},
    audience = platform.emulator.issuer,
  ) {
    const jwt = await new SignJWT({
      nonce: randomUUID(),
      [CLAIM.messageType]: 'LtiDeepLinkingResponse',
      [CLAIM.version]: '1.3.0',
      [CLAIM.deploymentId]: platform.deployment.deploymentId,
      [CLAIM.data]: settings.data,
      [CLAIM.contentItems]: items,
      [CLAIM.msg]: 'Added 1 standard',
      ...overrides,
    })
      .setProtectedHeader({ alg: 'RS256', kid: fakeTool.kid })
      .setIssuer(platform.tool.clientId)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(fakeTool.privateKey);
    return request(platform.emulator.app)
      .post(pathOf(settings.deep_link_return_url))
      .type('form')
      .send({ JWT: jwt });
  }

  const item = {
    type: 'ltiResourceLink',
    title: 'Solving linear equations',
    url: `${TOOL_ORIGIN}/lti/launch?standard=8.EE.7`,
    custom: { standard_id: '8.EE.7' },
    lineItem: {
      scoreMaximum: 4,
      label: '8.EE.7 Linear equations',
      resourceId: 'std-8ee7',
      tag: 'standard',
    },
  };

  it('when the tool returns a signed resource link with a line item, then both are created', async () => {
    const { platform, settings } = await deepLinkingLaunch('canvas');
    const res = await respond(platform, settings, [item]);
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.contain('Added 1 standard');
    const receipt = platform.emulator.state.deepLinkingReceipts.at(-1)!;
    expect(receipt.ok).to.equal(true);
    expect(receipt.msg).to.equal('Added 1 standard');
    const link = platform.emulator.state.resourceLinks.get(receipt.createdResourceLinkIds[0]!)!;
    expect(link).to.include({
      title: 'Solving linear equations',
      url: item.url,
      createdBy: 'deep_linking',
    });
    expect(link.custom).to.deep.equal({ standard_id: '8.EE.7' });
    const lineItem = platform.emulator.state.lineItem(receipt.createdLineItemIds[0]!);
    expect(lineItem).to.include({
      label: '8.EE.7 Linear equations',
      scoreMaximum: 4,
      resourceLinkId: link.resourceLinkId,
      tag: 'standard',
    });
  });

  it('when the created link is launched, then its line item is in the AGS claim', async () => {
    const { platform, settings } = await deepLinkingLaunch('canvas');
    expect((await respond(platform, settings, [item])).status).to.equal(200);
    const receipt = platform.emulator.state.deepLinkingReceipts.at(-1)!;
    const claims = await launch(platform, {
      courseId: platform.seed.course.courseId,
      userId: platform.seed.students[0]!.userId,
      placement: 'link_selection',
      messageType: 'LtiResourceLinkRequest',
      resourceLinkId: receipt.createdResourceLinkIds[0]!,
    });
    expect(claims[CLAIM.targetLinkUri]).to.equal(item.url);
    expect((claims[CLAIM.ags] as { lineitem: string }).lineitem).to.equal(
      platform.emulator.urls.lineItem(
        platform.seed.course.courseId,
        receipt.createdLineItemIds[0]!,
      ),
    );
  });

  it('when data is not echoed, then the response is refused and nothing is created', async () => {
    const { platform, settings } = await deepLinkingLaunch('schoology');
    expect(settings.data).to.be.a('string');
    const res = await respond(platform, settings, [item], { [CLAIM.data]: 'tampered' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('data must echo');
    expect(platform.emulator.state.lineItems.size).to.equal(0);
  });

  it('when Moodle, which sends no data, gets a response without data, then the link and its line item are created', async () => {
    const { platform, settings } = await deepLinkingLaunch('moodle');
    expect(settings).to.not.have.property('data');
    const res = await respond(platform, settings, [item]);
    expect(res.status, res.text).to.equal(200);
    expect(platform.emulator.state.deepLinkingReceipts.at(-1)?.createdLineItemIds).to.have.length(
      1,
    );
  });

  it('when the audience is not the platform issuer, then the signature check refuses it', async () => {
    const { platform, settings } = await deepLinkingLaunch('moodle');
    const res = await respond(platform, settings, [item], {}, 'https://someone-else.example');
    expect(res.status).to.equal(400);
    expect(platform.emulator.state.deepLinkingReceipts.at(-1)?.error).to.contain('aud');
  });

  it('when the deployment id differs, then the response is refused', async () => {
    const { platform, settings } = await deepLinkingLaunch('canvas');
    const res = await respond(platform, settings, [item], { [CLAIM.deploymentId]: 'other' });
    expect(res.status).to.equal(400);
  });

  it('when Schoology gets a file item, then it is refused (only ltiResourceLink and html/link)', async () => {
    const { platform, settings } = await deepLinkingLaunch('schoology');
    const res = await respond(platform, settings, [{ type: 'file', url: `${TOOL_ORIGIN}/a.pdf` }]);
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('file is not accepted');
  });

  it('when several items come back for assignment_selection, then accept_multiple=false refuses them', async () => {
    const { platform, settings } = await deepLinkingLaunch('canvas', 'assignment_selection');
    const res = await respond(platform, settings, [item, item]);
    expect(res.status).to.equal(400);
  });

  it('when a nonce is replayed on another request, then the second response is refused', async () => {
    const { platform, settings } = await deepLinkingLaunch('canvas');
    expect((await respond(platform, settings, [item], { nonce: 'n-1' })).status).to.equal(200);
    const again = await launch(platform, {
      courseId: platform.seed.course.courseId,
      userId: platform.seed.teacher.userId,
      placement: 'link_selection',
    });
    const res = await respond(platform, again[CLAIM.deepLinkingSettings] as Settings, [item], {
      nonce: 'n-1',
    });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('nonce');
  });
});
