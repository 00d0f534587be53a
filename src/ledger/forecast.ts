// The run-out forecast: at the member's burn rate so far this cycle, the day they run out; said
// only when there is enough history for a rate to mean something, and never for a revoked seat.

/**
 * The seat's own time in the cycle a rate needs: a few minutes after a seat is added, one use
 * would be read as a pace of thousands of credits a day.
 */
export const forecast_history_ms_min = 86_400_000;
/** Usage events in the cycle a rate needs: one use says when it happened, not how often uses come. */
export const forecast_usage_events_min = 2;

export type Forecast =
  /** At `burnPerDay` (credits a day; null when the history is too short to give one) the member runs out at `runsOutAt` (now, if nothing is left). */
  | { status: 'runs_out'; burnPerDay: number | null; runsOutAt: Date }
  /** At `burnPerDay` the member's credits last until the cycle ends. */
  | { status: 'lasts_the_cycle'; burnPerDay: number; runsOutAt: null }
  /** Less than forecast_history_ms_min of the seat's time in the cycle, or fewer than forecast_usage_events_min usage events. */
  | { status: 'too_little_history'; burnPerDay: null; runsOutAt: null }
  /** A revoked seat runs out of nothing. */
  | { status: 'revoked'; burnPerDay: null; runsOutAt: null };

export type ForecastStatus = Forecast['status'];

const day_ms = 86_400_000;

/**
 * When the member runs out at the pace so far this cycle. `consumed` and `available` are credits
 * (used so far, and own plus pool credits still to draw); `usageEvents` counts this cycle's usage
 * events; the pace is measured from the later of the cycle's start and `seatStartedAt`.
 * A member with nothing left has run out now, whatever the history; otherwise the forecast needs
 * forecast_history_ms_min and forecast_usage_events_min, and says `too_little_history` without them.
 */
export function forecastRunOut(input: {
  consumed: number; available: number; usageEvents: number; cycleStart: Date; cycleEnd: Date; now: Date;
  /** When the seat started; a seat added mid-cycle has burned only since then, not since the cycle began. */
  seatStartedAt?: Date;
  revoked?: boolean;
}): Forecast {
  if (input.revoked) return { status: 'revoked', burnPerDay: null, runsOutAt: null };
  const started = input.seatStartedAt;
  const from = started && started > input.cycleStart && started < input.cycleEnd ? started : input.cycleStart;
  const elapsedMs = input.now.getTime() - from.getTime();
  const enough = elapsedMs >= forecast_history_ms_min && input.usageEvents >= forecast_usage_events_min;
  const burnPerDay = enough ? (Math.max(input.consumed, 0) * day_ms) / elapsedMs : null;
  if (input.available <= 0 && input.consumed > 0) return { status: 'runs_out', burnPerDay, runsOutAt: input.now };
  if (burnPerDay == null) return { status: 'too_little_history', burnPerDay: null, runsOutAt: null };
  const runsOutMs = burnPerDay > 0 ? input.now.getTime() + (input.available / burnPerDay) * day_ms : Infinity;
  return runsOutMs < input.cycleEnd.getTime()
    ? { status: 'runs_out', burnPerDay, runsOutAt: new Date(runsOutMs) }
    : { status: 'lasts_the_cycle', burnPerDay, runsOutAt: null };
}
