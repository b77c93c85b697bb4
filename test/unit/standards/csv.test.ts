import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import { exportStandardsCsv } from '../../../src/standards/formats/csv-export.ts';
import {
  parseStandardsCsv,
  type CsvImportResult,
} from '../../../src/standards/formats/csv-import.ts';
import type { Framework, ImportError, Item } from '../../../src/domain/standards-model.ts';

const MAX_BYTES = 1024 * 1024;

function frameworkOf(result: CsvImportResult): Framework {
  if (!result.ok) throw new Error(`import failed: ${JSON.stringify(result.errors, null, 2)}`);
  return result.framework;
}

function errorsOf(result: CsvImportResult): readonly ImportError[] {
  if (result.ok) throw new Error('expected the import to fail');
  return result.errors;
}

/** The tree by code/guid, independent of GUIDs and file order. */
function shape(framework: Framework): Record<string, unknown> {
  const byGuid = new Map(framework.items.map((i) => [i.guid, i]));
  const key = (item: Item | undefined): string => item?.code ?? item?.guid ?? '';
  return Object.fromEntries(
    framework.items.map((item) => [
      key(item),
      {
        parent: item.parentGuid === null ? null : key(byGuid.get(item.parentGuid)),
        order: item.order,
        statement: item.fullStatement,
        grades: item.educationLevels,
      },
    ]),
  );
}

// The sample from Canvas's "Outcomes Import Format Documentation", plus a multi-line description.
const CANVAS = [
  'vendor_guid,object_type,title,description,display_name,calculation_method,calculation_int,workflow_state,parent_guids,ratings,,,,,,,',
  'a,group,Parent group,parent group description,G-1,,,active,,,,,,,,,',
  'b,group,Child group,child group description,G-1.1,,,active,a,,,,,,,,',
  'c,outcome,Learning Standard,"outcome description, with a comma',
  'and a second line",LS-100,decaying_average,40,active,a b,3,Excellent,2,Better,1,Good,,',
  'd,outcome,Second standard,,LS-101,n_mastery,3,,b,4,Exceeds,3,Meets,2,Approaching,1,Beginning',
  'e,outcome,Old standard,,LS-099,,,deleted,a,,,,,,,,',
].join('\r\n');

const SIMPLE = [
  'code,statement,parent_code,grade,subject',
  '6.RP,Ratios and Proportional Relationships,,06,Mathematics',
  '6.RP.A.2,"Explain a unit rate, using ""per"".",6.RP.A,06,Mathematics',
  '6.RP.A,Understand ratio concepts.,6.RP,06,Mathematics',
  '6.RP.A.1,Explain what a ratio is.,6.RP.A,06;07,Mathematics',
  'RL.6.1,Cite textual evidence.,,06,English Language Arts',
].join('\n');

