// The report's hand-written SVG plot: req/s per endpoint and server beside the raw ceiling, and
// p50/p99 latency of every load, with the targets drawn in. A pure function of results.json.

import { formatMs, formatRatio } from './format.js';
import type { LoadFigure } from './measure.js';
import type { Results } from './results.js';
import { TARGETS, throughputRatio } from './targets.js';

const COLORS = { raw: '#9aa0a6', fastify: '#fbbc04', fastifyLogging: '#f29900', healthViews: '#a142f4', service: '#1a73e8', serviceNoAccessLog: '#34a853', p50: '#8ab4f8', p99: '#1967d2', target: '#d93025' };
type ColorKey = keyof typeof COLORS;

/** The picture's size; the throughput panel on the left, the latency panel on the right. */
const WIDTH = 1040;
const HEIGHT = 420;
const PLOT = { y: 60, width: 440, height: 260 };
const LEFT = { x: 70, ...PLOT };
const RIGHT = { x: 580, ...PLOT };
const BAR_WIDTH = 34;
/** A bar and the gap after it. */
const BAR_STEP = BAR_WIDTH + 8;

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** The top of an axis with 4 gridlines: 4 times a round step, at or above value. */
function niceMax(value: number): number {
  const step = value / 4;
  const magnitude = 10 ** Math.floor(Math.log10(step));
  for (const nice of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (nice * magnitude >= step) return 4 * nice * magnitude;
  return 40 * magnitude;
}

function compact(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)}k` : `${Math.round(value)}`;
}

interface Panel {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly max: number;
  readonly unit: 'req/s' | 'ms';
  readonly title: string;
}

/** Axis, grid and tick labels of one panel; returns the y of a value. */
function axes(parts: string[], { x, y, width, height, max, unit, title }: Panel): (value: number) => number {
  const yOf = (value: number): number => y + height - (value / max) * height;
  parts.push(`<text x="${x}" y="${y - 14}" class="title">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const value = (max / 4) * i;
    const ty = yOf(value);
    parts.push(`<line x1="${x}" y1="${ty}" x2="${x + width}" y2="${ty}" class="grid"/>`);
    parts.push(`<text x="${x - 6}" y="${ty + 4}" class="tick" text-anchor="end">${esc(unit === 'req/s' ? compact(value) : formatMs(value))}</text>`);
  }
  parts.push(`<line x1="${x}" y1="${y + height}" x2="${x + width}" y2="${y + height}" class="axis"/>`);
  return yOf;
}

/** One group of bars on the throughput panel: the servers of one endpoint. */
interface Group {
  readonly label: string;
  /** The index of the bar the target is a ratio of (its name ends the target's text), and the target. */
  readonly anchor: number;
  readonly targetRatio: number;
  readonly bars: readonly [name: string, figure: LoadFigure, color: ColorKey][];
}

function throughputGroups({ accounts, health }: Results['throughput']): Group[] {
  return [
    {
      label: 'GET /accounts/{id}',
      anchor: 1,
      targetRatio: TARGETS.accountsVsFastify,
      bars: [
        ['raw', accounts.raw, 'raw'],
        ['Fastify', accounts.fastify, 'fastify'],
        ['Fastify+log', accounts.fastifyLogging, 'fastifyLogging'],
        ['service', accounts.service, 'service'],
        ['no log', accounts.serviceNoAccessLog, 'serviceNoAccessLog'],
      ],
    },
    {
      label: 'GET /health',
      anchor: 0,
      targetRatio: TARGETS.healthVsRaw,
      bars: [
        ['raw', health.raw, 'raw'],
        ['Fastify', health.fastify, 'fastify'],
        ['h-views', health.healthViews, 'healthViews'],
        ['service', health.service, 'service'],
      ],
    },
  ];
}

