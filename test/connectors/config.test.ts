// The vendors' configuration: a connector is on when its token is set, a half-configured one stops
// start-up naming what is missing, and a token never appears in a message.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { configuredConnectors, connectorFor } from '../../src/connectors/index.ts';

describe('vendor configuration', () => {
  it('turns on the connectors whose tokens are set, with the vendors\' own API URLs unless told otherwise', () => {
    expect(configuredConnectors(parseConfig({}))).toEqual([]);
    const config = parseConfig({ FIGMA_TOKEN: 'figd-abcdefgh', GITHUB_TOKEN: 'github_pat_abcdefgh', GITHUB_ORG: 'acme-corp', GITHUB_TOOL: 'copilot' });
    expect(config).toMatchObject({ FIGMA_API_URL: 'https://api.figma.com', GITHUB_API_URL: 'https://api.github.com', SYNC_NUDGE_CRON: '0 10 * * 1' });
    expect(configuredConnectors(config).map((c) => [c.name, c.toolKey])).toEqual([['figma', null], ['github', 'copilot']]);
    expect(connectorFor(parseConfig({}), 'github')).toEqual({ missing: "GITHUB_TOKEN and GITHUB_ORG are not set: GitHub needs an organisation owner's token and the organisation" });
  });

  it('names each malformed vendor variable, and a GitHub token without its organisation', () => {
    const attempt = () => parseConfig({ FIGMA_TOOL: 'Figma AI', GITHUB_ORG: '-acme', FIGMA_API_URL: 'not a url', SYNC_NUDGE_CRON: 'every monday' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/FIGMA_TOOL must be a tool key such as figma/);
    expect(attempt).toThrow(/GITHUB_ORG must be the organisation's login/);
    expect(attempt).toThrow(/FIGMA_API_URL/);
    expect(attempt).toThrow(/SYNC_NUDGE_CRON must be a cron expression/);
    expect(() => parseConfig({ GITHUB_TOKEN: 'github_pat_secret_value' })).toThrow(
      'invalid configuration: GITHUB_ORG is missing (the pull of GitHub usage needs the organisation GITHUB_TOKEN reads)',
    );
  });

  it('never echoes a vendor token in its message', () => {
    try {
      parseConfig({ FIGMA_TOKEN: 'short', GITHUB_TOKEN: 'tiny' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/FIGMA_TOKEN .*GITHUB_TOKEN/);
      expect((error as Error).message).not.toMatch(/short|tiny/);
    }
  });
});
