// What listeners need beyond the ledger: a timer to bound the work done before answering Slack,
// and a place for work that goes on after the answer, which a stopping service waits for before it
// closes the database. Both are injected so tests drive the one and await the other instead of sleeping.
import type { Logger } from '../log.ts';
import type { SlackContext } from './context.ts';

export interface SlackTimers {
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

// unref: a budget that is still running must not keep a stopping process alive.
export const real_timers: SlackTimers = { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()) };

/**
 * How long a stopping service waits for the work listeners still run after answering Slack. A
 * modal's late result, a report's chart and upload take seconds; ten is well past them and inside
 * the 30 s an orchestrator such as Kubernetes gives between SIGTERM and SIGKILL.
 */
export const stop_wait_ms_max = 10_000;

/**
 * Work that goes on after the answer to Slack: a listener Bolt runs on after its ack, and work a
 * listener starts itself (a late modal result). Tracked, so a stopping service can wait for it.
 */
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

  /**
   * Tracks work already running (a listener that Bolt runs on after its ack) until it settles, and
   * returns it as it is: its outcome and errors still reach whoever awaits it.
   */
  track<T>(work: Promise<T>): Promise<T> {
    const running: Promise<void> = work.then(
      () => undefined,
      () => undefined,
    ).finally(() => this.#running.delete(running));
    this.#running.add(running);
    return work;
  }

  /** Resolves once no work is running, including work started while waiting. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /**
   * For a stopping service: waits until no work is running, or `waitMs` on `timers` (default
   * stop_wait_ms_max) has passed. True when all of it finished; false when some was still running,
   * which is logged with how much, and left (the database closes under it: its writes are
   * transactions, so what did not commit is not applied, and Slack's retries or the member try again).
   */
  async settle(timers: SlackTimers, waitMs = stop_wait_ms_max): Promise<boolean> {
    if (this.#running.size === 0) return true;
    const finished = await Promise.race([this.idle().then(() => true), timers.sleep(waitMs).then(() => false)]);
    if (!finished) this.#log.warn(`stopping with Slack work still running after ${waitMs / 1000} s: ${this.#running.size} left unfinished`);
    return finished;
  }
}

/** The context listeners are registered with: a SlackContext with its timers and background work settled. */
export type ListenerContext = SlackContext & Required<Pick<SlackContext, 'timers' | 'background'>>;

export function listenerContext(ctx: SlackContext): ListenerContext {
  return { ...ctx, timers: ctx.timers ?? real_timers, background: ctx.background ?? new BackgroundWork(ctx.log) };
}
