// Slack being unreachable when creditdesk starts must not stop the service.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { startSlack } from '../../src/slack/index.ts';
import { openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

/** Starts Slack on a fresh database with every outgoing fetch going to `fakeFetch`, then cleans up. */
async function withSlackStarted(
  mode: Parameters<typeof startSlack>[0]['mode'],
  fakeFetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
  check: (slack: Awaited<ReturnType<typeof startSlack>>) => Promise<void>,
): Promise<void> {
  const db = await openTestDatabase('pglite');
  const realFetch = globalThis.fetch;
  globalThis.fetch = fakeFetch as typeof fetch;
  try {
    const slack = await startSlack({
      ledger: testLedger(db, new TestClock(new Date())),
      log: silentLogger,
      mode,
      apiUrl: 'http://127.0.0.1:9/api/',
      adminUserIds: [],
      selfReporting: false,
    });
    await check(slack);
    await slack.stop();
  } finally {
    globalThis.fetch = realFetch;
    await db.close();
  }
}

describe('starting Slack while Slack is unreachable', () => {
  it('builds the HTTP-mode app without calling Slack, so an outage cannot crash start-up', async () => {
    const seen: string[] = [];
    // Every call to Slack fails, as in an outage, and is recorded.
    const outage = async (input: string | URL | Request): Promise<Response> => {
      seen.push(String(input));
      throw new TypeError('fetch failed');
    };
    await withSlackStarted({ mode: 'http', botToken: 'xoxb-test', signingSecret: 'abcdefgh12345678' }, outage, async (slack) => {
      await new Promise((resolve) => setImmediate(resolve));
      expect(typeof slack.listener).toBe('function');
      expect(seen).toEqual([]);
    });
  });
});

describe('starting Slack in Socket Mode', () => {
  it('connects over a socket through SLACK_API_URL with the app token, and needs no HTTP listener', async () => {
    let firstCall!: (call: { url: string; authorization: string | null }) => void;
    const called = new Promise<{ url: string; authorization: string | null }>((resolve) => (firstCall = resolve));
    const recordFirst = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      firstCall({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      throw new TypeError('fetch failed');
    };
    await withSlackStarted({ mode: 'socket', botToken: 'xoxb-test', appToken: 'xapp-1-test' }, recordFirst, async (slack) => {
      expect(slack.listener).toBeUndefined();
      expect(await called).toEqual({ url: 'http://127.0.0.1:9/api/apps.connections.open', authorization: 'Bearer xapp-1-test' });
    });
  });
});
