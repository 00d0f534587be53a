// Every limit of the ledger, named with its unit. Inputs beyond these are refused, not truncated.

/** Largest amount of credits in one grant, event or adjustment; keeps every sum exact in a JS number. */
export const credits_max = 1_000_000_000_000;
/** Usage events in one API call or one applied batch. */
export const batch_events_max = 1_000;
/** Length of an event id, in UTF-16 code units as sent (ids are not trimmed: they are compared as given). */
export const event_id_length_max = 200;
/** Length of a name, a feature, a source, a reason, a reference, after trimming. */
export const text_length_max = 500;
/** Length of a member reference: a Slack user id or an email address (RFC 5321 caps an address at 254). */
export const user_ref_length_max = 254;
/** Largest id or count PostgreSQL's int4 columns hold: pack, purchase and request ids, quantities, days. */
export const int4_max = 2_147_483_647;
/** Largest unit cost of a pack, in the org's currency: what purchases.unit_cost, numeric(14,4), holds. */
export const unit_cost_max = 9_999_999_999.9999;
/** Days a one-time pack lasts after it is first assigned, at most (ten years). */
export const pack_expires_days_max = 3_660;
/** Packs bought in one purchase, at most. */
export const purchase_packs_max = 10_000;
/** Years a cycle name (`YYYY-MM`) may give: the cycle after 9998-12 must still have a four-digit year. */
export const cycle_year_min = 1970;
export const cycle_year_max = 9998;
/** How far in the future a usage event may be stamped (clock skew between systems). */
export const event_future_skew_ms_max = 5 * 60_000;
/** Entries listed by a history page. */
export const history_entries_max = 50;
/** Seats reset in one transaction: large enough to be fast, small enough to hold locks briefly. */
export const reset_seats_per_transaction_max = 5_000;
/** Transactions one reset run keeps going at once: one per core of a small server. */
export const reset_workers = 2;
