import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ejs from 'ejs';
import { DEFAULT_PROFICIENCY_SCALE } from '../../../src/mastery/index.ts';
import { buildHeatmap, parseHeatmapQuery } from '../../../src/mastery-views/heatmap.ts';
import type { CourseStudent } from '../../../src/storage/mastery/views.repository.ts';

/** Canvas's Test Student on the class heatmap: greyed and labelled (issue 20, item 5). */
describe('class heatmap: the LMS test student', () => {
  const students: CourseStudent[] = [
    { id: 's1', name: 'Ava Brooks', sortKey: 'brooks ava', active: true, testUser: false },
    { id: 's2', name: 'Test Student', sortKey: 'student test', active: true, testUser: true },
  ];
  const heatmap = buildHeatmap({
    scale: DEFAULT_PROFICIENCY_SCALE,
    students,
    standards: [
      {
        id: 'a',
        code: 'NBT.1',
        statement: 'Place value',
        fullStatement: 'Place value',
        parentId: undefined,
        itemType: 'Standard',
      },
    ],
    ancestors: [],
    results: [],
    query: parseHeatmapQuery({}),
  });

  it('when a course has the test student, then its row is marked and the view greys and labels it', async () => {
    expect(heatmap.rows.map((row) => [row.name, row.testUser])).to.deep.equal([
      ['Ava Brooks', false],
      ['Test Student', true],
    ]);
    const filename = fileURLToPath(new URL('../../../views/mastery/heatmap.ejs', import.meta.url));
    const template = await readFile(filename, 'utf8');
    const html = ejs.render(
      template,
      {
        base: '/s/x',
        heatmap,
        minEvidence: 1,
        course: { title: 'Algebra' },
      },
      { filename },
    );
    expect(html).to.contain('<tr class="test-user">');
    expect(html).to.contain('Test Student</a> (Test student)</th>');
    expect(html.match(/class="test-user"/g)).to.have.length(1);
  });
});
