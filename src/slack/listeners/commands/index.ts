import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.ts';
import { command } from '../../ids.ts';
import { creditsCommand } from './credits.ts';

export function register(app: App, ctx: SlackContext): void {
  app.command(command, creditsCommand(ctx));
}