describe('parseStandardsCsv: Canvas outcomes form', () => {
  it('when the Canvas sample is imported, then groups, outcomes, parents and ratings are read', () => {
    const result = parseStandardsCsv(CANVAS, { maxBytes: MAX_BYTES, title: 'Canvas outcomes' });
    expect(result.ok && result.form).to.equal('canvas');
    const framework = frameworkOf(result);
    expect(framework.title).to.equal('Canvas outcomes');
    expect(framework.items.map((i) => [i.guid, i.itemType, i.parentGuid, i.order])).to.deep.equal([
      ['a', 'Group', null, 1],
      ['b', 'Group', 'a', 1],
      ['c', 'Outcome', 'a', 2],
      ['d', 'Outcome', 'b', 1],
    ]);
    const c = framework.items[2];
    expect(c).to.include({
      code: 'LS-100',
      abbreviatedStatement: 'Learning Standard',
      fullStatement: 'outcome description, with a comma\r\nand a second line',
    });
    expect(c?.canvas).to.deep.equal({
      calculationMethod: 'decaying_average',
      calculationInt: 40,
      workflowState: 'active',
      ratings: [
        { points: 3, description: 'Excellent' },
        { points: 2, description: 'Better' },
        { points: 1, description: 'Good' },
      ],
    });
    // "a b": the first parent is the tree parent, the second stays as an association.
    expect(
      framework.associations
        .filter((a) => a.origin.identifier === 'c')
        .map((a) => a.destination.identifier),
    ).to.deep.equal(['a', 'b']);
  });

  it('when a row is marked deleted, then it is not imported', () => {
    const framework = frameworkOf(parseStandardsCsv(CANVAS, { maxBytes: MAX_BYTES }));
    expect(framework.items.map((i) => i.guid)).to.not.include('e');
  });

  it('when exported as Canvas CSV and imported again, then the framework is unchanged', () => {
    const framework = frameworkOf(parseStandardsCsv(CANVAS, { maxBytes: MAX_BYTES }));
    const csv = exportStandardsCsv(framework, 'canvas');
    expect(csv.split('\r\n')[0]).to.match(
      /^vendor_guid,object_type,title,description,display_name,/,
    );
    const again = frameworkOf(parseStandardsCsv(csv, { maxBytes: MAX_BYTES }));
    expect(again).to.deep.equal(framework);
  });

  it('when a row has errors, then each names its CSV line and column, counting multi-line cells', () => {
    const csv = [
      'vendor_guid,object_type,title,description,parent_guids,calculation_method,calculation_int,mastery_points,ratings,,,',
      'g1,group,Group,"two',
      'lines",,,,,,,,',
      'g1,group,Again,,,,,,,,,',
      'o1,standard,Bad type,,g1,,,,,,,',
      'o2,outcome,,,g1,,,,,,,',
      'o3,outcome,Unknown parent,,zz,,,,,,,',
      'o4,outcome,Parent is an outcome,,o5,,,,,,,',
      'o5,outcome,Bad settings,,g1,sometimes,x,lots,three,Good,,',
      'has space,outcome,Spaces,,g1,,,,,,,',
    ].join('\n');
    const errors = errorsOf(parseStandardsCsv(csv, { maxBytes: MAX_BYTES }));
    expect(errors.map((e) => [e.code, e.line, e.field])).to.deep.equal([
      ['duplicate_guid', 4, 'vendor_guid'],
      ['invalid_value', 5, 'object_type'],
      ['missing_field', 6, 'title'],
      ['invalid_value', 9, 'calculation_method'],
      ['invalid_value', 9, 'calculation_int'],
      ['invalid_value', 9, 'mastery_points'],
      ['invalid_value', 9, 'ratings'],
      ['invalid_value', 10, 'vendor_guid'],
      ['unknown_parent', 7, 'parent_guids'],
      ['unknown_parent', 8, 'parent_guids'],
    ]);
    expect(errors[0]?.message).to.contain('line 2');
  });

  it('when a parent is an outcome, then invalid_value on parent_guids', () => {
    const csv = [
      'vendor_guid,object_type,title,parent_guids',
      'o1,outcome,First,',
      'o2,outcome,Second,o1',
    ].join('\n');
    const errors = errorsOf(parseStandardsCsv(csv, { maxBytes: MAX_BYTES }));
    expect(errors.map((e) => [e.code, e.line, e.field])).to.deep.equal([
      ['invalid_value', 3, 'parent_guids'],
    ]);
  });

  it('when groups contain each other in a loop, then cycle with a line', () => {
    const csv = [
      'vendor_guid,object_type,title,parent_guids',
      'g1,group,One,g2',
      'g2,group,Two,g1',
    ].join('\n');
    const errors = errorsOf(parseStandardsCsv(csv, { maxBytes: MAX_BYTES }));
    expect(errors.map((e) => [e.code, e.line, e.field])).to.deep.equal([
      ['cycle', 2, 'parent_guids'],
    ]);
  });

  it('when a required column is missing, then missing_column names it', () => {
    const errors = errorsOf(
      parseStandardsCsv('vendor_guid,object_type\na,group\n', { maxBytes: MAX_BYTES }),
    );
    expect(errors.map((e) => [e.code, e.field, e.line])).to.deep.equal([
      ['missing_column', 'title', 1],
    ]);
  });
});

