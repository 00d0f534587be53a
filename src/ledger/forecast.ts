// The run-out forecast: at the member's burn rate so far this cycle, the day they run out.
export interface Forecast {
  /** Credits per day so far this cycle. */
  burnPerDay: number;
  /** When the member's own credits and pool allowance run out, or null if they last the cycle. */
  runsOutAt: Date | null;
}

const day_ms = 86_400_000;

/** Less history than this says nothing about a rate: the burn is measured over at least this long. */
const burn_window_ms_min = 3_600_000;

export function forecastRunOut(input: {
  consumed: number; available: number; cycleStart: Date; cycleEnd: Date; now: Date;
  /** When the seat started; a seat added mid-cycle has burned only since then, not since the cycle began. */
  seatStartedAt?: Date;
}): Forecast {
  const started = input.seatStartedAt;
  const from = started && started > input.cycleStart && started < input.cycleEnd ? started : input.cycleStart;
  const elapsedMs = Math.max(input.now.getTime() - from.getTime(), burn_window_ms_min);
  const burnPerDay = (input.consumed * day_ms) / elapsedMs;
  if (input.consumed <= 0) return { burnPerDay: 0, runsOutAt: null };
  if (input.available <= 0) return { burnPerDay, runsOutAt: input.now };
  const runsOutMs = input.now.getTime() + (input.available / burnPerDay) * day_ms;
  return { burnPerDay, runsOutAt: runsOutMs < input.cycleEnd.getTime() ? new Date(runsOutMs) : null };
}
