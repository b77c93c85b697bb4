import { expect } from 'chai';
import request from 'supertest';
import { MEDIA_TYPE } from '../../../src/emulator/claims.ts';
import type { EmulatorOptions } from '../../../src/emulator/emulator.ts';
import type { Flavour } from '../../../src/emulator/types.ts';
import {
  accessToken,
  pathOf,
  startFakeTool,
  startPlatform,
  USER_AGENT,
  type FakeTool,
} from './fake-tool.ts';

interface LineItemJson {
  id: string;
  label: string;
  scoreMaximum: number;
  resourceLinkId?: string;
  tag?: string;
}

describe('emulator: Assignment and Grade Services', () => {
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  async function setup(flavour: Flavour, options: Partial<EmulatorOptions> = {}) {
    const platform = await startPlatform(flavour, fakeTool, options);
    const token = await accessToken(platform, fakeTool);
    const api = {
      get: (url: string) =>
        request(platform.emulator.app)
          .get(pathOf(url))
          .set('User-Agent', USER_AGENT)
          .auth(token, { type: 'bearer' }),
      post: (url: string, mediaType: string, body: object) =>
        request(platform.emulator.app)
          .post(pathOf(url))
          .set('User-Agent', USER_AGENT)
          .auth(token, { type: 'bearer' })
          .set('Content-Type', mediaType)
          .send(JSON.stringify(body)),
    };
    const createLineItem = async (body: object): Promise<LineItemJson> => {
      const res = await api.post(
        platform.emulator.urls.lineItems(platform.seed.course.courseId),
        MEDIA_TYPE.lineItem,
        body,
      );
      expect(res.status, res.text).to.equal(201);
      return JSON.parse(res.text) as LineItemJson;
    };
    const scoresUrl = (lineItemUrl: string): string => {
      const u = new URL(lineItemUrl);
      u.pathname += '/scores';
      return u.toString();
    };
    const postScore = (lineItemUrl: string, body: object) =>
      api.post(scoresUrl(lineItemUrl), MEDIA_TYPE.score, body);
    return { platform, token, api, createLineItem, postScore };
  }

  const score = (userId: string, scoreGiven: number, timestamp: string, extra: object = {}) => ({
    userId,
    scoreGiven,
    scoreMaximum: 4,
    activityProgress: 'Completed',
    gradingProgress: 'FullyGraded',
    timestamp,
    ...extra,
  });

  it('when a line item is created, scored and read back, then every response has its media type', async () => {
    const { platform, api, createLineItem, postScore } = await setup('moodle');
    const student = platform.seed.students[0]!;
    const item = await createLineItem({
      label: 'CCSS.MATH.8.EE.A.1',
      scoreMaximum: 4,
      tag: 'standard',
      resourceId: 'std-1',
    });
    expect(item).to.include({ label: 'CCSS.MATH.8.EE.A.1', scoreMaximum: 4, tag: 'standard' });

    const got = await api.get(item.id).expect(200);
    expect(got.headers['content-type']).to.contain(MEDIA_TYPE.lineItem);

    await postScore(
      item.id,
      score(student.sub, 3, '2026-11-27T10:00:00.000Z', { comment: 'Solid' }),
    ).expect(204);
    const results = await api.get(`${item.id}/results`).expect(200);
    expect(results.headers['content-type']).to.contain(MEDIA_TYPE.resultContainer);
    expect(JSON.parse(results.text)).to.deep.equal([
      {
        id: `${item.id}/results/${student.sub}`,
        scoreOf: item.id,
        userId: student.sub,
        resultScore: 3,
        resultMaximum: 4,
        comment: 'Solid',
      },
    ]);
    expect(
      platform.emulator.state.findCell(item.id.split('/').pop()!, student.sub)?.postCount,
    ).to.equal(1);
  });

  it('when line items are listed with filters and a limit, then pages are linked with rel="next"', async () => {
    const { platform, api, createLineItem } = await setup('canvas');
    for (let i = 1; i <= 3; i++)
      await createLineItem({ label: `S${i}`, scoreMaximum: 4, tag: 'standard' });
    await createLineItem({ label: 'Other', scoreMaximum: 10, tag: 'other' });
    const url = `${platform.emulator.urls.lineItems(platform.seed.course.courseId)}?tag=standard&limit=2`;
    const first = await api.get(url).expect(200);
    expect(first.headers['content-type']).to.contain(MEDIA_TYPE.lineItemContainer);
    expect((JSON.parse(first.text) as LineItemJson[]).map((li) => li.label)).to.deep.equal([
      'S1',
      'S2',
    ]);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers['link'] as string)?.[1];
    expect(next).to.be.a('string');
    const second = await api.get(next!).expect(200);
    expect((JSON.parse(second.text) as LineItemJson[]).map((li) => li.label)).to.deep.equal(['S3']);
    expect(second.headers['link']).to.equal(undefined);
  });

  it('when label or scoreMaximum is missing, then the line item is refused', async () => {
    const { platform, api } = await setup('canvas');
    const res = await api.post(
      platform.emulator.urls.lineItems(platform.seed.course.courseId),
      MEDIA_TYPE.lineItem,
      { label: 'No max' },
    );
    expect(res.status).to.equal(400);
    expect(platform.emulator.state.lineItems.size).to.equal(0);
  });

  it('when the score media type is wrong, then 415', async () => {
    const { platform, api, createLineItem } = await setup('canvas');
    const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
    const url = `${item.id}/scores`;
    const res = await api.post(
      url,
      'application/json',
      score(platform.seed.students[0]!.sub, 1, '2026-11-27T10:00:00.000Z'),
    );
    expect(res.status).to.equal(415);
  });

  it('when the timestamp has no fractional seconds, then the score is refused', async () => {
    const { platform, createLineItem, postScore } = await setup('moodle');
    const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
    await postScore(
      item.id,
      score(platform.seed.students[0]!.sub, 1, '2026-11-27T10:00:00Z'),
    ).expect(400);
  });

  it('when the token lacks the score scope, then 403', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const token = await accessToken(platform, fakeTool, [
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
    ]);
    const item = platform.emulator.state.createLineItem({
      courseId: platform.seed.course.courseId,
      clientId: platform.tool.clientId,
      label: 'S1',
      scoreMaximum: 4,
    });
    await request(platform.emulator.app)
      .post(
        `/api/lti/courses/${platform.seed.course.courseId}/line_items/${item.lineItemId}/scores`,
      )
      .auth(token, { type: 'bearer' })
      .set('Content-Type', MEDIA_TYPE.score)
      .send(JSON.stringify(score(platform.seed.students[0]!.sub, 1, '2026-11-27T10:00:00.000Z')))
      .expect(403);
  });

  describe('Canvas quirks', () => {
    it('when a score is older than the stored one, then 400 and the grade is kept', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas');
      const sub = platform.seed.students[0]!.sub;
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      await postScore(item.id, score(sub, 3, '2026-11-27T10:00:00.500Z')).expect(200);
      const res = await postScore(item.id, score(sub, 1, '2026-11-27T09:59:59.000Z'));
      expect(res.status).to.equal(400);
      expect(res.text).to.contain('before last updated timestamp');
      expect(
        platform.emulator.state.findCell(item.id.split('/').pop()!, sub)?.displayedScore,
      ).to.equal(3);
    });

    it('when the Test Student is scored, then current Canvas accepts it and the gradebook shows it', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas');
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      const sub = platform.seed.testStudent!.sub;
      await postScore(item.id, score(sub, 2, '2026-11-27T10:00:00.000Z')).expect(200);
      expect(
        platform.emulator.state.findCell(item.id.split('/').pop()!, sub)?.displayedScore,
      ).to.equal(2);
    });

    it('when a teacher is scored, then 422 too', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas');
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      await postScore(
        item.id,
        score(platform.seed.teacher.sub, 2, '2026-11-27T10:00:00.000Z'),
      ).expect(422);
    });

    it('when the column is unpublished, then 422 "still unpublished"', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas');
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      platform.emulator.state.setLineItemPublished(item.id.split('/').pop()!, false);
      const res = await postScore(
        item.id,
        score(platform.seed.students[0]!.sub, 2, '2026-11-27T10:00:00.000Z'),
      );
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('still unpublished');
    });

    it('when the course is concluded, then AGS answers 404', async () => {
      const { platform, api, createLineItem, postScore } = await setup('canvas');
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      platform.emulator.state.setCourseConcluded(platform.seed.course.courseId, true);
      await postScore(
        item.id,
        score(platform.seed.students[0]!.sub, 2, '2026-11-27T10:00:00.000Z'),
      ).expect(404);
      await api.get(item.id).expect(404);
    });

    it('when the newer concluded-course flag is on, then AGS answers 422 "has concluded"', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas', {
        concludedCourseStatus: 422,
      });
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      platform.emulator.state.setCourseConcluded(platform.seed.course.courseId, true);
      const res = await postScore(
        item.id,
        score(platform.seed.students[0]!.sub, 2, '2026-11-27T10:00:00.000Z'),
      );
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('This course has concluded');
    });

    it('when a request has no User-Agent, then it is refused', async () => {
      const { platform, token } = await setup('canvas');
      const res = await request(platform.emulator.app)
        .get(`/api/lti/courses/${platform.seed.course.courseId}/line_items`)
        .auth(token, { type: 'bearer' });
      expect(res.status).to.equal(403);
      expect(res.text).to.contain('User-Agent');
    });

    it('when line item URLs carry a query string, then scores posted before the query still land', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas', {
        lineItemUrlQuery: '?foo=bar',
      });
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      expect(item.id).to.match(/\/line_items\/\d+\?foo=bar$/);
      const res = await postScore(
        item.id,
        score(platform.seed.students[0]!.sub, 4, '2026-11-27T10:00:00.000Z'),
      ).expect(200);
      expect((res.body as { resultUrl: string }).resultUrl).to.match(
        /\/results\/[0-9a-f]{40}\?foo=bar$/,
      );
    });

    it('when two line items share a resource link, then only the first is a gradebook column', async () => {
      const { platform, createLineItem } = await setup('canvas');
      const { state } = platform.emulator;
      const link = state.createResourceLink({
        courseId: platform.seed.course.courseId,
        clientId: platform.tool.clientId,
        deploymentId: platform.deployment.deploymentId,
        title: 'Unit 1 quiz',
        createdBy: 'deep_linking',
      });
      await createLineItem({
        label: 'First',
        scoreMaximum: 4,
        resourceLinkId: link.resourceLinkId,
      });
      await createLineItem({
        label: 'Second',
        scoreMaximum: 4,
        resourceLinkId: link.resourceLinkId,
      });
      await createLineItem({ label: 'Standalone', scoreMaximum: 4 });
      expect(
        state.gradebookColumns(platform.seed.course.courseId).map((li) => li.label),
      ).to.deep.equal(['First', 'Standalone']);
    });

    it("when prioritize_non_tool_grade is set, then ANY existing score blocks the update, the tool's own earlier score included", async () => {
      const { platform, createLineItem, postScore } = await setup('canvas');
      const sub = platform.seed.students[0]!.sub;
      const other = platform.seed.students[1]!.sub;
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      const lineItemId = item.id.split('/').pop()!;
      const ext = {
        'https://canvas.instructure.com/lti/submission': {
          new_submission: false,
          prioritize_non_tool_grade: true,
        },
      };
      const shown = (who: string) =>
        platform.emulator.state.findCell(lineItemId, who)?.displayedScore;
      // A teacher's manual grade is kept.
      platform.emulator.state.setTeacherGrade(lineItemId, sub, 2);
      await postScore(item.id, score(sub, 4, '2026-11-27T10:00:00.000Z', ext)).expect(200);
      expect(shown(sub)).to.equal(2);
      // So is the tool's own first score: the second post under the flag changes nothing.
      await postScore(item.id, score(other, 1, '2026-11-27T10:00:00.000Z', ext)).expect(200);
      expect(shown(other)).to.equal(1);
      await postScore(item.id, score(other, 3, '2026-11-27T10:00:01.000Z', ext)).expect(200);
      expect(shown(other)).to.equal(1);
      // Without the flag, the score replaces whatever is there.
      await postScore(item.id, score(sub, 4, '2026-11-27T10:00:01.000Z')).expect(200);
      expect(shown(sub)).to.equal(4);
      expect(platform.emulator.state.findCell(lineItemId, sub)?.postCount).to.equal(2);
    });

    it('when scores carry a comment, then each post adds a NEW submission comment, even when the score is skipped', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas');
      const sub = platform.seed.students[0]!.sub;
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      const lineItemId = item.id.split('/').pop()!;
      const ext = {
        'https://canvas.instructure.com/lti/submission': { prioritize_non_tool_grade: true },
      };
      await postScore(
        item.id,
        score(sub, 3, '2026-11-27T10:00:00.000Z', { comment: 'Proficient' }),
      ).expect(200);
      await postScore(
        item.id,
        score(sub, 4, '2026-11-27T10:00:01.000Z', { comment: 'Proficient', ...ext }),
      ).expect(200);
      await postScore(item.id, score(sub, 4, '2026-11-27T10:00:02.000Z')).expect(200);
      const cell = platform.emulator.state.findCell(lineItemId, sub);
      expect(cell?.comments).to.deep.equal(['Proficient', 'Proficient']);
      expect(cell?.displayedScore).to.equal(4);
    });

    it('when line items are listed, then Canvas pages at 10 unless asked, and at most 100 (limit or per_page)', async () => {
      const { platform, api, createLineItem } = await setup('canvas');
      for (let i = 0; i < 120; i += 1) await createLineItem({ label: `C${i}`, scoreMaximum: 4 });
      const url = platform.emulator.urls.lineItems(platform.seed.course.courseId);
      const plain = await api.get(url).expect(200);
      expect(JSON.parse(plain.text)).to.have.length(10);
      expect(plain.headers['link']).to.contain('rel="next"');
      const asked = await api.get(`${url}?limit=500`).expect(200);
      expect(JSON.parse(asked.text)).to.have.length(100);
      const perPage = await api.get(`${url}?per_page=30`).expect(200);
      expect(JSON.parse(perPage.text)).to.have.length(30);
    });

    it('when the client id fills the leaky bucket, then Canvas answers its throttling 403 until the bucket leaks', async () => {
      let nowMs = Date.parse('2026-11-27T10:00:00Z');
      const { platform, api, createLineItem } = await setup('canvas', {
        now: () => new Date(nowMs),
      });
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      platform.emulator.state.setCanvasThrottle({
        highWater: 3,
        maximum: 5,
        outflow: 1,
        upFrontCost: 0,
        requestCost: 1,
      });
      for (let i = 0; i < 3; i += 1) {
        const ok = await api.get(item.id).expect(200);
        expect(Number(ok.headers['x-rate-limit-remaining'])).to.be.greaterThan(0);
      }
      const refused = await api.get(item.id);
      expect(refused.status).to.equal(403);
      expect(refused.text).to.equal('403 Forbidden (Rate Limit Exceeded)\n');
      expect(refused.headers['x-rate-limit-remaining']).to.equal('0.0');
      expect(refused.headers['retry-after']).to.equal(undefined);
      expect(platform.emulator.state.throttled).to.equal(1);
      nowMs += 1_500; // 1.5 units leak away
      await api.get(item.id).expect(200);
    });

    it('when the up-front cost of parallel requests reaches the high-water mark, then the next request is refused', async () => {
      const { platform, api, createLineItem } = await setup('canvas');
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      // Canvas's own numbers: 600 / 50 = 12 requests in flight fill the bucket.
      platform.emulator.state.setCanvasThrottle({ highWater: 600, upFrontCost: 50, outflow: 0 });
      platform.emulator.state.injectFaults({ kind: 'delay', ms: 300 }, 12);
      const inFlight = Array.from({ length: 12 }, () => api.get(item.id).then((r) => r.status));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const late = await api.get(item.id);
      expect(late.status).to.equal(403);
      expect(await Promise.all(inFlight)).to.satisfy(
        (all: number[]) => all.filter((status) => status === 200).length >= 11,
      );
    });

    it('when gradingProgress is Pending, then Canvas stores the score but leaves the grade', async () => {
      const { platform, createLineItem, postScore } = await setup('canvas');
      const sub = platform.seed.students[0]!.sub;
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      await postScore(
        item.id,
        score(sub, 3, '2026-11-27T10:00:00.000Z', { gradingProgress: 'Pending' }),
      ).expect(200);
      const cell = platform.emulator.state.findCell(item.id.split('/').pop()!, sub);
      expect(cell?.lastScore?.scoreGiven).to.equal(3);
      expect(cell?.displayedScore).to.equal(undefined);
    });
  });

  describe('Schoology quirks', () => {
    it('when a score is re-posted, then the teacher missing flag is cleared', async () => {
      const { platform, createLineItem, postScore } = await setup('schoology');
      const sub = platform.seed.students[0]!.sub;
      const item = await createLineItem({ label: 'S1', scoreMaximum: 4 });
      const lineItemId = item.id.split('/').pop()!;
      await postScore(item.id, score(sub, 1, '2026-11-27T10:00:00.000Z')).expect(204);
      platform.emulator.state.setMissing(lineItemId, sub, true);
      await postScore(item.id, score(sub, 1, '2026-11-27T10:00:01.000Z')).expect(204);
      expect(platform.emulator.state.findCell(lineItemId, sub)?.missing).to.equal(false);
    });

    it('when a line item has an endDateTime, then Schoology drops it', async () => {
      const { createLineItem } = await setup('schoology');
      const item = await createLineItem({
        label: 'S1',
        scoreMaximum: 4,
        endDateTime: '2026-12-01T00:00:00.000Z',
      });
      expect(item).to.not.have.property('endDateTime');
    });

    it('when the course has no grading category, then tool columns are hidden', async () => {
      const { platform, createLineItem } = await setup('schoology');
      await createLineItem({ label: 'S1', scoreMaximum: 4 });
      const courseId = platform.seed.course.courseId;
      expect(platform.emulator.state.gradebookColumns(courseId)).to.have.length(1);
      platform.emulator.state.setGradingCategory(courseId, false);
      expect(platform.emulator.state.gradebookColumns(courseId)).to.have.length(0);
    });
  });

  describe('rate limits and injected faults', () => {
    it('when the rate limit is exceeded, then 429 with Retry-After', async () => {
      // A frozen clock: every request falls in the same one-second window.
      const now = new Date();
      const { platform, api } = await setup('moodle', {
        rateLimit: { requestsPerSecond: 2 },
        now: () => now,
      });
      const url = platform.emulator.urls.lineItems(platform.seed.course.courseId);
      // The token request used one slot of this second.
      await api.get(url).expect(200);
      const limited = await api.get(url).expect(429);
      expect(limited.headers['retry-after']).to.equal('1');
    });

    it('when faults are injected, then the next requests fail and later ones succeed', async () => {
      const { platform, api } = await setup('moodle');
      platform.emulator.state.injectFaults({ kind: 'status', status: 500 }, 2);
      const url = platform.emulator.urls.lineItems(platform.seed.course.courseId);
      await api.get(url).expect(500);
      await api.get(url).expect(500);
      await api.get(url).expect(200);
    });

    it('when a delay fault is injected, then the injected sleep is awaited before answering', async () => {
      const slept: number[] = [];
      const { platform, api } = await setup('moodle', {
        sleep: (ms) => {
          slept.push(ms);
          return Promise.resolve();
        },
      });
      platform.emulator.state.injectFaults({ kind: 'delay', ms: 30000 });
      await api.get(platform.emulator.urls.lineItems(platform.seed.course.courseId)).expect(200);
      expect(slept).to.deep.equal([30000]);
    });
  });
});
