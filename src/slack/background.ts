// What listeners need beyond the ledger: a timer to bound the work done before answering Slack,
// and a place for work that goes on after the answer. Both are injected so tests drive the one
// and await the other instead of sleeping.
import type { Logger } from '../log.ts';
import type { SlackContext } from './context.ts';

export interface SlackTimers {
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

// unref: a budget that is still running must not keep a stopping process alive.
export const real_timers: SlackTimers = { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()) };

/** Work started after the answer to Slack (a late modal result): tracked, so it can be awaited. */
export class BackgroundWork {
  readonly #running = new Set<Promise<void>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Runs `work` without holding up the caller; a failure is logged. */
  start(work: () => Promise<void>): void {
    const running: Promise<void> = work()
      .catch((error: unknown) => this.#log.error('work after the answer to Slack failed', { error }))
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** Resolves once no work is running, including work started while waiting. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}

/** The context listeners are registered with: a SlackContext with its timers and background work settled. */
export type ListenerContext = SlackContext & Required<Pick<SlackContext, 'timers' | 'background'>>;

export function listenerContext(ctx: SlackContext): ListenerContext {
  return { ...ctx, timers: ctx.timers ?? real_timers, background: ctx.background ?? new BackgroundWork(ctx.log) };
}
