// Members, known by Slack user id and by email: either names the same person everywhere.
import type { Database, Queryable } from '../db/client.ts';
import type { Member } from '../db/schema.ts';
import { invalid } from './errors.ts';

const slack_id_pattern = /^[UW][A-Z0-9]{2,}$/;
const email_pattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type UserRef = { slackId: string } | { email: string };

/** Reads `user` as a Slack id or an email; anything else is refused with what to send instead. */
export function parseUserRef(user: string): UserRef {
  const trimmed = user.trim();
  if (slack_id_pattern.test(trimmed)) return { slackId: trimmed };
  if (email_pattern.test(trimmed)) return { email: trimmed.toLowerCase() };
  throw invalid(`user must be a Slack user id (U012ABCDEF) or an email address, got "${user.slice(0, 80)}"`);
}

export const member_columns = `m.id, m.slack_id as "slackId", m.email, m.name, m.attributes, m.is_admin as "isAdmin", m.created_at as "createdAt"`;

export async function findMember(tx: Queryable, ref: UserRef): Promise<Member | undefined> {
  const [member] =
    'slackId' in ref
      ? await tx.query<Member>(`select ${member_columns} from members m where m.slack_id = $1`, [ref.slackId])
      : await tx.query<Member>(`select ${member_columns} from members m where lower(m.email) = $1`, [ref.email]);
  return member;
}

/** Finds or creates the member; fills in a Slack id or email learned later. */
export async function upsertMember(
  tx: Queryable,
  ref: UserRef,
  extra: { email?: string | null; slackId?: string | null; name?: string | null; attributes?: Record<string, string> } = {},
): Promise<Member> {
  const slackId = 'slackId' in ref ? ref.slackId : (extra.slackId ?? null);
  const email = 'email' in ref ? ref.email : (extra.email?.toLowerCase() ?? null);
  const found = (await findMember(tx, ref)) ?? (slackId && email ? await findMember(tx, { email }) : undefined);
  if (found) {
    const [updated] = await tx.query<Member>(
      `update members m set slack_id = coalesce(m.slack_id, $2), email = coalesce(m.email, $3), name = coalesce($4, m.name),
              attributes = m.attributes || $5::jsonb
       where m.id = $1 returning ${member_columns}`,
      [found.id, slackId, email, extra.name ?? null, JSON.stringify(extra.attributes ?? {})],
    );
    return updated!;
  }
  const [created] = await tx.query<Member>(
    `insert into members as m (slack_id, email, name, attributes) values ($1, $2, $3, $4::jsonb) returning ${member_columns}`,
    [slackId, email, extra.name ?? null, JSON.stringify(extra.attributes ?? {})],
  );
  return created!;
}

export const describeUser = (ref: UserRef) => ('slackId' in ref ? ref.slackId : ref.email);

/** Whether an admin promoted this member (the first admins come from configuration, not here). */
export async function isPromotedAdmin(db: Queryable, slackId: string): Promise<boolean> {
  const [row] = await db.query<{ isAdmin: boolean }>(`select is_admin as "isAdmin" from members where slack_id = $1`, [slackId]);
  return row?.isAdmin ?? false;
}

/** Makes a member an admin, creating the member if creditdesk has not met them yet. */
export async function promoteAdmin(db: Database, slackId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const member = await upsertMember(tx, { slackId });
    await tx.query(`update members set is_admin = true where id = $1`, [member.id]);
  });
}
