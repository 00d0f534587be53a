// npm start as a person runs it: it starts on a bare machine, answers /healthz, and stops cleanly.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /listening on port (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(() => reject(new Error(`exited early: ${output}`)));
  });
  listening.catch(() => {}); // a test that expects an early exit awaits `exited` instead
  return { child, exited, listening, output: () => output };
}

describe('the service process', () => {
  it('starts on embedded PGlite with no configuration, answers /healthz, and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'creditdesk-main-'));
    try {
      const service = start({ PORT: '0', DATA_DIR: dataDir });
      const port = await service.listening;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await health.json()).toEqual({ ok: true, database: 'up' });
      expect(service.output()).toContain('Slack is off: set SLACK_BOT_TOKEN');
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      expect(existsSync(join(dataDir, 'creditdesk.lock'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start with half of the Slack credentials, naming the one that is missing', async () => {
    const service = start({ PORT: '0', SLACK_BOT_TOKEN: 'xoxb-1-2-3' });
    expect(await service.exited).toBe(2);
    expect(service.output()).toContain('SLACK_SIGNING_SECRET is missing (HTTP mode), or set SLACK_APP_TOKEN for Socket Mode');
    expect(service.output()).not.toContain('xoxb-1-2-3');
  });

  it('stops at once with a line naming a malformed variable', async () => {
    const service = start({ PORT: 'eighty', ORG_TIMEZONE: 'Nowhere/Land' });
    expect(await service.exited).toBe(2);
    expect(service.output()).toMatch(/invalid configuration: PORT must be a port number from 0 to 65535.*ORG_TIMEZONE must be an IANA time zone/);
  });
});
