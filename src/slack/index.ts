// Slack's side of the service. startSlack builds the Bolt app for the configured mode and returns
// the request listener the HTTP server mounts at /slack/* (HTTP mode), or none (Socket Mode).
import type { RequestListener } from 'node:http';
import type { SlackMode } from '../config.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import { buildApp } from './app.ts';

export interface SlackDeps {
  ledger: Ledger;
  log: Logger;
  mode: Exclude<SlackMode, { mode: 'off' }>;
  apiUrl?: string;
  adminUserIds: readonly string[];
  adminChannelId?: string;
  alertChannelId?: string;
  selfReporting: boolean;
}

export interface RunningSlack {
  /** Mounted at /slack/* by the HTTP server in HTTP mode. */
  listener?: RequestListener;
  stop(): Promise<void>;
}

export async function startSlack(deps: SlackDeps): Promise<RunningSlack> {
  const ctx = { ledger: deps.ledger, log: deps.log, adminUserIds: deps.adminUserIds, adminChannelId: deps.adminChannelId, selfReporting: deps.selfReporting };
  const { mode } = deps;
  const { app, receiver } = buildApp(ctx, {
    botToken: mode.botToken,
    signingSecret: mode.mode === 'http' ? mode.signingSecret : undefined,
    appToken: mode.mode === 'socket' ? mode.appToken : undefined,
    apiUrl: deps.apiUrl,
  });
  if (mode.mode === 'socket') {
    await app.start();
    return { stop: () => app.stop() as Promise<void> };
  }
  return { listener: receiver!.requestListener, stop: async () => {} };
}
