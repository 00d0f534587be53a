// The report chart: a PNG of the promised size whose pixels show what it claims.
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { chart_height_px, chart_width_px, renderUsageChart, usageChartSvg, type UsageChartInput } from '../../src/reports/chart.ts';

const input: UsageChartInput = {
  cycle: '2026-05',
  days: Array.from({ length: 31 }, (_, i) => ({ day: `2026-05-${String(i + 1).padStart(2, '0')}`, used: i < 15 ? 1000 : null })),
  quota: 20_000,
  top: [
    { name: 'maya@example.com', used: 6000, quota: 4000 },
    { name: 'Lena Ortiz', used: 2400, quota: 6000 },
  ],
};

describe('the usage chart', () => {
  it('renders a PNG of the promised size', () => {
    const png = renderUsageChart(input);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(chart_width_px); // IHDR width
    expect(png.readUInt32BE(20)).toBe(chart_height_px); // IHDR height
  });

  it('labels the pace line and the axes, and names the members', () => {
    const svg = usageChartSvg(input);
    expect(svg).toContain('AI credits, cycle 2026-05: 15,000 of 20,000 used');
    expect(svg).toContain('pace to 20,000');
    expect(svg).toContain('used 15,000');
    expect(svg).toContain('credits, cumulative');
    expect(svg).toContain('Top ten members, credits used');
    expect(svg).toContain('red: over their own quota');
    expect(svg).toContain('maya@example.com');
  });

  it('draws the pace in red, the days so far as bars, and a member over quota in red above one within it', () => {
    const image = new Resvg(usageChartSvg(input), { background: '#ffffff', font: { loadSystemFonts: false } }).render();
    // resvg copies the whole bitmap on every read of `pixels`: read it once.
    const pixels = image.pixels;
    const pixel = (x: number, y: number) => [...pixels.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)] as [number, number, number];
    const area = (x0: number, x1: number, y0: number, y1: number) =>
      Array.from({ length: (x1 - x0) * (y1 - y0) }, (_, i) => ({ x: x0 + (i % (x1 - x0)), y: y0 + Math.floor(i / (x1 - x0)) })).map((p) => ({ ...p, rgb: pixel(p.x, p.y) }));
    const red = ([r, g, b]: number[]) => r! > 200 && g! < 110 && b! < 110;
    const ink = ([r, g, b]: number[]) => r! < 60 && g! < 80 && b! < 100;
    const blue = ([r, g, b]: number[]) => Math.abs(r! - 0x9e) < 12 && Math.abs(g! - 0xc5) < 12 && Math.abs(b! - 0xe8) < 12;
    expect(pixel(2, 2)).toEqual([255, 255, 255]);
    // The dashed pace line reaches the quota at the top right of the left panel.
    expect(area(640, 730, 105, 160).some((p) => red(p.rgb))).toBe(true);
    // Daily bars for the first half of the cycle, nothing for days still to come.
    expect(area(95, 380, 500, 655).some((p) => blue(p.rgb))).toBe(true);
    expect(area(450, 725, 500, 655).some((p) => blue(p.rgb))).toBe(false);
    // Maya (over quota) is the top bar and red; Lena's bar below is dark.
    const members = area(1025, 1110, 130, 655);
    const redRows = members.filter((p) => red(p.rgb)).map((p) => p.y);
    const inkRows = members.filter((p) => ink(p.rgb)).map((p) => p.y);
    expect(redRows.length).toBeGreaterThan(0);
    expect(inkRows.length).toBeGreaterThan(0);
    expect(Math.max(...redRows)).toBeLessThan(Math.min(...inkRows));
  });
});
