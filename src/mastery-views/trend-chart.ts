import type { ProficiencyScale } from '../mastery/types.ts';
import { escapeXml } from './escape.ts';
import { formatValue } from './levels.ts';

/**
 * A server-rendered SVG trend chart: evidence scores oldest → newest, the scale's level
 * thresholds as labelled bands, and the current mastery value as a labelled dashed line.
 * Accessible: `role="img"` named by its `<title>` and described by its `<desc>`; every point
 * carries its score as text beside it (colour is never the only signal); the page renders the
 * same numbers as a table (the text alternative). All text is XML-escaped here.
 */

export interface TrendPoint {
  readonly date: Date;
  readonly score: number;
  readonly label: string;
}

export interface TrendChartInput {
  /** Unique on the page (ids of `<title>`/`<desc>`); letters, digits and dashes only. */
  readonly id: string;
  readonly title: string;
  readonly points: readonly TrendPoint[];
  readonly scale: ProficiencyScale;
  /** The mastery value and its level label, when there is one. */
  readonly mastery?: { readonly value: number; readonly label: string } | undefined;
}

export { escapeXml };

const WIDTH = 680;
const HEIGHT = 220;
const LEFT = 96;
/** Room for the "Level now" label beside the plot, where it never covers a point. */
const RIGHT = 140;
const TOP = 16;
const BOTTOM = 40;

function day(date: Date): string {
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10);
}

/** The chart's description: what a sighted reader takes from it, in words. */
export function describeTrend(input: TrendChartInput): string {
  const { points, mastery } = input;
  if (points.length === 0) return 'No scored evidence yet.';
  const first = points[0] as TrendPoint;
  const last = points[points.length - 1] as TrendPoint;
  const list = points
    .map((p) => `${formatValue(p.score)} on ${day(p.date)} (${p.label})`)
    .join('; ');
  const trend =
    points.length === 1
      ? ''
      : last.score > first.score
        ? ' Scores went up from the first to the latest.'
        : last.score < first.score
          ? ' Scores went down from the first to the latest.'
          : ' The first and latest scores are the same.';
  const level =
    mastery === undefined
      ? ' No mastery level yet.'
      : ` Mastery level now: ${mastery.label} (${formatValue(mastery.value)}).`;
  return `${points.length} score${points.length === 1 ? '' : 's'}, oldest first: ${list}.${trend}${level}`;
}

export function renderTrendChart(input: TrendChartInput): string {
  const id = input.id.replace(/[^A-Za-z0-9-]/g, '');
  const { scale, points, mastery } = input;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const span = scale.max - scale.min || 1;
  const y = (value: number): number => {
    const clamped = Math.min(scale.max, Math.max(scale.min, value));
    return TOP + plotHeight - ((clamped - scale.min) / span) * plotHeight;
  };
  // Evenly spaced in order: several pieces of evidence on one day stay readable.
  const x = (index: number): number =>
    points.length <= 1 ? LEFT + plotWidth / 2 : LEFT + (index / (points.length - 1)) * plotWidth;
  const n = (value: number): string => value.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc">`,
    `<title id="${id}-title">${escapeXml(input.title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(describeTrend(input))}</desc>`,
    `<rect x="${LEFT}" y="${TOP}" width="${plotWidth}" height="${plotHeight}" fill="#ffffff" stroke="#6b6b6b"/>`,
  );
  // Level thresholds: a line and the level's name at its threshold (text, not colour alone).
  for (const level of scale.levels) {
    const ly = y(level.value);
    parts.push(
      `<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${n(ly)}" y2="${n(ly)}" stroke="${escapeXml(level.colour)}" stroke-width="1" stroke-opacity="0.6"/>`,
      `<text x="${LEFT - 6}" y="${n(ly + 4)}" text-anchor="end" font-size="12" fill="#222222">${escapeXml(level.label)} ${escapeXml(formatValue(level.value))}</text>`,
    );
  }
  if (mastery !== undefined) {
    const my = y(mastery.value);
    parts.push(
      `<line class="mastery-line" x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${n(my)}" y2="${n(my)}" stroke="#1f3a93" stroke-width="2" stroke-dasharray="6 4"/>`,
      `<text x="${LEFT + plotWidth + 6}" y="${n(my + 4)}" font-size="12" font-weight="bold" fill="#1f3a93">Now: ${escapeXml(mastery.label)} ${escapeXml(formatValue(mastery.value))}</text>`,
    );
  }
  if (points.length > 1) {
    const path = points.map((p, i) => `${n(x(i))},${n(y(p.score))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="#333333" stroke-width="2"/>`);
  }
  points.forEach((p, i) => {
    const px = x(i);
    const py = y(p.score);
    parts.push(
      `<circle cx="${n(px)}" cy="${n(py)}" r="5" fill="#333333"><title>${escapeXml(`${formatValue(p.score)}: ${p.label}, ${day(p.date)}`)}</title></circle>`,
      `<text x="${n(px)}" y="${n(py - 9)}" text-anchor="middle" font-size="12" fill="#111111">${escapeXml(formatValue(p.score))}</text>`,
    );
  });
  if (points.length > 0) {
    const first = points[0] as TrendPoint;
    const last = points[points.length - 1] as TrendPoint;
    parts.push(
      `<text x="${LEFT}" y="${HEIGHT - 12}" font-size="12" fill="#222222">${escapeXml(day(first.date))}</text>`,
    );
    if (points.length > 1) {
      parts.push(
        `<text x="${LEFT + plotWidth}" y="${HEIGHT - 12}" text-anchor="end" font-size="12" fill="#222222">${escapeXml(day(last.date))}</text>`,
      );
    }
  } else {
    parts.push(
      `<text x="${LEFT + plotWidth / 2}" y="${TOP + plotHeight / 2}" text-anchor="middle" font-size="14" fill="#222222">No scored evidence yet</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
