// The environment, validated once at start-up. This is the only module that reads process.env.
import { isTimeZone } from './ledger/cycles.ts';
import { existsSync } from 'node:fs';
import cron from 'node-cron';
import { z } from 'zod';

const slackId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U012ABCDEF');
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C012ABCDEF');


/** A tool's key as the API and catalog write it. */
const toolKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a tool key such as figma (lowercase letters, digits, - or _)');
/** A GitHub organisation's login: letters, digits and single hyphens, at most 39 characters. */
const githubOrg = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, 'must be the organisation\'s login as in github.com/<org>');

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyAsUndefined, schema.optional());

export const configSchema = z.object({
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./.data')),
  PORT: z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'must be a port number from 0 to 65535' }).int().min(0).max(65535, 'must be a port number from 0 to 65535').default(3000),
  ),
  API_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  SLACK_BOT_TOKEN: optional(z.string().startsWith('xoxb-', 'must start with xoxb-')),
  SLACK_SIGNING_SECRET: optional(z.string().min(8)),
  SLACK_APP_TOKEN: optional(z.string().startsWith('xapp-', 'must start with xapp-')),
  SLACK_API_URL: optional(z.url()),
  ADMIN_USER_IDS: z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((id) => id.trim()).filter(Boolean) : value ?? []),
    z.array(slackId),
  ),
  ADMIN_CHANNEL_ID: optional(channelId),
  ALERT_CHANNEL_ID: optional(channelId),
  ORG_TIMEZONE: z.preprocess(
    emptyAsUndefined,
    z.string().default('UTC').refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  ),
  CYCLE_ANCHOR_DAY: z.preprocess(
    emptyAsUndefined,
    z.coerce.number({ error: 'must be a day of the month from 1 to 31' }).int().min(1, 'must be a day of the month from 1 to 31').max(31, 'must be a day of the month from 1 to 31').default(1),
  ),
  ALERT_THRESHOLDS: z.preprocess(
    (value) => (typeof value === 'string' && value !== '' ? value.split(',').map((p) => Number(p.trim())) : value ?? [50, 80, 100]),
    z
      .array(z.number().int().min(1).max(1000))
      .min(1)
      .refine((list) => list.every((p, i) => i === 0 || p > list[i - 1]!), 'must be ascending percentages such as 50,80,100'),
  ),
  DIGEST_CRON: z.preprocess(
    emptyAsUndefined,
    z.string().default('0 9 * * 1').refine((expression) => cron.validate(expression), 'must be a cron expression such as 0 9 * * 1 (Mondays 09:00)'),
  ),
  SELF_REPORTING: z.preprocess(emptyAsUndefined, z.enum(['on', 'off']).default('off')),
  PRORATION: z.preprocess(emptyAsUndefined, z.enum(['none', 'daily']).default('none')),
  LATE_EVENT_GRACE_HOURS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(24 * 31).default(72)),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['debug', 'info', 'warn', 'error']).default('info')),
  // Usage from the vendors (SPEC): a connector is on when its token is set.
  FIGMA_TOKEN: optional(z.string().min(8, 'must be a Figma plan access token')),
  FIGMA_API_URL: z.preprocess(emptyAsUndefined, z.url().default('https://api.figma.com')),
  FIGMA_TOOL: optional(toolKey),
  GITHUB_TOKEN: optional(z.string().min(8, 'must be a GitHub token')),
  GITHUB_ORG: optional(githubOrg),
  GITHUB_API_URL: z.preprocess(emptyAsUndefined, z.url().default('https://api.github.com')),
  GITHUB_TOOL: optional(toolKey),
  SYNC_NUDGE_CRON: z.preprocess(
    emptyAsUndefined,
    z.string().default('0 10 * * 1').refine((expression) => cron.validate(expression), 'must be a cron expression such as 0 10 * * 1 (Mondays 10:00)'),
  ),
});

export type Config = z.infer<typeof configSchema>;

export type SlackMode = { mode: 'off' } | { mode: 'http'; botToken: string; signingSecret: string } | { mode: 'socket'; botToken: string; appToken: string };

/** Slack is all or nothing: no credentials turns it off; half of them is a mistake to name. */
export function slackMode(config: Config): SlackMode {
  const { SLACK_BOT_TOKEN: bot, SLACK_SIGNING_SECRET: secret, SLACK_APP_TOKEN: app } = config;
  if (!bot && !secret && !app) return { mode: 'off' };
  if (!bot) throw new ConfigError('invalid configuration: SLACK_BOT_TOKEN is missing (Slack needs it in both modes)');
  if (app) return { mode: 'socket', botToken: bot, appToken: app };
  if (!secret) {
    throw new ConfigError('invalid configuration: SLACK_SIGNING_SECRET is missing (HTTP mode), or set SLACK_APP_TOKEN for Socket Mode');
  }
  return { mode: 'http', botToken: bot, signingSecret: secret };
}

export class ConfigError extends Error {}

/** Parses an environment; the message names every variable at fault and never echoes a value. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  slackMode(result.data);
  if (result.data.GITHUB_TOKEN && !result.data.GITHUB_ORG) {
    throw new ConfigError('invalid configuration: GITHUB_ORG is missing (the pull of GitHub usage needs the organisation GITHUB_TOKEN reads)');
  }
  return result.data;
}

/** Reads ./.env (when present) under the real environment, which wins. */
export function loadConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return parseConfig(process.env);
}
