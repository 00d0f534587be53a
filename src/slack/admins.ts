// Who is an admin: the ADMIN_USER_IDS, plus members an admin promoted (members.is_admin).
// Checked on the server every time an admin action is submitted, not only when drawn.
import type { Ledger } from '../ledger/index.ts';

export async function isAdmin(ledger: Ledger, adminUserIds: readonly string[], slackId: string): Promise<boolean> {
  if (adminUserIds.includes(slackId)) return true;
  return ledger.isPromotedAdmin(slackId);
}

export const not_admin_text = 'Only creditdesk admins can do that. Ask an admin if you need it done; nothing was changed.';