/** A group's bars from x gx: each with its value, its ratio to the anchor after the anchor, and its name. */
function groupBars(parts: string[], group: Group, gx: number, yRps: (value: number) => number): void {
  const anchor = group.bars[group.anchor]![1];
  const bottom = LEFT.y + LEFT.height;
  group.bars.forEach(([name, figure, key], b) => {
    const bx = gx + b * BAR_STEP;
    const by = yRps(figure.rps);
    parts.push(`<rect x="${bx}" y="${by}" width="${BAR_WIDTH}" height="${bottom - by}" fill="${COLORS[key]}"><title>${esc(`${group.label} ${name}: ${Math.round(figure.rps)} req/s`)}</title></rect>`);
    parts.push(`<text x="${bx + BAR_WIDTH / 2}" y="${by - 4}" class="value" text-anchor="middle">${compact(figure.rps)}</text>`);
    if (b > group.anchor) {
      // The ratio to the group's anchor inside the bar, or above its value when the bar is too short.
      const inside = bottom - by > 20;
      parts.push(`<text x="${bx + BAR_WIDTH / 2}" y="${inside ? by + 14 : by - 17}" class="${inside ? 'ratio' : 'value'}" text-anchor="middle">${formatRatio(throughputRatio(figure, anchor).median)}x</text>`);
    }
    parts.push(`<text x="${bx + BAR_WIDTH / 2}" y="${bottom + 14}" class="small" text-anchor="middle">${esc(name)}</text>`);
  });
}

/** Left: req/s per endpoint, each server beside the raw ceiling, the target line over each group. */
function throughputPanel(parts: string[], groups: readonly Group[]): void {
  const maxRps = niceMax(Math.max(...groups.flatMap((g) => g.bars.map(([, figure]) => figure.rps))) * 1.1);
  const yRps = axes(parts, { ...LEFT, max: maxRps, unit: 'req/s', title: 'Throughput (req/s)' });
  const groupW = LEFT.width / groups.length;
  groups.forEach((group, g) => {
    const gx = LEFT.x + g * groupW + (groupW - group.bars.length * BAR_STEP) / 2;
    groupBars(parts, group, gx, yRps);
    const ty = yRps(group.bars[group.anchor]![1].rps * group.targetRatio);
    const x2 = gx + group.bars.length * BAR_STEP - 8;
    const targetText = `target ${group.targetRatio.toFixed(2)}x ${group.bars[group.anchor]![0]}`;
    parts.push(`<line x1="${gx - 4}" y1="${ty}" x2="${x2 + 4}" y2="${ty}" class="target"/>`);
    parts.push(`<text x="${x2 + 4}" y="${ty - 3}" class="small target-text" text-anchor="end">${esc(targetText)}</text>`);
    parts.push(`<text x="${LEFT.x + g * groupW + groupW / 2}" y="${LEFT.y + LEFT.height + 32}" class="label" text-anchor="middle">${esc(group.label)}</text>`);
  });
}

/** A load's latency figures, with its name in words stacked under its pair of bars. */
type Latency = readonly [words: string[], figure: { p50Ms: number; p99Ms: number }];

/** Every measured load, /health under saturation last. */
function latencies(results: Results): Latency[] {
  const { accounts, health } = results.throughput;
  return [
    [['/accounts', 'raw'], accounts.raw],
    [['/accounts', 'Fastify'], accounts.fastify],
    [['/accounts', 'service'], accounts.service],
    [['/health', 'raw'], health.raw],
    [['/health', 'Fastify'], health.fastify],
    [['/health', 'service'], health.service],
    [['probe', 'raw', 'busy'], results.healthUnderLoadRaw],
    [['probe', 'service', 'busy'], results.healthUnderLoad],
  ];
}

