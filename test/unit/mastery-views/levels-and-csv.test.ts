import { expect } from 'chai';
import { createProficiencyScale, DEFAULT_PROFICIENCY_SCALE } from '../../../src/mastery/index.ts';
import { csvCell, toCsv } from '../../../src/mastery-views/csv.ts';
import {
  cellHtml,
  cellView,
  legendOf,
  levelAbbreviations,
  levelStylesheet,
  luminance,
  resolveLevel,
  textColourOn,
} from '../../../src/mastery-views/levels.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;
const abbreviations = levelAbbreviations(scale);

describe('mastery views: levels', () => {
  it('when levels start with different letters, then each abbreviation is one letter', () => {
    expect([...abbreviations.values()]).to.deep.equal(['E', 'M', 'A', 'B']);
  });

  it('when labels share first letters, then abbreviations grow until they differ', () => {
    const custom = createProficiencyScale({
      min: 0,
      max: 3,
      levels: [
        { id: 'a', label: 'Mastered', value: 3, colour: '#1a5e20', mastered: true },
        { id: 'b', label: 'Meets', value: 2, colour: '#2e7d32', mastered: true },
        { id: 'c', label: 'Not yet', value: 0, colour: '#b71c1c', mastered: false },
      ],
    });
    const map = levelAbbreviations(custom);
    expect(map.get('a')).to.equal('Ma');
    expect(map.get('b')).to.equal('Me');
    expect(map.get('c')).to.equal('N');
  });

  it('when a value sits exactly on a threshold, then it takes that level; just below, the level under it', () => {
    const at = cellView(scale, abbreviations, {
      status: 'mastery',
      value: 3,
      levelId: undefined,
      overridden: false,
    });
    expect([at.label, at.abbreviation, at.valueText, at.mastered]).to.deep.equal([
      'Meets',
      'M',
      '3',
      true,
    ]);
    const below = cellView(scale, abbreviations, {
      status: 'mastery',
      value: 2.99,
      levelId: undefined,
      overridden: false,
    });
    expect([below.label, below.valueText, below.mastered]).to.deep.equal([
      'Approaching',
      '2.99',
      false,
    ]);
    expect(resolveLevel(scale, undefined, 4)?.id).to.equal('exceeds');
    expect(resolveLevel(scale, undefined, 1)?.id).to.equal('beginning');
  });

  it('when the stored level id is still on the scale, then it wins over the value; when not, the value decides', () => {
    expect(resolveLevel(scale, 'meets', 3.5)?.id).to.equal('meets');
    expect(resolveLevel(scale, 'gone', 3.5)?.id).to.equal('meets');
  });

  it('when there is not enough evidence or none, then the cell says so in text with its own class', () => {
    const insufficient = cellView(scale, abbreviations, {
      status: 'insufficientEvidence',
      value: undefined,
      levelId: undefined,
      overridden: false,
    });
    expect([
      insufficient.kind,
      insufficient.abbreviation,
      insufficient.label,
      insufficient.cssClass,
    ]).to.deep.equal(['insufficient', 'NE', 'Not enough evidence', 'lv-insufficient']);
    const none = cellView(scale, abbreviations, undefined);
    expect([none.kind, none.label, none.cssClass]).to.deep.equal([
      'none',
      'No evidence yet',
      'lv-none',
    ]);
  });

  it('when the legend is built, then it lists every level with threshold and mastered flag', () => {
    expect(
      legendOf(scale).map((l) => `${l.abbreviation} ${l.label} ${l.threshold} ${l.mastered}`),
    ).to.deep.equal([
      'E Exceeds 4 true',
      'M Meets 3 true',
      'A Approaching 2 false',
      'B Beginning 1 false',
    ]);
  });

  it('when text sits on a level colour, then it is whichever of black or white contrasts at least 4.5:1', () => {
    for (const level of scale.levels) {
      const text = textColourOn(level.colour);
      const l1 = luminance(level.colour);
      const l2 = luminance(text);
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      expect(ratio, level.label).to.be.at.least(4.5);
    }
  });

  it('when the stylesheet is built, then only validated colours reach CSS', () => {
    const hostile = {
      ...scale,
      levels: scale.levels.map((l, i) =>
        i === 0 ? { ...l, colour: 'red;}body{display:none' } : l,
      ),
    };
    const css = levelStylesheet(hostile);
    expect(css).not.to.include('display:none');
    expect(css).to.include('.lv-0 { background-color: #777777;');
    expect(css).to.include('.lv-1 { background-color: #2e7d32; color: #ffffff; }');
  });
});

describe('mastery views: heatmap cell HTML', () => {
  it('when a district label holds markup, then the cell escapes it and still shows abbreviation and value', () => {
    const hostile = createProficiencyScale({
      min: 1,
      max: 4,
      levels: [
        {
          id: 'x',
          label: '<img src=x onerror=alert(1)>',
          value: 3,
          colour: '#2e7d32',
          mastered: true,
        },
        { id: 'y', label: 'Low "one"', value: 1, colour: '#b71c1c', mastered: false },
      ],
    });
    const html = cellHtml(
      cellView(hostile, levelAbbreviations(hostile), {
        status: 'mastery',
        value: 3.5,
        levelId: 'x',
        overridden: true,
      }),
    );
    expect(html).not.to.include('<img');
    expect(html).to.equal(
      '<td class="cell lv-0"><abbr title="&lt;img src=x onerror=alert(1)&gt;">&lt;</abbr> <span class="cell-value">3.5</span> <span class="override-mark" aria-hidden="true">✎</span><span class="visually-hidden"> (set by teacher)</span></td>',
    );
  });

  it('when there is not enough evidence or none, then the cell carries the words, not only a class', () => {
    const ne = cellHtml(
      cellView(scale, abbreviations, {
        status: 'insufficientEvidence',
        value: undefined,
        levelId: undefined,
        overridden: false,
      }),
    );
    expect(ne).to.equal(
      '<td class="cell lv-insufficient"><abbr title="Not enough evidence">NE</abbr></td>',
    );
    expect(cellHtml(cellView(scale, abbreviations, undefined))).to.include('No evidence yet');
  });
});

describe('mastery views: CSV', () => {
  it('when a text cell starts with = + - @ tab or CR, then it is prefixed with an apostrophe', () => {
    expect(csvCell('=1+1')).to.equal("'=1+1");
    expect(csvCell('+SUM(A1)')).to.equal("'+SUM(A1)");
    expect(csvCell('-2+3')).to.equal("'-2+3");
    expect(csvCell('@cmd')).to.equal("'@cmd");
    expect(csvCell('\tx')).to.equal("'\tx");
    expect(csvCell('=HYPERLINK("a","b")')).to.equal(`"'=HYPERLINK(""a"",""b"")"`);
  });

  it('when cells hold commas, quotes or newlines, then they are quoted; numbers stay numbers', () => {
    expect(csvCell('Brooks, Ava')).to.equal('"Brooks, Ava"');
    expect(csvCell('line\nbreak')).to.equal('"line\nbreak"');
    expect(csvCell(-1)).to.equal('-1');
    expect(csvCell(3.25)).to.equal('3.25');
    expect(csvCell(undefined)).to.equal('');
    expect(
      toCsv([
        ['a', 1],
        ['b', undefined],
      ]),
    ).to.equal('a,1\r\nb,\r\n');
  });
});
