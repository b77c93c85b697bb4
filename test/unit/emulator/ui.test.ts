import { expect } from 'chai';
import request from 'supertest';
import { createEmulator } from '../../../src/emulator/emulator.ts';
import { startFakeTool, startPlatform, type FakeTool } from './fake-tool.ts';

describe('emulator: web UI and instance isolation', () => {
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  it('when the course page is shown, then each person has a launch per placement', async () => {
    const { emulator, seed } = await startPlatform('canvas', fakeTool);
    const res = await request(emulator.app).get(`/ui/courses/${seed.course.courseId}`).expect(200);
    for (const placement of ['course_navigation', 'assignment_selection', 'link_selection']) {
      expect(res.text).to.contain(`placement=${placement}`);
    }
    expect(res.text).to.contain('Test Student');
  });

  it('when a title holds markup, then pages escape it', async () => {
    const { emulator } = await startPlatform('moodle', fakeTool);
    const course = emulator.state.addCourse({ title: '<script>alert(1)</script>', label: 'X' });
    const res = await request(emulator.app).get(`/ui/courses/${course.courseId}`).expect(200);
    expect(res.text).to.not.contain('<script>alert(1)</script>');
    expect(res.text).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('when a teacher types a grade and unpublishes a column in the gradebook, then the state follows', async () => {
    const { emulator, seed, tool } = await startPlatform('canvas', fakeTool);
    const courseId = seed.course.courseId;
    const item = emulator.state.createLineItem({
      courseId,
      clientId: tool.clientId,
      label: 'Standard A',
      scoreMaximum: 4,
    });
    const sub = seed.students[0]!.sub;
    await request(emulator.app)
      .post(`/ui/courses/${courseId}/gradebook/manual-grade`)
      .type('form')
      .send({ lineItemId: item.lineItemId, sub, grade: '3' })
      .expect(303);
    expect(emulator.state.findCell(item.lineItemId, sub)).to.include({
      teacherGrade: 3,
      displayedScore: 3,
    });
    await request(emulator.app)
      .post(`/ui/courses/${courseId}/line-items/${item.lineItemId}/publish`)
      .type('form')
      .send({})
      .expect(303);
    expect(emulator.state.lineItem(item.lineItemId).published).to.equal(false);
    // Canvas keeps every submission comment a score post carried.
    emulator.state.cell(item.lineItemId, sub).comments.push('Meets (3 of 4).', 'Meets (3 of 4).');
    const page = await request(emulator.app).get(`/ui/courses/${courseId}/gradebook`).expect(200);
    expect(page.text).to.contain('comments: 2');
    expect(page.text).to.contain('Standard A');
    expect(page.text).to.contain('Publish');
  });

  it('when two emulators run side by side, then they share no keys, tools or courses', async () => {
    const a = await createEmulator({ flavour: 'canvas', baseUrl: 'https://a.example' });
    const b = await createEmulator({ flavour: 'canvas', baseUrl: 'https://b.example' });
    a.state.seedDemoCourse();
    expect(b.state.courses.size).to.equal(0);
    expect(a.jwks.keys[0]?.['n']).to.not.equal(b.jwks.keys[0]?.['n']);
    expect(a.issuer).to.equal('https://a.example');
  });
});