/** Right: p50 and p99 of each load side by side, and the p99 target over the last slot. */
function latencyPanel(parts: string[], loads: readonly Latency[]): void {
  const maxMs = niceMax(Math.max(TARGETS.healthP99UnderLoadMs, ...loads.flatMap(([, f]) => [f.p50Ms, f.p99Ms]).filter(Number.isFinite)) * 1.1);
  const yMs = axes(parts, { ...RIGHT, max: maxMs, unit: 'ms', title: 'Latency (ms): p50 and p99' });
  const bottom = RIGHT.y + RIGHT.height;
  const slot = RIGHT.width / loads.length;
  const lw = Math.min(22, slot / 2 - 4);
  loads.forEach(([name, figure], i) => {
    const cx = RIGHT.x + i * slot + slot / 2;
    for (const [k, [field, color]] of ([['p50Ms', 'p50'], ['p99Ms', 'p99']] as const).entries()) {
      const value = figure[field];
      const bx = cx - lw - 1 + k * (lw + 2);
      const by = yMs(Number.isFinite(value) ? value : 0);
      parts.push(`<rect x="${bx}" y="${by}" width="${lw}" height="${bottom - by}" fill="${COLORS[color]}"><title>${esc(`${name.join(' ')} ${color}: ${formatMs(value)} ms`)}</title></rect>`);
      parts.push(`<text x="${bx + lw / 2}" y="${by - 4}" class="tiny" text-anchor="middle">${formatMs(value)}</text>`);
    }
    name.forEach((word, w) => parts.push(`<text x="${cx}" y="${bottom + 13 + w * 11}" class="tiny" text-anchor="middle">${esc(word)}</text>`));
  });
  const ty = yMs(TARGETS.healthP99UnderLoadMs);
  parts.push(`<line x1="${RIGHT.x + RIGHT.width - slot}" y1="${ty}" x2="${RIGHT.x + RIGHT.width}" y2="${ty}" class="target"/>`);
  parts.push(`<text x="${RIGHT.x + RIGHT.width}" y="${ty - 4}" class="tiny target-text" text-anchor="end">target ${TARGETS.healthP99UnderLoadMs} ms</text>`);
}

function legend(parts: string[]): void {
  parts.push(`<rect x="${LEFT.x}" y="${HEIGHT - 52}" width="10" height="10" fill="${COLORS.raw}"/><text x="${LEFT.x + 14}" y="${HEIGHT - 43}" class="small">raw = node:http, Fastify = bare Fastify, from memory; Fastify+log = with its request logging; h-views = node:http + health-views; no log = ACCESS_LOG=off</text>`);
  parts.push(`<rect x="${RIGHT.x}" y="${HEIGHT - 30}" width="10" height="10" fill="${COLORS.p50}"/><text x="${RIGHT.x + 14}" y="${HEIGHT - 21}" class="small">p50</text>`);
  parts.push(`<rect x="${RIGHT.x + 50}" y="${HEIGHT - 30}" width="10" height="10" fill="${COLORS.p99}"/><text x="${RIGHT.x + 64}" y="${HEIGHT - 21}" class="small">p99; probe busy = /health probed while /accounts is saturated</text>`);
}

/** The document around the drawn parts: size, styles, background, and the run's facts as a footer. */
function svgDocument(parts: readonly string[], meta: Results['meta']): string {
  const footer = `${meta.date.slice(0, 10)} · ${meta.nproc} cores · Node ${meta.node} · ${meta.loadTool} · ${meta.mode} run`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
.title{font-size:14px;font-weight:600;fill:#202124}.label{font-size:12px;fill:#202124}.small{font-size:10px;fill:#5f6368}
.tiny{font-size:9px;fill:#5f6368}.value{font-size:11px;fill:#202124}.ratio{font-size:10px;fill:#fff;font-weight:600}
.tick{font-size:10px;fill:#5f6368}.grid{stroke:#e8eaed}.axis{stroke:#5f6368}
.target{stroke:${COLORS.target};stroke-width:1.5;stroke-dasharray:5 3}.target-text{fill:${COLORS.target}}
</style>
<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>
${parts.join('\n')}
<text x="70" y="${HEIGHT - 21}" class="small">${esc(footer)}</text>
</svg>
`;
}

export function renderSvg(results: Results): string {
  const parts: string[] = [];
  throughputPanel(parts, throughputGroups(results.throughput));
  latencyPanel(parts, latencies(results));
  legend(parts);
  return svgDocument(parts, results.meta);
}
