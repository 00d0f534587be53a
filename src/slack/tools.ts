// Which tool a command or form from Slack means (SPEC "Several tools"). While the org has one tool
// nobody names it and Slack shows it as it always has; with several, Slack names the tool on every
// surface, and a command that does not name one means the member's only seat, or is refused with
// the keys to choose from.
import type { Balance } from '../ledger/balance.ts';
import { invalid, LedgerError } from '../ledger/errors.ts';
import type { Tool, Tools } from '../ledger/tools.ts';
import type { SlackContext } from './context.ts';

/**
 * Every seat a member holds (active or revoked), one balance each, in the order the tools were
 * created; [] for someone with no seat. LedgerErrors other than "no seat" are passed on.
 */
export async function memberSeats(ctx: SlackContext, user: string): Promise<Balance[]> {
  try {
    return (await ctx.ledger.balances(user)).tools;
  } catch (error) {
    if (error instanceof LedgerError && error.code === 'not_found') return [];
    throw error;
  }
}

/** The seats that count when choosing among them: the active ones, else (all revoked) every one. */
const seatsToChoose = (seats: readonly Balance[]) => {
  const active = seats.filter((s) => s.status === 'active');
  return active.length > 0 ? active : seats;
};

const keysOf = (seats: readonly { tool: string }[]) => seats.map((s) => s.tool).join(', ');

/**
 * The tool a member's command means: the one named, else the member's only seat, else
 * `fallback`'s choice among their seats. Null with one tool in the org (nothing needs naming) or
 * for a member with no seat (the ledger then says so). LedgerErrors (invalid): a named tool that
 * does not exist, listing the tools; several seats and no choice, listing their keys in a refusal
 * that shows `example`, the command with `<tool>` where the key goes.
 */
export async function commandTool(
  ctx: SlackContext,
  tools: Tools,
  user: string,
  named: string | undefined,
  example: string,
  fallback: (seats: readonly Balance[]) => Balance | undefined = () => undefined,
): Promise<Tool | null> {
  if (named) return knownTool(tools, named);
  if (tools.size === 1) return null;
  const seats = seatsToChoose(await memberSeats(ctx, user));
  if (seats.length === 0) return null;
  if (seats.length === 1) return knownTool(tools, seats[0]!.tool);
  const chosen = fallback(seats);
  if (chosen) return knownTool(tools, chosen.tool);
  throw invalid(`you hold seats in several tools: name one, as ${example}, with one of ${keysOf(seats)}`);
}

/**
 * The tool a key typed in Slack names; a LedgerError (invalid, not not_found: that one means "no
 * seat" to the listeners) listing the tools when there is none such.
 */
export function knownTool(tools: Tools, key: string): Tool {
  const tool = tools.byKey.get(key);
  if (!tool) throw invalid(`there is no tool ${key}; the tools are ${tools.keys()}`);
  return tool;
}

/**
 * /credits sync's default tool (SPEC "Usage from the vendors"): the member's only seat, else their
 * only seat in a tool that asks for syncs (sync_nudge), the tool whose figures only people can read.
 */
export const syncDefault = (tools: Tools) => (seats: readonly Balance[]) => {
  const nudged = seats.filter((s) => tools.byKey.get(s.tool)?.syncNudge);
  return nudged.length === 1 ? nudged[0] : undefined;
};

/** How Slack names tools: a lookup by key, and whether to name them at all (only with several). */
export interface ToolNames {
  /** True when the org has several tools: then every surface names the tool it is about. */
  several: boolean;
  /** The tool of a key as people know it; the key itself for one this lookup has never seen. */
  name(key: string): string;
}

export function toolNames(tools: Tools): ToolNames {
  return {
    several: tools.size > 1,
    name: (key) => tools.byKey.get(key)?.name ?? key,
  };
}

/** Names for surfaces drawn without the database (tests, the one-tool org): nothing is named. */
export const one_tool: ToolNames = { several: false, name: (key) => key };
