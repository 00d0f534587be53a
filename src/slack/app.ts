// buildApp: the Bolt app with every listener registered, and no side effects, so tests can
// build one and drive it with signed requests.
import { App, HTTPReceiver, LogLevel, type Receiver } from '@slack/bolt';
import { listenerContext } from './background.ts';
import type { SlackContext } from './context.ts';
import * as actions from './listeners/actions/index.ts';
import * as commands from './listeners/commands/index.ts';
import * as events from './listeners/events/index.ts';
import * as views from './listeners/views/index.ts';

export interface SlackAppOptions {
  botToken: string;
  /** HTTP mode. */
  signingSecret?: string;
  /** Socket Mode. */
  appToken?: string;
  apiUrl?: string;
  /** Tests: answer Slack only after the listener finished, and skip auth.test at start. */
  processBeforeResponse?: boolean;
  botId?: string;
  botUserId?: string;
  /** Web API retries of 5xx, network errors and 429s (after their Retry-After); tests make the back-off zero. */
  retry?: SlackRetryPolicy;
}

export interface SlackRetryPolicy {
  retries: number;
  /** The first back-off; it doubles up to retry_delay_ms_max. */
  delayMs: number;
}

/** Retries bounded in count and time: Web API's default policy waits up to about 30 minutes. */
const retries_max = 3;
const retry_delay_ms_min = 500;
const retry_delay_ms_max = 10_000;
const retry_time_ms_max = 30_000;
export const default_retry: SlackRetryPolicy = { retries: retries_max, delayMs: retry_delay_ms_min };

export interface BuiltApp {
  app: InstanceType<typeof App>;
  receiver?: InstanceType<typeof HTTPReceiver>;
}

function retryConfig(policy: SlackRetryPolicy) {
  const retries = Math.min(policy.retries, retries_max);
  const minTimeout = Math.min(policy.delayMs, retry_delay_ms_max);
  return { retries, factor: 2, minTimeout, maxTimeout: Math.max(minTimeout, retry_delay_ms_max), maxRetryTime: retry_time_ms_max };
}

export function buildApp(ctx: SlackContext, options: SlackAppOptions): BuiltApp {
  const clientOptions = {
    slackApiUrl: options.apiUrl,
    // Look fetch up at call time, so a proxy or a test's interceptor installed later applies.
    fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
    retryConfig: retryConfig(options.retry ?? default_retry),
  };
  const logLevel = LogLevel.WARN;
  // Bolt would otherwise call auth.test from its constructor, and a Slack outage at start-up
  // would surface as an unhandled rejection that stops the whole service. creditdesk listens to
  // no message events, so it never needs to recognise its own bot's messages.
  const identity = options.botId ? { botId: options.botId, botUserId: options.botUserId } : { tokenVerificationEnabled: false };
  let built: BuiltApp;
  if (options.appToken) {
    // The socket's own client (apps.connections.open) is configured through installerOptions:
    // without it SLACK_API_URL would not apply to it, and it would retry 100 times per attempt.
    built = {
      app: new App({ token: options.botToken, appToken: options.appToken, socketMode: true, clientOptions, installerOptions: { clientOptions }, logLevel, ...identity }),
    };
  } else {
    const receiver = new HTTPReceiver({
      signingSecret: options.signingSecret!,
      endpoints: '/slack/events',
      processBeforeResponse: options.processBeforeResponse ?? false,
      logLevel,
    });
    built = { app: new App({ token: options.botToken, receiver: receiver as Receiver, clientOptions, logLevel, ...identity }), receiver };
  }
  const listening = listenerContext(ctx);
  // Every event's listeners, to their end: Bolt answers Slack at the ack and runs them on, and a
  // stopping service waits for them (BackgroundWork.settle) before it closes the database.
  built.app.use(async ({ next }) => {
    await listening.background.track(next());
  });
  commands.register(built.app, listening);
  actions.register(built.app, listening);
  views.register(built.app, listening);
  events.register(built.app, listening);
  built.app.error(async (error) => ctx.log.error('slack app error', { error }));
  return built;
}
