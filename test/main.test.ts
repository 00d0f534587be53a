// npm start as a person runs it: it starts on a bare machine, answers /healthz, and stops cleanly.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migratedPgliteFolder } from './helpers/db.ts';

/** The service as one process, or as `npm start` runs it (npm, a shell, then the service). */
function start(env: Record<string, string>, how: 'node' | 'npm start' = 'node') {
  const [command, args] = how === 'node' ? [process.execPath, ['--import', 'tsx', 'src/main.ts']] : ['npm', ['start']];
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  /** The process ended; what it wrote last may still be on its way ('exit' can come before the output). */
  const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** The process ended and all it wrote has been read: its output closed with it. */
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /listening on port (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    void ended.then(() => reject(new Error(`exited early: ${output}`)));
  });
  listening.catch(() => {}); // a test that expects an early exit awaits `exited` instead
  return { child, ended, exited, listening, output: () => output };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Each test starts the service as a process (tsx, then a PGlite cluster on disk): up to 30 s on a
// very busy 2-core machine for a first start, so these get more than the suite's 45 s.
describe('the service process', { timeout: 90_000 }, () => {
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

  it('passes SIGTERM through npm start to the process that serves, which closes cleanly', async () => {
    // Not a first start: a migrated folder opens in a third of the time it takes to create and
    // migrate one (5 s against 15 s on a busy machine).
    const dataDir = await migratedPgliteFolder();
    let serving = 0;
    try {
      const service = start({ PORT: '0', DATA_DIR: dataDir }, 'npm start');
      await service.listening;
      // The data folder's lock holds the pid of the process that serves.
      serving = Number(readFileSync(join(dataDir, 'creditdesk.lock'), 'utf8'));
      expect(serving).not.toBe(service.child.pid);
      service.child.kill('SIGTERM');
      // npm forwards the signal and waits for its child; a process left serving would hold the
      // output open, so it is looked for before the output is read to its end.
      expect(await service.ended).toBe(0);
      expect(isAlive(serving)).toBe(false);
      await service.exited;
      expect(service.output()).toContain('SIGTERM: closing');
      expect(existsSync(join(dataDir, 'creditdesk.lock'))).toBe(false);
    } finally {
      if (serving && isAlive(serving)) process.kill(serving, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('says in one line, without a stack trace, that the port is in use, and exits 1 leaving nothing behind', async () => {
    const dataDir = await migratedPgliteFolder();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const { port } = holder.address() as { port: number };
    try {
      const service = start({ PORT: String(port), DATA_DIR: dataDir });
      expect(await service.exited).toBe(1);
      const lines = service.output().trim().split('\n');
      expect(lines.at(-1)).toBe(`port ${port} is already in use by another process: stop that process, or set PORT to a free port`);
      expect(service.output()).not.toMatch(/^\s+at /m);
      expect(existsSync(join(dataDir, 'creditdesk.lock'))).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
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
