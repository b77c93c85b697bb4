import { expect } from 'chai';
import { DEFAULT_PROFICIENCY_SCALE } from '../../../src/mastery/index.ts';
import {
  describeTrend,
  escapeXml,
  renderTrendChart,
} from '../../../src/mastery-views/trend-chart.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;
const day = (n: number) => new Date(Date.UTC(2026, 10, n));

describe('mastery views: SVG trend chart', () => {
  it('when rendered, then it is an image named by its title and described by its desc', () => {
    const svg = renderTrendChart({
      id: 'c1',
      title: 'Scores over time for NBT.1',
      points: [
        { date: day(1), score: 2, label: 'Quiz 1' },
        { date: day(8), score: 4, label: 'Quiz 2' },
      ],
      scale,
      mastery: { value: 4, label: 'Exceeds' },
    });
    expect(svg).to.match(/^<svg [^>]*role="img" aria-labelledby="c1-title c1-desc">/);
    expect(svg).to.include('<title id="c1-title">Scores over time for NBT.1</title>');
    expect(svg).to.include(
      '<desc id="c1-desc">2 scores, oldest first: 2 on 2026-11-01 (Quiz 1); 4 on 2026-11-08 (Quiz 2). Scores went up from the first to the latest. Mastery level now: Exceeds (4).</desc>',
    );
    // Every point's score is written as text, and the mastery line is labelled in words.
    expect(svg).to.match(/<text [^>]*>2<\/text>/);
    expect(svg).to.include('>Now: Exceeds 4</text>');
    // Every level threshold is named.
    for (const level of scale.levels)
      expect(svg).to.include(`${level.label} ${level.value}</text>`);
  });

  it('when titles and labels hold markup, then everything is escaped', () => {
    const svg = renderTrendChart({
      id: 'x"><script>',
      title: '<script>alert(1)</script> & "q"',
      points: [{ date: day(1), score: 3, label: '</title><img src=x onerror=alert(1)>' }],
      scale,
      mastery: undefined,
    });
    expect(svg).not.to.include('<script>');
    expect(svg).not.to.include('<img');
    expect(svg).to.include('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;');
    expect(svg).to.include('aria-labelledby="xscript-title xscript-desc"');
    expect(escapeXml(`<&>"'`)).to.equal('&lt;&amp;&gt;&quot;&#39;');
  });

  it('when scores sit on the scale boundaries, then the top is at the plot top and the bottom at its bottom', () => {
    const svg = renderTrendChart({
      id: 'b',
      title: 't',
      points: [
        { date: day(1), score: scale.min, label: 'low' },
        { date: day(2), score: scale.max, label: 'high' },
        { date: day(3), score: 99, label: 'off the scale' },
      ],
      scale,
      mastery: undefined,
    });
    const ys = [...svg.matchAll(/<circle cx="[^"]+" cy="([^"]+)"/g)].map((m) => Number(m[1]));
    // TOP = 16, plot height = 220 - 16 - 40 = 164 → bottom 180.
    expect(ys).to.deep.equal([180, 16, 16]);
  });

  it('when there is no scored evidence, then the chart and its description say so', () => {
    const input = { id: 'e', title: 'Empty', points: [], scale, mastery: undefined };
    expect(describeTrend(input)).to.equal('No scored evidence yet.');
    expect(renderTrendChart(input)).to.include('>No scored evidence yet</text>');
  });

  it('when only one score exists, then no line is drawn and the description has no trend', () => {
    const input = {
      id: 'one',
      title: 'One',
      points: [{ date: day(1), score: 3, label: 'Quiz' }],
      scale,
      mastery: { value: 3, label: 'Meets' },
    };
    expect(renderTrendChart(input)).not.to.include('<polyline');
    expect(describeTrend(input)).to.equal(
      '1 score, oldest first: 3 on 2026-11-01 (Quiz). Mastery level now: Meets (3).',
    );
  });
});
