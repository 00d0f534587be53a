-- The cycle reset as one server-side function: for every seat given, set-based, the new cycle's
-- balance row, one grant per plan the seat holds (SPEC "Stacking") and per recurring pack, each
-- plan's and pack's rollover within its cap, and one-time packs' credits carried to their own
-- expiry; one journal entry of transfers; and the seat moved into the cycle with a compare-and-set
-- on the cycle it left. The caller holds the seats' locks and computed their new cycles (the
-- calendar lives in Node: src/ledger/cycles.ts). Returns how many seats moved.
CREATE OR REPLACE FUNCTION creditdesk_reset_seats(
  p_now timestamptz,
  -- [{s: seat id, p: the cycle_start it leaves, c: the new cycle's start, e: its end}]
  p_seats json
) RETURNS int
LANGUAGE plpgsql
-- Every read is by key (see creditdesk_apply_usage).
SET enable_seqscan = off
SET jit = off
AS $fn$
DECLARE
  v_journal bigint;
  v_due int;
  v_moved int;
BEGIN
  SELECT count(*) INTO v_due FROM json_array_elements(p_seats);
  IF v_due = 0 THEN
    RETURN 0;
  END IF;
  v_journal := nextval('journal_id_seq'::regclass);
  INSERT INTO journal (id, kind, occurred_at, created_at) VALUES (v_journal, 'reset', p_now, p_now);

  WITH due AS (
    SELECT d.s AS seat_id, d.p AS prev, d.c AS cstart, d.e AS cend
    FROM json_to_recordset(p_seats) AS d(s int, p timestamptz, c timestamptz, e timestamptz)),
  -- What the cycle left: its open grants with credits, oldest first.
  old AS (
    SELECT g.id, due.seat_id, g.pack_id, g.plan_key, g.source, g.remaining
    FROM due CROSS JOIN LATERAL (
      SELECT gg.id, gg.pack_id, gg.plan_key, gg.source, gg.remaining FROM grants gg
      WHERE gg.seat_id = due.seat_id AND gg.cycle_start = due.prev AND gg.remaining > 0 AND gg.closed_at IS NULL OFFSET 0) g),
  held AS (
    SELECT due.seat_id, k.id AS pack_id, k.expires_at, pp.kind, pp.credits, pp.rollover_cap
    FROM due CROSS JOIN LATERAL (SELECT kk.id, kk.product_key, kk.expires_at FROM packs kk WHERE kk.seat_id = due.seat_id OFFSET 0) k
    JOIN pack_products pp ON pp.key = k.product_key),
  planned AS (
    SELECT due.seat_id, pl.key AS plan_key, pl.credits, pl.rollover_cap
    FROM due CROSS JOIN LATERAL (SELECT sp.plan_key FROM seat_plans sp WHERE sp.seat_id = due.seat_id OFFSET 0) sp
    JOIN plans pl ON pl.key = sp.plan_key),
  -- Where carried credits go: each plan's and each recurring pack's rollover within its cap, and
  -- a one-time pack still live at the new cycle's start, whole. `rank` orders the new grants.
  targets AS (
    SELECT seat_id, 1 AS rank, plan_key, NULL::int AS pack_id, 'rollover' AS source, rollover_cap AS cap, NULL::timestamptz AS until
    FROM planned WHERE rollover_cap IS NOT NULL
    UNION ALL
    SELECT seat_id, 3, NULL, pack_id, 'rollover', rollover_cap, NULL FROM held WHERE kind = 'recurring' AND rollover_cap IS NOT NULL
    UNION ALL
    SELECT h.seat_id, 2, NULL, h.pack_id, 'pack', 9223372036854775807, h.expires_at
    FROM held h JOIN due ON due.seat_id = h.seat_id WHERE h.kind = 'one_time' AND h.expires_at > due.cstart),
  -- Each source grant's part, taken oldest first until the target's cap is reached.
  moves AS (
    SELECT q.*, least(q.remaining, greatest(0, q.cap - q.before)) AS take
    FROM (
      SELECT o.id AS from_id, o.remaining, t.seat_id, t.rank, t.plan_key, t.pack_id, t.cap,
             coalesce(sum(o.remaining) OVER (PARTITION BY t.seat_id, t.rank, t.plan_key, t.pack_id ORDER BY o.id
                                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
      FROM targets t JOIN old o ON o.seat_id = t.seat_id
        AND ((t.pack_id IS NULL AND o.pack_id IS NULL AND o.plan_key = t.plan_key AND o.source IN ('plan', 'rollover'))
             OR (t.pack_id IS NOT NULL AND o.pack_id = t.pack_id))) q),
  carried AS (
    SELECT seat_id, rank, plan_key, pack_id, sum(take)::bigint AS amount FROM moves WHERE take > 0 GROUP BY seat_id, rank, plan_key, pack_id),
  -- The new cycle's grants: issued (plans, recurring packs) or carried; none of 0 credits.
  fresh AS (
    SELECT seat_id, 0 AS rank, plan_key, NULL::int AS pack_id, 'plan' AS source, credits AS amount, true AS issued FROM planned WHERE credits > 0
    UNION ALL
    SELECT seat_id, 2, NULL, pack_id, 'pack', credits, true FROM held WHERE kind = 'recurring' AND credits > 0
    UNION ALL
    SELECT c.seat_id, c.rank, c.plan_key, c.pack_id, t.source, c.amount, false
    FROM carried c JOIN targets t ON t.seat_id = c.seat_id AND t.rank = c.rank
      AND t.plan_key IS NOT DISTINCT FROM c.plan_key AND t.pack_id IS NOT DISTINCT FROM c.pack_id),
  numbered AS (
    SELECT nextval('grants_id_seq'::regclass) AS id, f.* FROM (
      SELECT f.*, due.cstart, due.cend, least(due.cend, coalesce(t.until, due.cend)) AS expires
      FROM fresh f JOIN due ON due.seat_id = f.seat_id
      LEFT JOIN targets t ON NOT f.issued AND t.seat_id = f.seat_id AND t.rank = f.rank
        AND t.plan_key IS NOT DISTINCT FROM f.plan_key AND t.pack_id IS NOT DISTINCT FROM f.pack_id
      ORDER BY f.seat_id, f.rank, f.plan_key, f.pack_id) f),
  new_grants AS (
    INSERT INTO grants (id, source, seat_id, pack_id, plan_key, cycle_start, starts_at, expires_at, amount, remaining, created_at)
    SELECT id, source, seat_id, pack_id, plan_key, cstart, cstart, expires, amount, amount, p_now FROM numbered
    RETURNING id),
  taken AS (
    UPDATE grants g SET remaining = g.remaining - m.take FROM moves m WHERE g.id = m.from_id AND m.take > 0
    RETURNING g.id),
  moved_credits AS (
    INSERT INTO transfers (journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount)
    SELECT v_journal, 'issuance', NULL, 'grant', n.id, n.amount FROM numbered n WHERE n.issued
    UNION ALL
    SELECT v_journal, 'grant', m.from_id, 'grant', n.id, m.take
    FROM moves m JOIN numbered n ON NOT n.issued AND n.seat_id = m.seat_id AND n.rank = m.rank
      AND n.plan_key IS NOT DISTINCT FROM m.plan_key AND n.pack_id IS NOT DISTINCT FROM m.pack_id
    WHERE m.take > 0
    RETURNING 1),
  opened AS (
    INSERT INTO seat_cycles (seat_id, cycle_start, cycle_end, quota, remaining)
    SELECT due.seat_id, due.cstart, due.cend, coalesce(q.total, 0), coalesce(q.total, 0)
    FROM due LEFT JOIN (SELECT seat_id, sum(amount)::bigint AS total FROM numbered GROUP BY seat_id) q ON q.seat_id = due.seat_id
    RETURNING 1),
  -- What was carried leaves the old cycle's quota, as every transfer out of a seat's grant other
  -- than by use or expiry does (post.ts's seatCycleEffects).
  shrunk AS (
    UPDATE seat_cycles c SET quota = c.quota - x.amount, remaining = c.remaining - x.amount
    FROM (SELECT m.seat_id, sum(m.take)::bigint AS amount FROM moves m WHERE m.take > 0 GROUP BY m.seat_id) x
    JOIN due ON due.seat_id = x.seat_id
    WHERE c.seat_id = x.seat_id AND c.cycle_start = due.prev
    RETURNING 1),
  moved AS (
    UPDATE seats s SET cycle_start = due.cstart, cycle_end = due.cend FROM due
    WHERE s.id = due.seat_id AND s.cycle_start = due.prev
    RETURNING s.id)
  SELECT (SELECT count(*) FROM moved) + 0 * ((SELECT count(*) FROM new_grants) + (SELECT count(*) FROM taken)
         + (SELECT count(*) FROM moved_credits) + (SELECT count(*) FROM opened) + (SELECT count(*) FROM shrunk))
    INTO v_moved;
  IF v_moved <> v_due THEN
    RAISE EXCEPTION 'a locked seat changed cycle under its lock (% of % moved)', v_moved, v_due;
  END IF;
  RETURN v_moved;
END
$fn$;
