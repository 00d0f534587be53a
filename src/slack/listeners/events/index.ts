// Events: the App Home tab, drawn fresh each time it is opened.
import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.ts';
import { publishHome } from '../../home.ts';

export function register(app: App, ctx: SlackContext): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await publishHome(ctx, client, event.user);
  });
}
