// Slack's side of the usage from the vendors: the weekly nudge's button opens a one-field modal
// whose figure is recorded as a sync of the tool it asked about, once however Slack retries; and the
// admins' App Home shows each connector's last pull, the people it did not know and its last error,
// inside Slack's limits whatever the data.
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { figmaConnector } from '../../src/connectors/figma.ts';
import { runPull } from '../../src/connectors/runner.ts';
import type { ConnectorStatus } from '../../src/connectors/status.ts';
import { connectorBlocks } from '../../src/slack/blocks/connectors.ts';
import { nudge_ids, syncNudgeMessage } from '../../src/slack/blocks/nudge.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { slackLimitViolations, unescapedControls } from '../helpers/slack-limits.ts';
import { admin_channel, callsTo, mockSlack, useSlackApp } from './helpers.ts';

const figma_api = 'http://figma.test';
const text = (view: { blocks: { text?: { text: string } }[] }) => view.blocks.map((b) => b.text?.text ?? '').join('\n');

describeEachDatabase('vendors in Slack on %s', (kind) => {
  const h = useSlackApp(kind, '2026-05-01T00:00:00Z');

  /** Adobe asks weekly; Maya also holds Figma, whose balance a sync of Adobe must not touch. */
  const setup = async () => {
    await h.ledger.putTool('default', { name: 'Adobe generative credits', syncNudge: true });
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    await h.ledger.putPlan('cc-pro', { name: 'Creative Cloud Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('figma-full', { name: 'Full seat', credits: 3000, tool: 'figma' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'cc-pro', email: 'maya@example.com' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'figma-full' });
    h.clock.set('2026-05-11T10:00:00Z');
    await h.ledger.recordUsage({ id: 'earlier', user: 'U0MAYA001', tool: 'default', credits: 1000 });
  };
  const dm = (user: string) => callsTo('chat.postMessage').filter((m) => m.channel === user).map((m) => m.text);

  it("opens the one-field modal from the weekly DM's button and records the figure as a sync of that tool, once however Slack retries", async () => {
    await setup();
    const message = syncNudgeMessage({ kind: 'sync_nudge', slackId: 'U0MAYA001', week: '2026-W20', tools: [{ key: 'default', name: 'Adobe generative credits', unit: 'credits' }] });
    const button = (message.blocks[1] as { elements: { value: string }[] }).elements[0]!;
    await h.slack.click('U0MAYA001', nudge_ids.open, button.value);
    const [opened] = callsTo('views.open');
    expect(opened!.view).toMatchObject({
      callback_id: nudge_ids.submit,
      private_metadata: '{"tool":"default"}',
      blocks: [{ type: 'input', block_id: nudge_ids.block, label: { text: 'What does Adobe generative credits show as your remaining credits?' } }],
    });
    expect(slackLimitViolations(opened!.view)).toEqual([]);

    const values = { [nudge_ids.block]: { [nudge_ids.input]: { value: '2,400' } } };
    const answer = await h.slack.submit('U0MAYA001', nudge_ids.submit, values, opened!.view.private_metadata, { viewId: 'V0NUDGE01' });
    expect(answer).toEqual({ status: 200, body: null });
    await h.slack.settled();
    // creditdesk expected 3,000 left; Adobe shows 2,400: 600 credits it had not heard of.
    expect(dm('U0MAYA001')).toEqual(['Recorded 600 credits of usage: creditdesk expected 3,000 left, the vendor shows 2,400.']);
    expect(callsTo('chat.postMessage').find((m) => m.channel === admin_channel)!.text).toBe(
      '<@U0MAYA001> synced with the vendor: expected 3,000, reported 2,400: 600 unaccounted.',
    );
    // Slack sends the same submission again: nothing is recorded twice, and nobody hears twice.
    await h.slack.submit('U0MAYA001', nudge_ids.submit, values, opened!.view.private_metadata, { viewId: 'V0NUDGE01' });
    await h.slack.settled();
    expect((await h.ledger.balance('U0MAYA001', 'default')).used).toBe(1600);
    expect((await h.ledger.balance('U0MAYA001', 'figma')).used).toBe(0);
    expect(callsTo('chat.postMessage').filter((m) => m.channel === admin_channel)).toHaveLength(1);
  });

  it('asks again, on the field, for a figure that is not a whole number', async () => {
    await setup();
    const answer = await h.slack.submit('U0MAYA001', nudge_ids.submit, { [nudge_ids.block]: { [nudge_ids.input]: { value: 'about 2k' } } }, '{"tool":"default"}');
    expect(answer.body).toEqual({ response_action: 'errors', errors: { [nudge_ids.block]: 'Enter a whole number, such as 2400 or 2,400' } });
    expect((await h.ledger.balance('U0MAYA001', 'default')).used).toBe(1000);
  });

  it("shows admins each connector's last pull, the people it did not know and its last error, and members none of it", async () => {
    // An org with one tool, Figma's (the App Home's org view is of one tool).
    await h.ledger.putTool('default', { name: 'Figma AI credits' });
    await h.ledger.putPlan('figma-full', { name: 'Full seat', credits: 3000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'figma-full', email: 'maya@example.com' });
    h.clock.set('2026-05-11T10:00:00Z');
    let refuse = false;
    mockSlack.use(
      http.get(`${figma_api}/v1/ai_usage/daily`, () =>
        refuse
          ? HttpResponse.json({ status: 403, error: true, message: 'Token is missing the scope <org:ai_metering_usage_read>' }, { status: 403 })
          : HttpResponse.json({
              rows: [
                { user_email: 'maya@example.com', day: '2026-05-10', editor_type: 'design', seat_credits_sum: 40, plan_credits_sum: 0 },
                { user_email: '<!channel>@elsewhere.example', day: '2026-05-10', editor_type: 'make', seat_credits_sum: 9, plan_credits_sum: 0 },
              ],
              next_cursor: null,
              has_next_page: false,
            }),
      ),
    );
    const pull = () => runPull(h.ledger, figmaConnector({ token: 'figd-token-for-tests', apiUrl: figma_api, tool: null }), { http: { fetch: (...a) => globalThis.fetch(...a), sleep: async () => {} } });
    await pull();
    h.clock.set('2026-05-11T11:00:00Z');
    refuse = true;
    await pull();
    mockSlack.resetHandlers();

    await h.slack.event({ type: 'app_home_opened', user: 'U0ADMIN01', tab: 'home', channel: 'D0ADMIN' });
    const admin = callsTo('views.publish').at(-1)!.view;
    expect(slackLimitViolations(admin)).toEqual([]);
    expect(unescapedControls(admin)).toEqual([]);
    const section = text(admin).slice(text(admin).indexOf('*Usage from the vendors*'));
    // The last pull failed: it read nothing; the one before knew Maya and not the stranger.
    expect(section).toBe(
      '*Usage from the vendors*\n' +
        '*Figma* → tool `default` · last pull <!date^1778497200^{date_short} {time}|11 May 2026> :warning: failed: 0 rows read, 0 usage events recorded (0 units)\n' +
        '  :x: <!date^1778497200^{date_short} {time}|11 May 2026>: Figma refused the token (HTTP 403: Token is missing the scope &lt;org:ai_metering_usage_read&gt;): ' +
        'set FIGMA_TOKEN to a plan access token of the Enterprise plan with the scope org:ai_metering_usage_read (an organisation admin creates it at figma.com/developers/tokens)',
    );

    // A successful pull clears the error; the people it did not know are named, escaped.
    mockSlack.use(
      http.get(`${figma_api}/v1/ai_usage/daily`, () =>
        HttpResponse.json({
          rows: [{ user_email: '<!channel>@elsewhere.example', day: '2026-05-10', editor_type: 'make', seat_credits_sum: 9, plan_credits_sum: 0 }],
          next_cursor: null,
          has_next_page: false,
        }),
      ),
    );
    h.clock.set('2026-05-11T12:00:00Z');
    await pull();
    mockSlack.resetHandlers();
    await h.slack.event({ type: 'app_home_opened', user: 'U0ADMIN01', tab: 'home', channel: 'D0ADMIN' });
    const after = text(callsTo('views.publish').at(-1)!.view);
    expect(after).toContain(
      '*Figma* → tool `default` · last pull <!date^1778500800^{date_short} {time}|11 May 2026> :white_check_mark:: 2 rows read, 0 usage events recorded (0 units)\n' +
        "  :bust_in_silhouette: 1 person creditdesk does not know, not recorded: &lt;!channel&gt;@elsewhere.example (9) (give them a seat, with their vendor login as vendor_user where it is not their email; `creditdesk pull figma` lists everyone)",
    );
    expect(after).not.toContain(':x:');

    await h.slack.event({ type: 'app_home_opened', user: 'U0MAYA001', tab: 'home', channel: 'D0MAYA' });
    expect(text(callsTo('views.publish').at(-1)!.view)).not.toContain('Usage from the vendors');
  });
});

describe('the App Home section on the vendors, at any size', () => {
  const huge: ConnectorStatus = {
    connector: 'figma', tool: 'f'.repeat(64), status: 'failed', startedAt: '2026-05-11T10:00:00.000Z', finishedAt: '2026-05-11T10:00:05.000Z',
    rows: 2_000_000, applied: 1_000_000, units: 999_999_999_999, unknownCount: 5_000,
    unknownPeople: Array.from({ length: 10 }, (_, i) => ({ vendorUser: `${'<!here>&'.repeat(30)}${i}@example.com`.slice(0, 254), rows: 9, units: 1_000_000 })),
    refusedCount: 4_000, unattributedUnits: 123_456.5,
    lastError: { at: '2026-05-11T10:00:05.000Z', error: `Figma refused the token (HTTP 401: ${'<@U123> & '.repeat(400)})` },
  };

  it('keeps two connectors of the longest data inside 3,000 characters a section, and to the blocks the Home has left', () => {
    const both = [huge, { ...huge, connector: 'github' }];
    const roomy = connectorBlocks(both, 'UTC', 10);
    expect(roomy.map((b) => b.type)).toEqual(['divider', 'section', 'section']);
    const tight = connectorBlocks(both, 'UTC', 2);
    expect(tight.map((b) => b.type)).toEqual(['divider', 'section']);
    for (const blocks of [roomy, tight]) {
      const view = { type: 'home', blocks };
      expect(slackLimitViolations(view)).toEqual([]);
      expect(unescapedControls(view)).toEqual([]);
    }
    expect(connectorBlocks(both, 'UTC', 1)).toEqual([]);
    expect(connectorBlocks([], 'UTC', 10)).toEqual([]);
    expect(JSON.stringify(roomy)).toContain('5,000 people creditdesk does not know');
    expect(JSON.stringify(roomy)).toContain(' and 4,995 more');
  });
});
