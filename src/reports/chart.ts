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
}

export const chart_width_px = 1200;
export const chart_height_px = 720;

const font_file = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const n = (value: number) => Math.round(value).toLocaleString('en-US');

export function usageChartSvg(input: UsageChartInput): string {
  let running = 0;
  const cumulative = input.days.map((d) => (d.used == null ? null : (running += d.used)));
  const pace = input.days.map((_, i) => Math.round((input.quota * (i + 1)) / input.days.length));
  const top = [...input.top].reverse();
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: chart_width_px, height: chart_height_px });
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'DejaVu Sans' },
    title: [
      { text: `AI credits, cycle ${input.cycle}: ${n(running)} of ${n(input.quota)} used`, left: 20, top: 10, textStyle: { fontSize: 20 } },
      { text: 'Top ten members', left: 820, top: 60, textStyle: { fontSize: 14 } },
    ],
    legend: { top: 50, left: 20, itemGap: 24, data: ['Used so far', 'Pace that uses the quota exactly', 'Used that day'] },
    grid: [
      { left: 80, right: 440, top: 100, bottom: 60 },
      { left: 930, right: 70, top: 100, bottom: 60 },
    ],
    xAxis: [
      { type: 'category', gridIndex: 0, data: input.days.map((d) => d.day.slice(8)), name: 'day', nameLocation: 'middle', nameGap: 30 },
      { type: 'value', gridIndex: 1, axisLabel: { formatter: (v: number) => n(v) } },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, axisLabel: { formatter: (v: number) => n(v) } },
      { type: 'category', gridIndex: 1, data: top.map((t) => t.name), axisLabel: { width: 110, overflow: 'truncate' } },
    ],
    series: [
      { name: 'Used that day', type: 'bar', xAxisIndex: 0, yAxisIndex: 0, data: input.days.map((d) => d.used), color: '#9ec5e8' },
      { name: 'Used so far', type: 'line', xAxisIndex: 0, yAxisIndex: 0, data: cumulative, symbol: 'none', color: '#1d3b53', lineStyle: { width: 3 } },
      { name: 'Pace that uses the quota exactly', type: 'line', xAxisIndex: 0, yAxisIndex: 0, data: pace, symbol: 'none', color: '#d9534f', lineStyle: { width: 2, type: 'dashed' } },
      {
        type: 'bar', xAxisIndex: 1, yAxisIndex: 1, data: top.map((t) => ({ value: t.used, itemStyle: { color: t.used > t.quota ? '#d9534f' : '#1d3b53' } })),
        label: { show: true, position: 'right', formatter: (p: { value: number }) => n(p.value) },
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
