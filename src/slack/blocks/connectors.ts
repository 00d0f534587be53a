// The admins' App Home section on usage pulled from the vendors: each connector's last pull (when,
// how it ended, rows read, usage recorded), the people the vendor named whom creditdesk does not
// know, and the last error with what to fix. A few blocks at most, whatever the data.
import type { ConnectorStatus } from '../../connectors/status.ts';
import { counted } from '../../words.ts';
import { credits, dateToken, mrkdwnText } from '../format.ts';
import { divider, section, type Block } from './common.ts';
import { cappedLines, name_chars_shown_max, section_text_chars_max, slackLength, truncate } from './limits.ts';

const vendors: Record<string, string> = { figma: 'Figma', github: 'GitHub' };
/** The error's text in a line, at most: the run record keeps it whole. */
const error_chars_shown_max = 600;
/** Unknown people named in a line; the rest are counted. */
const people_named_max = 5;

function connectorLines(s: ConnectorStatus, zone: string): string[] {
  const vendor = vendors[s.connector] ?? mrkdwnText(s.connector, name_chars_shown_max);
  const tool = s.tool ? ` → tool \`${mrkdwnText(s.tool, name_chars_shown_max)}\`` : '';
  const how = s.status === 'ok' ? ':white_check_mark:' : ':warning: failed';
  const lines = [
    `*${vendor}*${tool} · last pull ${dateToken(s.finishedAt, zone, '{date_short} {time}')} ${how}: ` +
      `${counted(s.rows, 'row')} read, ${counted(s.applied, 'usage event')} recorded (${counted(s.units, 'unit')})` +
      (s.refusedCount > 0 ? `, ${counted(s.refusedCount, 'row')} refused` : ''),
  ];
  if (s.unknownCount > 0) {
    const named = s.unknownPeople.slice(0, people_named_max).map((p) => `${mrkdwnText(p.vendorUser, name_chars_shown_max)} (${credits(p.units)})`);
    const more = s.unknownCount - named.length;
    lines.push(
      `  :bust_in_silhouette: ${counted(s.unknownCount, 'person', 'people')} creditdesk does not know, not recorded: ${named.join(', ')}` +
        `${more > 0 ? ` and ${credits(more)} more` : ''} (give them a seat, with their vendor login as vendor_user where it is not their email; \`creditdesk pull ${s.connector}\` lists everyone)`,
    );
  }
  if (s.unattributedUnits > 0) {
    lines.push(`  :bust_in_silhouette: ${counted(Math.round(s.unattributedUnits), 'unit')} used in the organisation by logins no seat carries as vendor_user`);
  }
  if (s.lastError) {
    lines.push(`  :x: ${dateToken(s.lastError.at, zone, '{date_short} {time}')}: ${mrkdwnText(s.lastError.error, error_chars_shown_max)}`);
  }
  return lines;
}

/**
 * The section's blocks, at most `blocksMax` of them (what the Home has left): a divider and a
 * section per connector, each inside 3,000 characters; with fewer blocks left, all connectors in
 * one section, those that do not fit counted. None when no connector has pulled yet, or when
 * fewer than two blocks are left.
 */
export function connectorBlocks(statuses: readonly ConnectorStatus[], zone: string, blocksMax: number): Block[] {
  if (statuses.length === 0 || blocksMax < 2) return [];
  const head = '*Usage from the vendors*\n';
  const texts = statuses.map((s) => connectorLines(s, zone).join('\n'));
  if (blocksMax >= 1 + statuses.length) {
    return [divider, ...texts.map((text, i) => section(truncate(`${i === 0 ? head : ''}${text}`, section_text_chars_max)))];
  }
  const body = cappedLines(texts, {
    maxChars: section_text_chars_max - slackLength(head),
    more: (n) => `and ${counted(n, 'more connector')} (\`creditdesk pull\` shows each, by vendor)`,
  });
  return [divider, section(`${head}${body}`)];
}
