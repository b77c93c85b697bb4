import { expect } from 'chai';
import request from 'supertest';
import { MEDIA_TYPE } from '../../../src/emulator/claims.ts';
import {
  accessToken,
  pathOf,
  startFakeTool,
  startPlatform,
  USER_AGENT,
  type FakeTool,
} from './fake-tool.ts';

interface Member {
  user_id: string;
  roles: string[];
  name: string;
}
interface Container {
  context: { id: string };
  members: Member[];
}

describe('emulator: Names and Role Provisioning Services', () => {
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  it('when Schoology has 120 members, then pages hold at most 100 and are linked with rel="next"', async () => {
    const platform = await startPlatform('schoology', fakeTool);
    const { state } = platform.emulator;
    const courseId = platform.seed.course.courseId;
    const before = state.members(courseId).length;
    for (let i = 0; i < 120 - before; i++) {
      const p = state.addPerson({
        name: `Student ${i}`,
        givenName: 'Student',
        familyName: String(i),
        email: `s${i}@example.edu`,
      });
      state.enroll(courseId, p.userId, 'Learner');
    }
    const token = await accessToken(platform, fakeTool);
    const first = await request(platform.emulator.app)
      .get(`${pathOf(platform.emulator.urls.memberships(courseId))}?limit=500`)
      .set('User-Agent', USER_AGENT)
      .auth(token, { type: 'bearer' })
      .expect(200);
    expect(first.headers['content-type']).to.contain(MEDIA_TYPE.membershipContainer);
    const page1 = JSON.parse(first.text) as Container;
    expect(page1.members).to.have.length(100);
    expect(page1.context.id).to.equal(platform.seed.course.contextId);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers['link'] as string)?.[1];
    expect(next).to.be.a('string');
    const second = await request(platform.emulator.app)
      .get(pathOf(next!))
      .auth(token, { type: 'bearer' })
      .expect(200);
    const page2 = JSON.parse(second.text) as Container;
    expect(page2.members).to.have.length(20);
    expect(second.headers['link']).to.equal(undefined);
    const all = new Set([...page1.members, ...page2.members].map((m) => m.user_id));
    expect(all.size).to.equal(120);
  });

  it('when filtered by role, then only members with that role come back (short or full form)', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const token = await accessToken(platform, fakeTool);
    const url = pathOf(platform.emulator.urls.memberships(platform.seed.course.courseId));
    const full = await request(platform.emulator.app)
      .get(url)
      .query({ role: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor' })
      .set('User-Agent', USER_AGENT)
      .auth(token, { type: 'bearer' })
      .expect(200);
    const names = (JSON.parse(full.text) as Container).members.map((m) => m.name);
    expect(names).to.have.members([
      platform.seed.teacher.name,
      platform.seed.teachingAssistant.name,
    ]);
    const short = await request(platform.emulator.app)
      .get(url)
      .query({ role: 'Learner' })
      .set('User-Agent', USER_AGENT)
      .auth(token, { type: 'bearer' })
      .expect(200);
    // Six students plus Canvas's Test Student.
    expect((JSON.parse(short.text) as Container).members).to.have.length(7);
  });

  it('when Moodle answers, then member roles are short names', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const token = await accessToken(platform, fakeTool);
    const res = await request(platform.emulator.app)
      .get(pathOf(platform.emulator.urls.memberships(platform.seed.course.courseId)))
      .auth(token, { type: 'bearer' })
      .expect(200);
    const members = (JSON.parse(res.text) as Container).members;
    const teacher = members.find((m) => m.user_id === platform.seed.teacher.sub);
    expect(teacher?.roles).to.deep.equal(['Instructor']);
    const ta = members.find((m) => m.user_id === platform.seed.teachingAssistant.sub);
    expect(ta?.roles).to.deep.equal(['Instructor', 'TeachingAssistant']);
  });

  it('when the token has no membership scope, then 403', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const token = await accessToken(platform, fakeTool, [
      'https://purl.imsglobal.org/spec/lti-ags/scope/score',
    ]);
    await request(platform.emulator.app)
      .get(pathOf(platform.emulator.urls.memberships(platform.seed.course.courseId)))
      .auth(token, { type: 'bearer' })
      .expect(403);
  });

  it('when rlid names no link of the context, then 400', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const token = await accessToken(platform, fakeTool);
    await request(platform.emulator.app)
      .get(pathOf(platform.emulator.urls.memberships(platform.seed.course.courseId)))
      .query({ rlid: 'nope' })
      .auth(token, { type: 'bearer' })
      .expect(400);
  });
});
