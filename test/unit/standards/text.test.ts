import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import { generateLargeFramework } from '../../../src/standards/formats/generate.ts';
import type { Framework, Item } from '../../../src/domain/standards-model.ts';
import { buildSearchIndex, searchItems } from '../../../src/standards/text/search.ts';
import { createSuggester, rankSuggestions } from '../../../src/standards/text/suggest.ts';
import {
  canonicalCode,
  codeSuffixes,
  codesInText,
  normalizeCode,
  tokenize,
} from '../../../src/standards/text/tokenize.ts';

function grade6(): Framework {
  const text = readFileSync(
    new URL('../../../src/standards/samples/district-grade6.case.json', import.meta.url),
    'utf8',
  );
  const result = parseCasePackage(text, { maxBytes: 1024 * 1024 });
  if (!result.ok) throw new Error('sample must import');
  return result.framework;
}

const standards = (framework: Framework): Item[] =>
  framework.items.filter((item) => item.itemType === 'Standard');

describe('standards text normalization', () => {
  it('when a statement is tokenized, then case, accents, markup and stop words go and plurals are stemmed', () => {
    expect(
      tokenize('Students **compare** the <b>Fractions</b> in a Résumé; comparing ratios!'),
    ).to.deep.equal(['compar', 'fraction', 'resum', 'compar', 'ratio']);
  });

  it('when codes are written with different separators or case, then they normalize alike', () => {
    expect(normalizeCode('6.RP.A.1')).to.equal(normalizeCode('6 rp-a 1'));
    expect(canonicalCode(' 6 rp-a..1 ')).to.equal('6.rp.a.1');
    expect(codeSuffixes('CCSS.ELA-Literacy.RL.6.1')).to.include('rl61');
    expect(codesInText('Practice for 6.RP.A.3 and RL.6.1, due 5/3')).to.deep.equal([
      '6rpa3',
      'rl61',
    ]);
  });
});

describe('rankSuggestions', () => {
  const framework = grade6();

  it('when an assignment is about unit rates, then the unit-rate standard ranks first', () => {
    const ranked = rankSuggestions(
      {
        title: 'Unit rates: price per ounce',
        description: 'Find the unit rate for each ratio and compare prices.',
      },
      standards(framework),
      3,
    );
    expect(ranked[0]?.item.code).to.equal('6.RP.A.2');
    expect(ranked).to.have.length(3);
    expect(ranked[0]!.score).to.be.greaterThan(ranked[1]!.score);
  });

  it('when an assignment is a narrative essay, then the narrative writing standard ranks first', () => {
    const ranked = rankSuggestions(
      'Personal narrative: describe an event with descriptive details',
      standards(framework),
      5,
    );
    expect(ranked[0]?.item.code).to.equal('W.6.3');
  });

  it('when an assignment is about theme in a poem, then RL.6.2 beats the informational-text standard', () => {
    const ranked = rankSuggestions(
      {
        title: 'Theme of the poem',
        description: 'What is the theme and which details show it? Write a summary.',
      },
      standards(framework),
      5,
    );
    const codes = ranked.map((s) => s.item.code);
    expect(codes[0]).to.equal('RL.6.2');
    expect(codes.indexOf('RL.6.2')).to.be.lessThan(codes.indexOf('RI.6.2'));
  });

  it('when the assignment names a code, then that standard ranks first', () => {
    const ranked = rankSuggestions({ title: 'Week 3 practice (6.G.A.2)' }, standards(framework), 3);
    expect(ranked[0]?.item.code).to.equal('6.G.A.2');
  });

  it('when nothing matches, then there are no suggestions', () => {
    expect(rankSuggestions('zebra xylophone', standards(framework), 5)).to.deep.equal([]);
  });

  it('when a suggester is reused, then it gives the same ranking as a one-off call', () => {
    const suggester = createSuggester(standards(framework));
    const text = { title: 'Volume of rectangular prisms with cubes' };
    expect(suggester.suggest(text, 4).map((s) => s.item.guid)).to.deep.equal(
      rankSuggestions(text, standards(framework), 4).map((s) => s.item.guid),
    );
    expect(suggester.suggest(text, 1)[0]?.item.code).to.equal('6.G.A.2');
  });
});

describe('searchItems', () => {
  const framework = grade6();
  const index = buildSearchIndex(framework.items);

  it('when the query is a code prefix, then matching codes come first, the exact code before longer ones', () => {
    const hits = searchItems(index, '6.rp.a', 10);
    expect(hits.map((h) => h.item.code)).to.deep.equal([
      '6.RP.A',
      '6.RP.A.1',
      '6.RP.A.2',
      '6.RP.A.3',
    ]);
    expect(hits.every((h) => h.matchedBy === 'code')).to.equal(true);
  });

  it('when the code is typed with spaces, then it is still found first', () => {
    expect(searchItems(index, 'RL 6 1', 1)[0]?.item.code).to.equal('RL.6.1');
  });

  it('when the query is words, then statements containing them are found, the word being typed as a prefix', () => {
    const hits = searchItems(index, 'box plo', 5);
    expect(hits[0]?.item.code).to.equal('6.SP.B.4');
    expect(hits[0]?.matchedBy).to.equal('text');
    const evidence = searchItems(index, 'textual evidence', 5).map((h) => h.item.code);
    expect(evidence.slice(0, 2).sort()).to.deep.equal(['RI.6.1', 'RL.6.1']);
  });

  it('when the limit is reached, then no more hits are returned', () => {
    expect(searchItems(index, '6', 3)).to.have.length(3);
    expect(searchItems(index, '', 3)).to.deep.equal([]);
  });

  it('when the index holds a long code form, then a short code finds it by a later segment', () => {
    const items: Item[] = [
      {
        guid: 'x',
        uri: 'local:x',
        code: 'CCSS.ELA-Literacy.RL.6.1',
        fullStatement: 'Cite evidence.',
        educationLevels: [],
        parentGuid: null,
        order: 1,
      },
    ];
    expect(searchItems(buildSearchIndex(items), 'RL.6.1', 5).map((h) => h.item.guid)).to.deep.equal(
      ['x'],
    );
  });

  it('when searching a generated 20,000-item framework, then exact codes and words are found', function () {
    this.timeout(60_000);
    const result = parseCasePackage(generateLargeFramework(20_000, 7), {
      maxBytes: 64 * 1024 * 1024,
    });
    if (!result.ok) throw new Error('generated framework must import');
    const large = buildSearchIndex(result.framework.items);
    expect(searchItems(large, 'D12.3.1', 1)[0]?.item.code).to.equal('D12.3.1');
    const target = result.framework.items[12_345]!;
    const word = target.fullStatement.split(' ')[0]!.toLowerCase();
    expect(searchItems(large, word, 20).length).to.equal(20);
  });
});
