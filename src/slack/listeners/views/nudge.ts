// The weekly sync nudge's modal: the remaining balance the vendor shows, recorded as a sync of the
// tool the DM asked about, once per submission (its view id and values are the key), answered in
// Slack's time (in-time.ts). What came of it (usage recorded, a correction for an admin) goes to
// the member by DM, and to the admin channel as /credits sync does.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { credits_max } from '../../../ledger/limits.ts';
import type { ListenerContext } from '../../background.ts';
import { nudge_ids } from '../../blocks/nudge.ts';
import { parseMetadata, value } from '../../parse/views.ts';
import { syncWithVendor } from '../../sync.ts';
import { errors, state, submissionKey } from './common.ts';
import { answerInTime, done } from './in-time.ts';

/** A balance as people write it: digits, optionally grouped in threes by `,` or a thin space (2400, 2,400, 2 400). */
const remaining_schema = z
  .string({ error: 'Enter the remaining balance the vendor shows' })
  .trim()
  .regex(/^(?:0|[1-9]\d*|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d{0,2}(?:[\u2009\u202F ]\d{3})+)$/, 'Enter a whole number, such as 2400 or 2,400')
  .transform((text) => Number(text.replace(/[,\u2009\u202F ]/g, '')))
  .pipe(z.number().max(credits_max, 'That is more than any balance can hold'));

const metadata_schema = z.object({ tool: z.string().min(1) });

export function register(app: App, ctx: ListenerContext): void {
  app.view<ViewSubmitAction>(nudge_ids.submit, async (args) => {
    const remaining = remaining_schema.safeParse(value(state(args), nudge_ids.block, nudge_ids.input) ?? '');
    if (!remaining.success) return args.ack(errors({ [nudge_ids.block]: remaining.error.issues[0]!.message }));
    const metadata = parseMetadata(metadata_schema, args.view.private_metadata);
    if (!metadata) throw new Error('a sync nudge modal came back without the tool it was opened for');
    const user = args.body.user.id;
    await answerInTime(
      ctx,
      args,
      async () => done(await syncWithVendor(ctx, args.client, user, remaining.data, submissionKey(args), metadata.tool), { dm: true }),
      (text) => done(`:warning: Not recorded: ${text}`, { dm: true }),
    );
  });
}
