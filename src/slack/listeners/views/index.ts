// Modal submissions, one file per flow. Input errors go back as response_action: errors on the
// block at fault; admin forms are checked for admin rights again when they are submitted; every
// write is applied once per submission, and Slack is answered within its 3 s (in-time.ts).
import type { App } from '@slack/bolt';
import type { ListenerContext } from '../../background.ts';
import * as admin from './admin.ts';
import * as approve from './approve.ts';
import * as nudge from './nudge.ts';
import * as request from './request.ts';

export function register(app: App, ctx: ListenerContext): void {
  request.register(app, ctx);
  approve.register(app, ctx);
  admin.register(app, ctx);
  nudge.register(app, ctx);
}
