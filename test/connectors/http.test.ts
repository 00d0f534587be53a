// A vendor GET's retries: a doubling back-off on 5xx answers and network failures, bounded in
// tries and in each wait, and a 429's Retry-After honoured. Waits go through the injected sleep,
// recorded here and never slept.
import { describe, expect, it } from 'vitest';
import { getJson, retry_delay_ms_max, vendor_tries_max, VendorError, type VendorHttp } from '../../src/connectors/http.ts';

const now_ms = Date.parse('2026-05-10T12:00:00Z');

/** A vendor answering each request with the next of `answers` (a Response, or an Error to throw), recording the waits. */
function vendor(answers: (() => Response | Error)[]) {
  const waits: number[] = [];
  let requests = 0;
  const http: VendorHttp = {
    fetch: async () => {
      const next = answers[requests++]?.() ?? Response.json({ rows: [] });
      if (next instanceof Error) throw next;
      return next;
    },
    sleep: async (ms) => void waits.push(ms),
  };
  const get = () => getJson(http, { vendor: 'Figma', url: 'https://vendor.test/v1/usage', headers: {}, tokenHint: 'set FIGMA_TOKEN' }, () => now_ms);
  return { waits, get, requests: () => requests };
}

const failing = (status: number, headers: Record<string, string> = {}) => () => new Response('{"message":"busy"}', { status, headers });

describe('a vendor GET', () => {
  it('backs off 1, 2 and 4 s between tries on 5xx answers and network failures, then reads the answer', async () => {
    const v = vendor([failing(503), () => new TypeError('fetch failed'), failing(500)]);
    expect(await v.get()).toEqual({ rows: [] });
    expect(v.waits).toEqual([1_000, 2_000, 4_000]);
    expect(v.requests()).toBe(4);
  });

  it('gives up after five tries, having waited at most a minute between any two', async () => {
    const v = vendor(Array.from({ length: 10 }, () => failing(502)));
    await expect(v.get()).rejects.toThrow(new VendorError('Figma failed (HTTP 502: busy); gave up after 5 tries, the next pull tries again', 'unavailable'));
    expect(v.waits).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(v.requests()).toBe(vendor_tries_max);
    expect(Math.max(...v.waits)).toBeLessThanOrEqual(retry_delay_ms_max);
  });

  it("waits as long as a 429's Retry-After says, in seconds or as a date", async () => {
    const v = vendor([failing(429, { 'retry-after': '7' }), failing(429, { 'retry-after': 'Sun, 10 May 2026 12:00:30 GMT' }), failing(429, { 'retry-after': '1.5' })]);
    expect(await v.get()).toEqual({ rows: [] });
    expect(v.waits).toEqual([7_000, 30_000, 1_500]);
  });

  it('backs off as for a 5xx when a Retry-After cannot be read, rather than trying again at once', async () => {
    const v = vendor([failing(429, { 'retry-after': '-5' }), failing(429, { 'retry-after': '2026-01-01' }), failing(503, { 'retry-after': 'soon' })]);
    expect(await v.get()).toEqual({ rows: [] });
    expect(v.waits).toEqual([1_000, 2_000, 4_000]);
  });
});
