// Slack's side of the service. startSlack builds the Bolt app for the configured mode and returns
// the request listener the HTTP server mounts at /slack/* (HTTP mode), or none (Socket Mode).
import type { RequestListener } from 'node:http';
import type { SlackMode } from '../config.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import { buildApp } from './app.ts';
import { BackgroundWork, real_timers, type SlackTimers } from './background.ts';

export interface SlackDeps {
  ledger: Ledger;
  log: Logger;
  mode: Exclude<SlackMode, { mode: 'off' }>;
  apiUrl?: string;
  adminUserIds: readonly string[];
  adminChannelId?: string;
  alertChannelId?: string;
  selfReporting: boolean;
  /** How listeners and stop() wait; real time unless a test drives it. */
  timers?: SlackTimers;
  /** Where work after the answer to Slack is tracked; a test may pass its own to look at it. */
  background?: BackgroundWork;
}

export interface RunningSlack {
  /** Mounted at /slack/* by the HTTP server in HTTP mode. */
  listener?: RequestListener;
  /**
   * Stops taking events (Socket Mode disconnects; in HTTP mode the server stops them), then waits
   * for the work listeners still run after answering Slack, at most stop_wait_ms_max: the database
   * must outlive it.
   */
  stop(): Promise<void>;
}

/** Socket Mode reconnects back off up to this long. */
const socket_retry_delay_ms_max = 5 * 60_000;

export async function startSlack(deps: SlackDeps): Promise<RunningSlack> {
  const timers = deps.timers ?? real_timers;
  const background = deps.background ?? new BackgroundWork(deps.log);
  const ctx = {
    ledger: deps.ledger, log: deps.log, adminUserIds: deps.adminUserIds, adminChannelId: deps.adminChannelId, selfReporting: deps.selfReporting, timers, background,
  };
  const { mode } = deps;
  const { app, receiver } = buildApp(ctx, {
    botToken: mode.botToken,
    signingSecret: mode.mode === 'http' ? mode.signingSecret : undefined,
    appToken: mode.mode === 'socket' ? mode.appToken : undefined,
    apiUrl: deps.apiUrl,
  });
  if (mode.mode === 'socket') {
    // Connect in the background: while Slack is unreachable the API and the jobs keep serving.
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const connect = async (attempt: number): Promise<void> => {
      try {
        await app.start();
        deps.log.info('Slack Socket Mode connected');
      } catch (error) {
        if (stopped) return;
        const delay = Math.min(socket_retry_delay_ms_max, 1_000 * 2 ** attempt);
        deps.log.warn(`Slack Socket Mode could not connect; trying again in ${Math.round(delay / 1000)} s`, { error });
        timer = setTimeout(() => void connect(attempt + 1), delay);
      }
    };
    void connect(0);
    return {
      stop: async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await (app.stop() as Promise<void>).catch(() => {});
        await background.settle(timers);
      },
    };
  }
  return { listener: receiver!.requestListener, stop: async () => void (await background.settle(timers)) };
}
