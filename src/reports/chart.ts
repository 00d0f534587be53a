// The report's chart as a PNG, rendered in-process: ECharts draws SVG on the server and resvg
// rasterises it with a font shipped in node_modules, so no browser and no chart service.
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';

export interface UsageChartInput {
  cycle: string;
  /** Every day of the cycle, in order, with the credits used that day; null for days still to come. */
  days: { day: string; used: number | null }[];
  /** The org's quota for the cycle: the pace line reaches it on the last day. */
  quota: number;
  /** The ten biggest consumers. */
  top: { name: string; used: number; quota: number }[];
  /** The tool charted, as people know it, and its unit; default AI credits, counted in credits. */
  tool?: { name: string; unit: string };
}

export const chart_width_px = 1200;
export const chart_height_px = 720;

const font_file = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const n = (value: number) => Math.round(value).toLocaleString('en-US');

// Three panels an admin reads at a glance: the cycle so far against the pace that would use the
// quota exactly (top left), what each day used (below it, on its own scale so small days still
// show), and the ten biggest consumers (right). Labels sit on the lines and bars themselves
// rather than in a legend, whose measured width ECharts guesses without the real font.
const ink = '#1d3b53';
const pace_red = '#d9534f';
const day_blue = '#9ec5e8';
const panel_left_px = 90;
const panel_right_px = 470;
const members_left_px = 900;

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function usageChartSvg(input: UsageChartInput): string {
  let running = 0;
  const cumulative = input.days.map((d) => (d.used == null ? null : (running += d.used)));
  const pace = input.days.map((_, i) => Math.round((input.quota * (i + 1)) / input.days.length));
  const top = [...input.top].reverse();
  // The two line labels meet when the cycle ends near its pace: the one ahead goes above, the other below.
  const lastIndex = cumulative.findLastIndex((v) => v != null);
  const ahead = lastIndex >= 0 && cumulative[lastIndex]! >= pace[lastIndex]!;
  const label_shift_px = 9;
  const dayLabels = input.days.map((d) => d.day.slice(8));
  const first = input.days[0]?.day ?? '';
  const last = input.days.at(-1)?.day ?? '';
  const tool = input.tool ?? { name: 'AI credits', unit: 'credits' };
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: chart_width_px, height: chart_height_px });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'DejaVu Sans' },
    title: [
      { text: `${tool.name}, cycle ${input.cycle}: ${n(running)} of ${n(input.quota)} used`, left: 20, top: 12, textStyle: { fontSize: 22, color: ink, width: chart_width_px - 40, overflow: 'truncate' } },
      {
        text: `Used so far (solid) against the pace that uses the quota exactly by the cycle's end (dashed red), ${first} to ${last}`,
        left: 20, top: 46, textStyle: { fontSize: 13, fontWeight: 'normal', color: '#555555' },
      },
      { text: `${capitalised(tool.unit)} used each day`, left: panel_left_px - 10, top: 462, textStyle: { fontSize: 13, color: ink, width: panel_right_px, overflow: 'truncate' } },
      { text: `Top ten members, ${tool.unit} used`, left: members_left_px - 10, top: 84, textStyle: { fontSize: 14, color: ink, width: chart_width_px - members_left_px - 20, overflow: 'truncate' } },
      { text: 'red: over their own quota', left: members_left_px - 10, top: 104, textStyle: { fontSize: 12, fontWeight: 'normal', color: pace_red } },
    ],
    grid: [
      { left: panel_left_px, right: panel_right_px, top: 110, height: 320 },
      { left: panel_left_px, right: panel_right_px, top: 490, bottom: 60 },
      { left: members_left_px + 120, right: 80, top: 130, bottom: 60 },
    ],
    xAxis: [
      { type: 'category', gridIndex: 0, data: dayLabels, axisLabel: { show: false }, axisTick: { show: false } },
      { type: 'category', gridIndex: 1, data: dayLabels, name: 'day of the month', nameLocation: 'middle', nameGap: 32, axisLabel: { interval: 1 } },
      { type: 'value', gridIndex: 2, axisLabel: { show: false }, splitLine: { show: false } },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, name: `${tool.unit}, cumulative`, nameTextStyle: { align: 'left' }, axisLabel: { formatter: (v: number) => n(v) } },
      { type: 'value', gridIndex: 1, splitNumber: 2, axisLabel: { formatter: (v: number) => n(v) } },
      { type: 'category', gridIndex: 2, data: top.map((t) => t.name), axisTick: { show: false }, axisLabel: { width: 115, overflow: 'truncate', fontSize: 12 } },
    ],
    series: [
      {
        name: 'Used so far', type: 'line', xAxisIndex: 0, yAxisIndex: 0, data: cumulative, symbol: 'none', color: ink, lineStyle: { width: 3 },
        endLabel: { show: true, formatter: (p: { value: number }) => `used ${n(p.value)}`, color: ink, fontSize: 13, offset: [0, ahead ? -label_shift_px : label_shift_px] },
      },
      {
        name: 'Pace', type: 'line', xAxisIndex: 0, yAxisIndex: 0, data: pace, symbol: 'none', color: pace_red, lineStyle: { width: 2, type: 'dashed' },
        endLabel: { show: true, formatter: `pace to ${n(input.quota)}`, color: pace_red, fontSize: 13, offset: [0, ahead ? label_shift_px : -label_shift_px] },
      },
      { name: 'Used that day', type: 'bar', xAxisIndex: 1, yAxisIndex: 1, data: input.days.map((d) => d.used), color: day_blue, barCategoryGap: '20%' },
      {
        type: 'bar', xAxisIndex: 2, yAxisIndex: 2, barCategoryGap: '30%',
        data: top.map((t) => ({ value: t.used, itemStyle: { color: t.used > t.quota ? pace_red : ink } })),
        label: { show: true, position: 'right', fontSize: 12, formatter: (p: { value: number }) => n(p.value) },
      },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

export function renderUsageChart(input: UsageChartInput): Buffer {
  const resvg = new Resvg(usageChartSvg(input), {
    background: '#ffffff',
    font: { fontFiles: [font_file], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
