// Slack being unreachable when creditdesk starts must not stop the service.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { startSlack } from '../../src/slack/index.ts';
import { openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

describe('starting Slack while Slack is unreachable', () => {
  it('builds the HTTP-mode app without calling Slack, so an outage cannot crash start-up', async () => {
    const db = await openTestDatabase('pglite');
    const seen: string[] = [];
    const realFetch = globalThis.fetch;
    // Every call to Slack fails, as in an outage, and is recorded.
    globalThis.fetch = (async (input: string | URL | Request) => {
      seen.push(String(input));
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    try {
      const slack = await startSlack({
        ledger: testLedger(db, new TestClock(new Date())),
        log: silentLogger,
        mode: { mode: 'http', botToken: 'xoxb-test', signingSecret: 'abcdefgh12345678' },
        apiUrl: 'http://127.0.0.1:9/api/',
        adminUserIds: [],
        selfReporting: false,
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(typeof slack.listener).toBe('function');
      expect(seen).toEqual([]);
      await slack.stop();
    } finally {
      globalThis.fetch = realFetch;
      await db.close();
    }
  });
});

describe('starting Slack in Socket Mode', () => {
  it('connects over a socket through SLACK_API_URL with the app token, and needs no HTTP listener', async () => {
    const db = await openTestDatabase('pglite');
    const realFetch = globalThis.fetch;
    let firstCall!: (call: { url: string; authorization: string | null }) => void;
    const called = new Promise<{ url: string; authorization: string | null }>((resolve) => (firstCall = resolve));
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      firstCall({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    try {
      const slack = await startSlack({
        ledger: testLedger(db, new TestClock(new Date())),
        log: silentLogger,
        mode: { mode: 'socket', botToken: 'xoxb-test', appToken: 'xapp-1-test' },
        apiUrl: 'http://127.0.0.1:9/api/',
        adminUserIds: [],
        selfReporting: false,
      });
      expect(slack.listener).toBeUndefined();
      expect(await called).toEqual({ url: 'http://127.0.0.1:9/api/apps.connections.open', authorization: 'Bearer xapp-1-test' });
      await slack.stop();
    } finally {
      globalThis.fetch = realFetch;
      await db.close();
    }
  });
});
