import { expect } from 'chai';
import fc from 'fast-check';
import { exportStandardsCsv, guardCsvText } from '../../../src/standards/formats/csv-export.ts';
import { parseStandardsCsv, unguardCsvText } from '../../../src/standards/formats/csv-import.ts';

const MAX_BYTES = 10 * 1024 * 1024;

describe('standards CSV: formula injection guard', () => {
  it('when a statement starts like a formula, then the export marks it as text for spreadsheets', () => {
    for (const risky of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tx']) {
      expect(guardCsvText(risky)).to.equal(`'${risky}`);
    }
    for (const safe of ['Ratios and rates', '-1', '4.5', "It's fine"]) {
      expect(guardCsvText(safe)).to.equal(safe);
    }
  });

  it('when any text is guarded and unguarded, then it comes back unchanged', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        expect(unguardCsvText(guardCsvText(text))).to.equal(text);
      }),
      { numRuns: 2000 },
    );
    for (const edge of ["'=1", "''=1", "'-1", '=', "'"]) {
      expect(unguardCsvText(guardCsvText(edge))).to.equal(edge);
    }
  });

  it('when a framework with formula-like statements is exported and imported, then nothing changes and no cell starts with =', () => {
    const csv = [
      'code,statement,parent_code,grade,subject',
      'X.1,"=HYPERLINK(""http://evil.example"",""click"")",,6,Math',
      "X.2,'=already quoted,X.1,6,Math",
    ].join('\n');
    const first = parseStandardsCsv(csv, { maxBytes: MAX_BYTES });
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    // The second statement was written by a spreadsheet user with the text mark: it reads as text.
    expect(first.framework.items.map((i) => i.fullStatement)).to.deep.equal([
      '=HYPERLINK("http://evil.example","click")',
      '=already quoted',
    ]);
    const exported = exportStandardsCsv(first.framework, 'simple');
    for (const line of exported.split('\n').slice(1)) {
      for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.to.match(/^[=+@]/);
    }
    const again = parseStandardsCsv(exported, { maxBytes: MAX_BYTES });
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    expect(again.framework).to.deep.equal(first.framework);
  });
});
