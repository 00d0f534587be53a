// The connectors the configuration turns on (SPEC "Usage from the vendors"): each vendor's module
// builds a Connector; the runner (runner.ts) pulls it, the CLI on demand and the jobs every hour.
import type { Config } from '../config.ts';
import { figmaConnector } from './figma.ts';
import { githubConnector } from './github.ts';
import type { Connector } from './runner.ts';

export const connector_names = ['figma', 'github'] as const;
export type ConnectorName = (typeof connector_names)[number];

/** The connector `name` as configured, or a message naming the variable to set. */
export function connectorFor(config: Config, name: ConnectorName): Connector | { missing: string } {
  if (name === 'figma') {
    if (!config.FIGMA_TOKEN) return { missing: 'FIGMA_TOKEN is not set: Figma needs a plan access token with the scope org:ai_metering_usage_read' };
    return figmaConnector({ token: config.FIGMA_TOKEN, apiUrl: config.FIGMA_API_URL, tool: config.FIGMA_TOOL ?? null });
  }
  if (!config.GITHUB_TOKEN || !config.GITHUB_ORG) return { missing: 'GITHUB_TOKEN and GITHUB_ORG are not set: GitHub needs an organisation owner\'s token and the organisation' };
  return githubConnector({ token: config.GITHUB_TOKEN, org: config.GITHUB_ORG, apiUrl: config.GITHUB_API_URL, tool: config.GITHUB_TOOL ?? null });
}

/** Every connector whose token is set. */
export function configuredConnectors(config: Config): Connector[] {
  return connector_names.map((name) => connectorFor(config, name)).filter((c): c is Connector => !('missing' in c));
}
