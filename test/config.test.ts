// Configuration: a bad value stops start-up with a message naming it, and never echoes a secret.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, slackMode } from '../src/config.ts';

describe('configuration', () => {
  it('starts with nothing set, on PGlite in ./.data, port 3000, UTC, anchor day 1', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ DATA_DIR: './.data', PORT: 3000, ORG_TIMEZONE: 'UTC', CYCLE_ANCHOR_DAY: 1, ALERT_THRESHOLDS: [50, 80, 100] });
    expect(slackMode(config)).toEqual({ mode: 'off' });
  });

  it('names each malformed variable', () => {
    const attempt = () => parseConfig({ PORT: 'eighty', ORG_TIMEZONE: 'Mars/Olympus', CYCLE_ANCHOR_DAY: '32', ALERT_THRESHOLDS: '80,50' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/ORG_TIMEZONE must be an IANA time zone/);
    expect(attempt).toThrow(/CYCLE_ANCHOR_DAY/);
    expect(attempt).toThrow(/ALERT_THRESHOLDS must be ascending/);
  });

  it('refuses half of the Slack credentials and names what is missing', () => {
    expect(() => parseConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-3' })).toThrow(/SLACK_SIGNING_SECRET is missing/);
    expect(() => parseConfig({ SLACK_SIGNING_SECRET: 'abcdefgh12345678' })).toThrow(/SLACK_BOT_TOKEN is missing/);
    expect(slackMode(parseConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).mode).toBe('socket');
    expect(slackMode(parseConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdefgh12345678' })).mode).toBe('http');
  });

  it('never echoes a secret in its message', () => {
    const secret = 'sekret-abc';
    try {
      parseConfig({ API_TOKEN: secret, SLACK_BOT_TOKEN: 'not-a-bot-token-secret-value' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/API_TOKEN/);
      expect((error as Error).message).not.toContain(secret);
      expect((error as Error).message).not.toContain('not-a-bot-token-secret-value');
    }
  });
});
