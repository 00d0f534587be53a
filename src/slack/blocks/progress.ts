// Modals that stand in while work runs: a loading view opened at once (a trigger_id lives 3 s, so
// it opens before any database work and is then updated), and the view a modal submission turns
// into when its work outlasts Slack's 3 s, updated with the result once it is done. Titles are cut
// to a modal's 24 characters, a result to one section.
import { modalText, section } from './common.ts';
import { escapeKeepingMentions } from '../format.ts';
import { section_text_chars_max, truncate } from './limits.ts';

/** Opened with a fresh trigger_id before anything is looked up; views.update then fills it in. */
export function loadingModal(title: string) {
  return { type: 'modal' as const, title: modalText(title), close: modalText('Close'), blocks: [section(':hourglass_flowing_sand: Loading…')] };
}

/** A submission's answer when its work takes longer than Slack waits. */
export function workingModal(title: string) {
  return {
    type: 'modal' as const,
    title: modalText(title),
    close: modalText('Close'),
    blocks: [section(':hourglass_flowing_sand: Working on it: this takes longer than usual. This window shows the result when it is done.')],
  };
}

/**
 * What late work came to, in place of the working view. `text` may carry what someone typed (a
 * reason, a name), as a DM of it would: all of it is escaped but the mentions, and it is shortened to one section.
 */
export function resultModal(title: string, text: string) {
  return { type: 'modal' as const, title: modalText(title), close: modalText('Close'), blocks: [section(truncate(escapeKeepingMentions(text), section_text_chars_max))] };
}
