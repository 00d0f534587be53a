// The report chart: a PNG of the promised size whose pixels show what it claims.
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { chart_height_px, chart_width_px, renderUsageChart, usageChartSvg, type UsageChartInput } from '../../src/reports/chart.ts';
import { forecastRunOut } from '../../src/ledger/forecast.ts';

const input: UsageChartInput = {
  cycle: '2026-05',
  days: Array.from({ length: 31 }, (_, i) => ({ day: `2026-05-${String(i + 1).padStart(2, '0')}`, used: i < 15 ? 1000 : null })),
  quota: 20_000,
  top: [
    { name: 'maya@example.com', used: 6000, quota: 4000 },
    { name: 'lena@example.com', used: 120, quota: 6000 },
  ],
};

describe('the usage chart', () => {
  it('renders a PNG of the promised size', () => {
    const png = renderUsageChart(input);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(chart_width_px); // IHDR width
    expect(png.readUInt32BE(20)).toBe(chart_height_px); // IHDR height
  });

  it('draws a white page, the title with totals, and a member over quota in red', () => {
    const svg = usageChartSvg(input);
    expect(svg).toContain('AI credits, cycle 2026-05: 15,000 of 20,000 used');
    const image = new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: false } }).render();
    const pixel = (x: number, y: number) => [...image.pixels.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)];
    expect(pixel(2, 2)).toEqual([255, 255, 255]);
    // Somewhere along the top bar of the member panel (maya, over quota) the red of over-quota shows.
    const row = Array.from({ length: 200 }, (_, i) => pixel(935 + i, 240));
    expect(row.some(([r, g, b]) => r! > 200 && g! < 110 && b! < 110)).toBe(true);
  });
});

describe('the run-out forecast', () => {
  const cycleStart = new Date('2026-05-01T00:00:00Z');
  const cycleEnd = new Date('2026-06-01T00:00:00Z');
  it('projects the day the credits run out at the burn rate so far', () => {
    // 2,000 used in 10 days is 200 a day; 1,000 left lasts 5 more days.
    const f = forecastRunOut({ consumed: 2000, available: 1000, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') });
    expect(f.burnPerDay).toBe(200);
    expect(f.runsOutAt?.toISOString()).toBe('2026-05-16T00:00:00.000Z');
  });
  it('says the credits last the cycle when the pace never reaches zero, or nothing was used', () => {
    expect(forecastRunOut({ consumed: 100, available: 3900, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') }).runsOutAt).toBeNull();
    expect(forecastRunOut({ consumed: 0, available: 4000, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') })).toEqual({ burnPerDay: 0, runsOutAt: null });
  });
  it('says a member with nothing left has run out now', () => {
    const now = new Date('2026-05-11T00:00:00Z');
    expect(forecastRunOut({ consumed: 4000, available: 0, cycleStart, cycleEnd, now }).runsOutAt).toEqual(now);
  });
});
