// Modal submissions, one file per flow. Input errors go back as response_action: errors on the
// block at fault; admin forms are checked for admin rights again when they are submitted.
import type { App } from '@slack/bolt';
import type { SlackContext } from '../../context.ts';
import * as admin from './admin.ts';
import * as approve from './approve.ts';
import * as request from './request.ts';

export function register(app: App, ctx: SlackContext): void {
  request.register(app, ctx);
  approve.register(app, ctx);
  admin.register(app, ctx);
}
