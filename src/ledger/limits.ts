// Every limit of the ledger, named with its unit. Inputs beyond these are refused, not truncated.

/** Largest amount of credits in one grant, event or adjustment; keeps every sum exact in a JS number. */
export const credits_max = 1_000_000_000_000;
/** Usage events in one API call or one applied batch. */
export const batch_events_max = 1_000;
/** Length of an event id, a feature, a source, a reason, a reference. */
export const event_id_length_max = 200;
export const text_length_max = 500;
/** How far in the future a usage event may be stamped (clock skew between systems). */
export const event_future_skew_ms_max = 5 * 60_000;
/** Entries listed by a history page. */
export const history_entries_max = 50;
/** Seats reset in one transaction: large enough to be fast, small enough to hold locks briefly. */
export const reset_seats_per_transaction_max = 5_000;
/** Transactions one reset run keeps going at once: one per core of a small server. */
export const reset_workers = 2;