describe('parseStandardsCsv: simple form', () => {
  it('when imported, then parents may come later in the file and grades and subjects are read', () => {
    const result = parseStandardsCsv(SIMPLE, { maxBytes: MAX_BYTES });
    expect(result.ok && result.form).to.equal('simple');
    const framework = frameworkOf(result);
    expect(shape(framework)).to.deep.equal({
      '6.RP': {
        parent: null,
        order: 1,
        statement: 'Ratios and Proportional Relationships',
        grades: ['06'],
      },
      '6.RP.A.2': {
        parent: '6.RP.A',
        order: 1,
        statement: 'Explain a unit rate, using "per".',
        grades: ['06'],
      },
      '6.RP.A': {
        parent: '6.RP',
        order: 1,
        statement: 'Understand ratio concepts.',
        grades: ['06'],
      },
      '6.RP.A.1': {
        parent: '6.RP.A',
        order: 2,
        statement: 'Explain what a ratio is.',
        grades: ['06', '07'],
      },
      'RL.6.1': { parent: null, order: 2, statement: 'Cite textual evidence.', grades: ['06'] },
    });
    expect(framework.subject).to.deep.equal(['Mathematics', 'English Language Arts']);
    expect(framework.items.at(-1)?.subjects).to.deep.equal(['English Language Arts']);
  });

  it('when the same file is imported twice, then the item GUIDs are the same', () => {
    const first = frameworkOf(parseStandardsCsv(SIMPLE, { maxBytes: MAX_BYTES }));
    const second = frameworkOf(parseStandardsCsv(SIMPLE, { maxBytes: MAX_BYTES }));
    expect(second.items.map((i) => i.guid)).to.deep.equal(first.items.map((i) => i.guid));
  });

  it('when exported as simple CSV and imported again, then the framework is unchanged', () => {
    const framework = frameworkOf(parseStandardsCsv(SIMPLE, { maxBytes: MAX_BYTES }));
    const again = frameworkOf(
      parseStandardsCsv(exportStandardsCsv(framework, 'simple'), { maxBytes: MAX_BYTES }),
    );
    expect(again).to.deep.equal(framework);
  });

  it('when rows are wrong, then errors name the line and column', () => {
    const csv = [
      'code,statement,parent_code,grade,subject',
      'A,First,,06,Math',
      ',No code,,06,Math',
      'A,Duplicate code,,06,Math',
      'B,,A,06,Math',
      'C,Unknown parent,ZZ,06,Math',
    ].join('\n');
    const errors = errorsOf(parseStandardsCsv(csv, { maxBytes: MAX_BYTES }));
    expect(errors.map((e) => [e.code, e.line, e.field])).to.deep.equal([
      ['missing_field', 3, 'code'],
      ['duplicate_code', 4, 'code'],
      ['missing_statement', 5, 'statement'],
      ['unknown_parent', 6, 'parent_code'],
    ]);
  });

  it('when a standard is its own parent, then cycle', () => {
    const errors = errorsOf(
      parseStandardsCsv('code,statement,parent_code\nA,Self,A\n', { maxBytes: MAX_BYTES }),
    );
    expect(errors.map((e) => [e.code, e.line])).to.deep.equal([['cycle', 2]]);
  });
});

describe('parseStandardsCsv: the file itself', () => {
  it('when the file is larger than maxBytes, then file_too_large', () => {
    const errors = errorsOf(parseStandardsCsv(SIMPLE, { maxBytes: 10 }));
    expect(errors.map((e) => e.code)).to.deep.equal(['file_too_large']);
  });

  it('when a quote is never closed, then invalid_csv names the line', () => {
    const errors = errorsOf(
      parseStandardsCsv('code,statement\nA,ok\nB,"never closed\n', { maxBytes: MAX_BYTES }),
    );
    expect(errors.map((e) => [e.code, e.line])).to.deep.equal([['invalid_csv', 3]]);
  });

  it('when the header is neither form, then unknown_csv_form', () => {
    for (const text of ['name,text\na,b\n', '']) {
      const errors = errorsOf(parseStandardsCsv(text, { maxBytes: MAX_BYTES }));
      expect(errors.map((e) => e.code)).to.deep.equal(['unknown_csv_form']);
    }
  });

  it('when the file has a byte-order mark and blank lines, then lines are still counted from the file', () => {
    const csv = '\uFEFFcode,statement\n\nA,ok\n\nB,\n';
    const errors = errorsOf(parseStandardsCsv(csv, { maxBytes: MAX_BYTES }));
    expect(errors.map((e) => [e.code, e.line])).to.deep.equal([['missing_statement', 5]]);
  });
});

describe('exportStandardsCsv from a CASE framework', () => {
  const text = readFileSync(
    new URL('../../fixtures/case/sbac/sbac-ela-g3-claim2-targets-1a-1b.json', import.meta.url),
    'utf8',
  );
  const imported = parseCasePackage(text, { maxBytes: 5 * 1024 * 1024 });
  if (!imported.ok) throw new Error('fixture must import');
  const framework = imported.framework;

  for (const form of ['canvas', 'simple'] as const) {
    it(`when a real package (code-less items, repeated codes) goes through the ${form} form, then the tree and statements survive`, () => {
      const again = frameworkOf(
        parseStandardsCsv(exportStandardsCsv(framework, form), { maxBytes: MAX_BYTES }),
      );
      expect(again.items).to.have.length(framework.items.length);
      const statementOf = (f: Framework): Map<string, string> =>
        new Map(f.items.map((i) => [i.guid, i.fullStatement]));
      const pathOf = (f: Framework): string[] => {
        const byGuid = new Map(f.items.map((i) => [i.guid, i]));
        return f.items
          .map((item) => {
            const labels: string[] = [];
            for (
              let at: Item | undefined = item;
              at;
              at = at.parentGuid === null ? undefined : byGuid.get(at.parentGuid)
            ) {
              labels.unshift(`${at.order}:${at.fullStatement.slice(0, 30)}`);
            }
            return labels.join(' / ');
          })
          .sort();
      };
      expect(pathOf(again)).to.deep.equal(pathOf(framework));
      expect([...statementOf(again).values()].sort()).to.deep.equal(
        [...statementOf(framework).values()].sort(),
      );
    });
  }
});
