-- The usage function of 0009_usage_function_repeats.sql, the same rules at a lower cost per call:
-- - its statements keep one generic plan per connection (plan_cache_mode): the plan cache made a
--   custom plan again on most calls, a third of the database's time for one-event calls;
-- - each set of arrays is aggregated from one subquery sorted once, not sorted per array;
-- - the seats are locked and read in one statement;
-- - the outcomes come back as one array per field (status, own, pool, ...) instead of an array
--   per event, and the seats' part from what was read, not read again, in full only for the
--   seats a refusal names;
-- - seats are locked where step 1 found them (ctid; by id if one moved since), and grants and
--   balance rows written where step 4 read them: an index descent less for each;
-- - the events' JSON is parsed once.
-- The signature is unchanged.
CREATE OR REPLACE FUNCTION creditdesk_apply_usage(
  p_now timestamptz,
  p_grace_ms bigint,
  -- The zone of a tool that sets none (ORG_TIMEZONE).
  p_default_zone text,
  -- The events, in order: [{i: id, s: Slack id, e: lower-case email, t: tool key, c: credits,
  -- a: time, m: enforce mode, f: feature, x: source, p: drawn from the pool first}], nulls where
  -- absent. `p` is for vendors that report what a member drew from the plan-level pool apart
  -- from their own credits (Figma's plan_credits_sum): such an event skips the member's own grants.
  p_events json,
  -- False once the caller has issued what a first call found not yet issued.
  p_check_due boolean,
  -- Null when the caller runs this in its own transaction and raises threshold alerts itself.
  -- Else the call is a statement of its own (its own transaction: one round trip instead of
  -- three), and the member thresholds (percent of quota) and the lowest pool and budget threshold
  -- say when the batch would cross one: then nothing is written and {"alerts": true} tells the
  -- caller to run it in a transaction that raises them.
  p_thresholds int[],
  p_shared_threshold int
) RETURNS json
LANGUAGE plpgsql
-- Every table this function reads it reads by key, a few rows per event: an index probe is right
-- whatever the planner's statistics say of a table that grew since it last looked (a stale
-- estimate made it read whole tables, seats and balance rows, for a batch of a thousand events).
-- And the costs that makes up must not wake the JIT compiler: it would spend more compiling
-- each statement than running it.
SET enable_seqscan = off
SET jit = off
-- Its statements are planned once per connection and kept: the plan cache would otherwise plan
-- a custom plan again on every call for most of them, a third of a small batch's time.
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
  v_grace interval := make_interval(secs => p_grace_ms / 1000.0);
  n int;
  -- Events, by ordinal.
  p_ids text[];
  p_tool text[];
  p_credits bigint[];
  p_at timestamptz[];
  p_enforce boolean[];
  p_poolfirst boolean[];
  p_feature text[];
  p_source text[];
  e_seat int[];
  -- Where each event's seat row stood when it was looked up (ctid), to lock it without another
  -- index descent.
  e_tid tid[];
  -- Outcome: -1 undecided, 0 applied, 1 duplicate of a stored event, 2 duplicate of an event
  -- earlier in this batch (e_ref), 3 refused (e_code says why), 4 a late event outside the seat's
  -- recent cycles, whose cycle the caller's calendar tells too late or unheld.
  e_status smallint[];
  -- Refusals: 1 no tool named among several, 2 no such tool, 3 no seat, 4 seat revoked, 5 a
  -- cycle not started, 6 the daily limit, 7-10 does not fit (own; + pool; + budget; + both).
  e_code smallint[];
  e_slot int[];
  e_prev int[];
  e_dup boolean[];
  e_cycle int[];
  e_day int[];
  e_date date[];
  e_own bigint[];
  e_poolx bigint[];
  e_over bigint[];
  e_overday bigint[];
  e_x1 bigint[];
  e_x2 bigint[];
  e_x3 bigint[];
  e_ref int[];
  -- Seats, by slot (their id order).
  s_id int[];
  s_active boolean[];
  s_start timestamptz[];
  s_end timestamptz[];
  s_limit bigint[];
  s_tool text[];
  s_zone text[];
  s_profile text[];
  s_gfirst int[];
  s_glast int[];
  s_cfirst int[];
  s_clast int[];
  s_need boolean[];
  s_ask bigint[];
  s_revoked timestamptz[];
  s_anchor int[];
  m int := 0;
  -- The seats' own grants, by seat and in the consumption order.
  g_id bigint[];
  g_slot int[];
  g_starts timestamptz[];
  g_expires timestamptz[];
  g_left bigint[];
  -- Where each row stands (ctid), to write it again without another index descent; and what
  -- each grant held before this batch.
  g_tid tid[];
  g_orig bigint[];
  g_n int;
  -- Balance rows of the seats' recent cycles.
  c_slot int[];
  c_start timestamptz[];
  c_end timestamptz[];
  c_quota bigint[];
  c_consumed bigint[];
  c_alerts smallint[];
  c_tid tid[];
  c_own bigint[];
  c_pool bigint[];
  c_over bigint[];
  c_n int;
  -- Pool and overage-budget grants the batch may draw on (x_pool true for a pool).
  x_id bigint[];
  x_pool boolean[];
  x_amount bigint[];
  x_left bigint[];
  x_orig bigint[];
  x_cap bigint[];
  x_starts timestamptz[];
  x_expires timestamptz[];
  x_tid tid[];
  x_owner text[];
  x_n int := 0;
  -- What each seat slot drew from each pool: (x index - 1) * m + slot.
  pd_used bigint[];
  pd_new bigint[];
  -- Daily-limit rows (seat slot, day).
  d_slot int[];
  d_day date[];
  d_used bigint[];
  d_over bigint[];
  d_new bigint[];
  d_overnew bigint[];
  d_missing boolean[];
  d_ends timestamptz[];
  d_n int := 0;
  -- Transfers: the journal entry (by event ordinal), the grant drawn (null: the overage account).
  t_ord int[] := '{}';
  t_grant bigint[] := '{}';
  t_amount bigint[] := '{}';
  t_n int := 0;
  v_only_tool text;
  v_any_limit boolean;
  need_shared boolean := false;
  i int;
  j int;
  k int;
  slot int;
  v_at timestamptz;
  v_left bigint;
  v_take bigint;
  v_own bigint;
  v_pool int;
  v_budget int;
  v_pool_avail bigint;
  v_budget_avail bigint;
  v_due_profiles text[];
  v_due_tools text[];
  v_day_left bigint;
  v_over_day bigint;
  v_applied int := 0;
  v_stale int[] := '{}';
  v_ids bigint[];
  v_rows int;
  -- Grants and balance rows the batch draws on, counted as it first draws on each.
  v_grants_drawn int := 0;
  v_cycles_drawn int := 0;
BEGIN
  -- 1. The events, and each one's seat: the tool it names, else the org's only tool; one index
  --    probe for the member and one for the seat.
  SELECT count(*), min(key), EXISTS (SELECT 1 FROM plans WHERE daily_limit IS NOT NULL) INTO n, v_only_tool, v_any_limit FROM tools;
  IF n <> 1 THEN
    v_only_tool := NULL;
  END IF;
  --    Every array below is aggregated from one subquery sorted once (PostgreSQL's documented way
  --    to feed aggregates in order; an ORDER BY in each aggregate would sort once per array).
  SELECT array_agg(q.i), array_agg(q.t), array_agg(q.c), array_agg(q.a), array_agg(q.m), array_agg(q.p), array_agg(q.seat), array_agg(q.code),
         array_agg(q.f), array_agg(q.x), array_agg(q.tid)
    INTO p_ids, p_tool, p_credits, p_at, p_enforce, p_poolfirst, e_seat, e_code, p_feature, p_source, e_tid
  FROM (
    SELECT ev.i, coalesce(ev.t, v_only_tool) AS t, ev.c, coalesce(ev.a, p_now) AS a, coalesce(ev.m, false) AS m, coalesce(ev.p, false) AS p,
           coalesce(x.seat, 0) AS seat, ev.f, ev.x, x.tid,
           CASE WHEN coalesce(ev.t, v_only_tool) IS NULL THEN 1
                WHEN NOT EXISTS (SELECT 1 FROM tools tl WHERE tl.key = ev.t) AND ev.t IS NOT NULL THEN 2
                WHEN x.seat IS NULL THEN 3 ELSE 0 END::smallint AS code
    FROM ROWS FROM (json_to_recordset(p_events) AS (i text, s text, e text, t text, c bigint, a timestamptz, m boolean, f text, x text, p boolean))
         WITH ORDINALITY AS ev(i, s, e, t, c, a, m, f, x, p, ord)
    LEFT JOIN LATERAL (
      SELECT st.id AS seat, st.ctid AS tid FROM members mb JOIN seats st ON st.member_id = mb.id AND st.tool_key = coalesce(ev.t, v_only_tool)
      WHERE ev.s IS NOT NULL AND mb.slack_id = ev.s
      UNION ALL
      SELECT st.id, st.ctid FROM members mb JOIN seats st ON st.member_id = mb.id AND st.tool_key = coalesce(ev.t, v_only_tool)
      WHERE ev.s IS NULL AND lower(mb.email) = ev.e) x ON true
    ORDER BY ev.ord) q;
  n := coalesce(cardinality(p_ids), 0);
  IF n = 0 THEN
    RETURN json_build_object('status', '[]'::json);
  END IF;
  e_status := array_fill(-1::smallint, array[n]);
  e_own := array_fill(0::bigint, array[n]);
  e_poolx := e_own;
  e_over := e_own;
  e_overday := e_own;
  e_x1 := e_own;
  e_x2 := e_own;
  e_x3 := e_own;
  e_ref := array_fill(0, array[n]);
  e_cycle := e_ref;
  e_day := e_ref;
  FOR i IN 1..n LOOP
    IF e_code[i] <> 0 THEN
      e_status[i] := 3;
    END IF;
  END LOOP;

  -- 2. Lock the seats in id order (every writer does) and read them: status, cycle, tool and its
  --    zone, profile, and the daily limit their plans stack up to (SPEC "Daily limits": a plan
  --    without one lifts it).
  --    The rows are read as locked (FOR UPDATE returns each seat as it stands once locked), found
  --    where step 1 saw them. A seat updated since has moved: then all are locked by id instead
  --    (out of id order for those locked by then: a deadlock this rare is detected by PostgreSQL
  --    and the batch run again).
  SELECT array_agg(q.id), array_agg(q.status = 'active'), array_agg(q.cycle_start), array_agg(q.cycle_end), array_agg(q.tool_key),
         array_agg((SELECT coalesce(tl.time_zone, p_default_zone) FROM tools tl WHERE tl.key = q.tool_key)),
         array_agg(coalesce(q.profile_key, '')),
         array_agg(coalesce(CASE WHEN v_any_limit THEN (
                     SELECT CASE WHEN bool_and(pl.daily_limit IS NOT NULL) THEN sum(pl.daily_limit)::bigint END
                     FROM seat_plans sp JOIN plans pl ON pl.key = sp.plan_key WHERE sp.seat_id = q.id) END, -1)),
         coalesce(array_agg(q.id) FILTER (WHERE q.status = 'active' AND q.cycle_end <= p_now), '{}'),
         array_agg(q.revoked_at), array_agg(q.anchor_day)
    INTO s_id, s_active, s_start, s_end, s_tool, s_zone, s_profile, s_limit, v_stale, s_revoked, s_anchor
  FROM (SELECT st.id, st.status, st.cycle_start, st.cycle_end, st.tool_key, st.profile_key, st.revoked_at, st.anchor_day
        FROM seats st WHERE st.ctid = ANY (e_tid) ORDER BY st.id FOR UPDATE) q;
  -- The seats locked must be exactly those looked up (a moved row is missing, and its place may
  -- hold another row by now).
  IF s_id IS DISTINCT FROM (SELECT array_agg(DISTINCT u ORDER BY u) FROM unnest(e_seat) AS u WHERE u > 0) THEN
    SELECT array_agg(q.id), array_agg(q.status = 'active'), array_agg(q.cycle_start), array_agg(q.cycle_end), array_agg(q.tool_key),
           array_agg((SELECT coalesce(tl.time_zone, p_default_zone) FROM tools tl WHERE tl.key = q.tool_key)),
           array_agg(coalesce(q.profile_key, '')),
           array_agg(coalesce(CASE WHEN v_any_limit THEN (
                       SELECT CASE WHEN bool_and(pl.daily_limit IS NOT NULL) THEN sum(pl.daily_limit)::bigint END
                       FROM seat_plans sp JOIN plans pl ON pl.key = sp.plan_key WHERE sp.seat_id = q.id) END, -1)),
           coalesce(array_agg(q.id) FILTER (WHERE q.status = 'active' AND q.cycle_end <= p_now), '{}'),
           array_agg(q.revoked_at), array_agg(q.anchor_day)
      INTO s_id, s_active, s_start, s_end, s_tool, s_zone, s_profile, s_limit, v_stale, s_revoked, s_anchor
    FROM (SELECT st.id, st.status, st.cycle_start, st.cycle_end, st.tool_key, st.profile_key, st.revoked_at, st.anchor_day
          FROM seats st WHERE st.id IN (SELECT u FROM unnest(e_seat) AS u WHERE u > 0) ORDER BY st.id FOR UPDATE) q;
  END IF;
  m := coalesce(cardinality(s_id), 0);
  IF cardinality(v_stale) > 0 THEN
    -- A seat whose cycle ended before the reset reached it: the caller resets it under this
    -- transaction's lock and calls again.
    RETURN json_build_object('stale', v_stale);
  END IF;

  -- 3. Slots, repeats of an earlier event in the batch, and events already stored.
  SELECT array_agg(z.slot), array_agg(z.prev), array_agg(z.dup)
    INTO e_slot, e_prev, e_dup
  FROM (SELECT coalesce(q.slot, 0) AS slot, coalesce(k.prev, 0) AS prev, j.id IS NOT NULL AS dup
        FROM (SELECT u.id, u.seat, u.ord, lag(u.ord) OVER (PARTITION BY u.id ORDER BY u.ord) AS prev
              FROM unnest(p_ids, e_seat) WITH ORDINALITY AS u(id, seat, ord)) k
        LEFT JOIN unnest(s_id) WITH ORDINALITY AS q(id, slot) ON q.id = k.seat
        LEFT JOIN LATERAL (SELECT jj.id FROM journal jj WHERE jj.event_key = k.id OFFSET 0) j ON true
        ORDER BY k.ord) z;
  FOR i IN 1..n LOOP
    IF e_dup[i] THEN
      e_status[i] := 1;
    ELSIF e_status[i] < 0 AND NOT s_active[e_slot[i]] THEN
      e_status[i] := 3;
      e_code[i] := 4;
    END IF;
  END LOOP;

  -- 4. The seats' open own grants with credits left, in the consumption order (SPEC "Consumption
  --    order": soonest expiry, then plan, rollover, pack, manual, then oldest), and the balance
  --    rows of their recent cycles: the current one and those still in their grace window. Open
  --    grants belong to the current cycle or the one before it (the expiry sweep closes older ones).
  SELECT array_agg(q.id), array_agg(q.slot), array_agg(q.starts_at), array_agg(q.expires_at), array_agg(q.remaining), array_agg(q.ctid)
    INTO g_id, g_slot, g_starts, g_expires, g_left, g_tid
  FROM (SELECT g.id, v.slot, g.starts_at, g.expires_at, g.remaining, g.ctid
  FROM unnest(s_id) WITH ORDINALITY AS v(id, slot)
  CROSS JOIN LATERAL (
    -- The seat's grants through grants_seat_idx alone: its two or three recent rows. The open and
    -- unspent test is outside the OFFSET 0 fence, so the planner cannot AND in the partial index
    -- of every open grant (grants_open_expiry_idx): it did, reading 190,000 index entries per seat
    -- (10 ms) where a handful would do, and single-event batches were bound by it.
    SELECT o.id, o.starts_at, o.expires_at, o.remaining, o.rank, o.ctid
    FROM (SELECT gg.id, gg.starts_at, gg.expires_at, gg.remaining, gg.closed_at, gg.ctid,
                 CASE gg.source WHEN 'plan' THEN 0 WHEN 'rollover' THEN 1 WHEN 'pack' THEN 2 ELSE 3 END AS rank
          FROM grants gg
          WHERE gg.seat_id = v.id AND gg.cycle_start > p_now - v_grace - interval '63 days'
          OFFSET 0) o
    WHERE o.remaining > 0 AND o.closed_at IS NULL) g
  ORDER BY v.slot, g.expires_at, g.rank, g.id) q;
  g_n := coalesce(cardinality(g_id), 0);
  g_orig := g_left;
  SELECT array_agg(q.slot), array_agg(q.cycle_start), array_agg(q.cycle_end), array_agg(q.quota), array_agg(q.consumed), array_agg(q.alerts_sent),
         array_agg(q.ctid)
    INTO c_slot, c_start, c_end, c_quota, c_consumed, c_alerts, c_tid
  FROM (SELECT v.slot, c.cycle_start, c.cycle_end, c.quota, c.used + c.pool_used + c.overage AS consumed, c.alerts_sent, c.ctid
  FROM unnest(s_id, s_start) WITH ORDINALITY AS v(id, start, slot)
  CROSS JOIN LATERAL (
    SELECT cc.cycle_start, cc.cycle_end, cc.quota, cc.used, cc.pool_used, cc.overage, cc.alerts_sent, cc.ctid
    -- A seat's cycles follow each other without overlap: once the current one began before the
    -- grace window, no earlier one ends inside it, and the index scan starts at the current one.
    FROM seat_cycles cc
    WHERE cc.seat_id = v.id AND cc.cycle_end > p_now - v_grace
      AND cc.cycle_start >= CASE WHEN v.start <= p_now - v_grace THEN v.start ELSE p_now - v_grace - interval '63 days' END
    OFFSET 0) c
  ORDER BY v.slot, c.cycle_start) q;
  c_n := coalesce(cardinality(c_slot), 0);
  c_own := array_fill(0::bigint, array[greatest(c_n, 1)]);
  c_pool := c_own;
  c_over := c_own;
  s_gfirst := array_fill(1, array[greatest(m, 1)]);
  s_glast := array_fill(0, array[greatest(m, 1)]);
  s_cfirst := s_gfirst;
  s_clast := s_glast;
  FOR k IN 1..g_n LOOP
    IF k = 1 OR g_slot[k] <> g_slot[k - 1] THEN
      s_gfirst[g_slot[k]] := k;
    END IF;
    s_glast[g_slot[k]] := k;
  END LOOP;
  FOR k IN 1..c_n LOOP
    IF k = 1 OR c_slot[k] <> c_slot[k - 1] THEN
      s_cfirst[c_slot[k]] := k;
    END IF;
    s_clast[c_slot[k]] := k;
  END LOOP;

  -- 5. Each event's cycle: the seat's current one, or a closed one still in its grace window (a
  --    late event). An event at or after the seat's cycle end has not started (code 5); an older
  --    one is left to the caller (status 4). What each seat asks for, to know whether it may need
  --    its pool or the tool's overage budget.
  s_need := array_fill(false, array[greatest(m, 1)]);
  s_ask := array_fill(0::bigint, array[greatest(m, 1)]);
  FOR i IN 1..n LOOP
    CONTINUE WHEN e_status[i] >= 0;
    slot := e_slot[i];
    v_at := p_at[i];
    IF v_at >= s_end[slot] THEN
      e_status[i] := 3;
      e_code[i] := 5;
      CONTINUE;
    END IF;
    FOR k IN s_cfirst[slot]..s_clast[slot] LOOP
      IF c_start[k] <= v_at AND v_at < c_end[k] THEN
        e_cycle[i] := k;
      END IF;
    END LOOP;
    IF e_cycle[i] = 0 THEN
      e_status[i] := 4;
      CONTINUE;
    END IF;
    s_ask[slot] := s_ask[slot] + p_credits[i];
    IF v_at < s_start[slot] OR p_poolfirst[i] THEN
      s_need[slot] := true; -- a late or pool-first event may need the pool, whatever is left now
    END IF;
  END LOOP;

  -- 6. Pools and overage budgets, locked only when a seat may need them (its events ask for
  --    more than its own credits live now, or one is late): after the seats, in grant id order.
  FOR slot IN 1..m LOOP
    v_left := 0;
    FOR k IN s_gfirst[slot]..s_glast[slot] LOOP
      IF g_starts[k] <= p_now AND p_now < g_expires[k] THEN
        v_left := v_left + g_left[k];
      END IF;
    END LOOP;
    IF s_ask[slot] > v_left THEN
      s_need[slot] := true;
    END IF;
    need_shared := need_shared OR s_need[slot];
  END LOOP;
  IF need_shared THEN
    SELECT array_agg(DISTINCT gg.id) INTO x_id
    FROM unnest(s_id, s_need) AS v(id, need)
    JOIN seats st ON st.id = v.id
    LEFT JOIN profiles p ON p.key = st.profile_key
    CROSS JOIN LATERAL (
      SELECT g2.id FROM grants g2
      WHERE g2.source = 'pool' AND g2.profile_key = st.profile_key AND g2.remaining > 0 AND coalesce(p.pool_credits, 0) > 0
        AND g2.expires_at > p_now - v_grace
      UNION ALL
      -- A spent budget is read too, so a refusal can name it.
      SELECT g3.id FROM grants g3 WHERE g3.source = 'budget' AND g3.tool_key = st.tool_key AND g3.expires_at > p_now - v_grace) gg
    WHERE v.need;
    PERFORM 1 FROM grants g WHERE g.id = ANY (x_id) ORDER BY g.id FOR UPDATE;
    SELECT array_agg(g.id ORDER BY g.id), array_agg(g.source = 'pool' ORDER BY g.id), array_agg(g.amount ORDER BY g.id),
           array_agg(g.remaining ORDER BY g.id), array_agg(coalesce(pr.member_pool_cap, -1) ORDER BY g.id),
           array_agg(g.starts_at ORDER BY g.id), array_agg(g.expires_at ORDER BY g.id), array_agg(coalesce(g.profile_key, g.tool_key) ORDER BY g.id),
           array_agg(g.ctid ORDER BY g.id)
      INTO x_id, x_pool, x_amount, x_left, x_cap, x_starts, x_expires, x_owner, x_tid
    FROM grants g LEFT JOIN profiles pr ON pr.key = g.profile_key
    WHERE g.id = ANY (x_id);
    x_n := coalesce(cardinality(x_id), 0);
    -- A pool or budget of the current tool cycle not issued yet (the first batch after a
    -- boundary, before the cycle job): the caller issues it and calls again. Judged from the
    -- grants just locked, not a fresh look: one committed since would be missing from them.
    IF p_check_due THEN
      -- Only the pools and budgets the batch needs are issued here, as a separate call per key
      -- would: the others wait for the cycle job or the first batch that needs them.
      SELECT coalesce(array_agg(DISTINCT p.key) FILTER (WHERE coalesce(p.pool_credits, 0) > 0 AND NOT EXISTS (
               SELECT 1 FROM unnest(x_pool, x_owner, x_starts, x_expires) AS x(pool, owner, starts, expires)
               WHERE x.pool AND x.owner = p.key AND x.starts <= p_now AND p_now < x.expires)), '{}'),
             coalesce(array_agg(DISTINCT tl.key) FILTER (WHERE tl.overage_budget IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM unnest(x_pool, x_owner, x_starts, x_expires) AS x(pool, owner, starts, expires)
               WHERE NOT x.pool AND x.owner = tl.key AND x.starts <= p_now AND p_now < x.expires)), '{}')
        INTO v_due_profiles, v_due_tools
      FROM unnest(s_id, s_need) AS v(id, need) JOIN seats st ON st.id = v.id JOIN tools tl ON tl.key = st.tool_key
      LEFT JOIN profiles p ON p.key = st.profile_key
      WHERE v.need;
      IF cardinality(v_due_profiles) > 0 OR cardinality(v_due_tools) > 0 THEN
        RETURN json_build_object('due', json_build_object('profiles', v_due_profiles, 'tools', v_due_tools));
      END IF;
    END IF;
  END IF;
  IF x_n > 0 THEN
    x_orig := x_left;
    pd_used := array_fill(0::bigint, array[x_n * m]);
    pd_new := pd_used;
    FOR k, slot, v_take IN
      SELECT x.idx, v.slot, d.used FROM unnest(x_id) WITH ORDINALITY AS x(id, idx)
      JOIN pool_draws d ON d.pool_grant_id = x.id
      JOIN unnest(s_id) WITH ORDINALITY AS v(id, slot) ON v.id = d.seat_id
    LOOP
      pd_used[(k - 1) * m + slot] := v_take;
    END LOOP;
  END IF;

  -- 7. Each event's day in its tool's zone (what daily limits count); for daily-limited seats,
  --    their use on those days. A day with no row yet starts from what the seat's usage entries
  --    add up to that day.
  IF v_any_limit THEN
    SELECT array_agg((e.at AT TIME ZONE s_zone[e.slot])::date ORDER BY e.ord) INTO e_date
    FROM unnest(e_slot, p_at) WITH ORDINALITY AS e(slot, at, ord);
    SELECT array_agg(q.slot ORDER BY q.slot, q.day), array_agg(q.day ORDER BY q.slot, q.day) INTO d_slot, d_day
    FROM (SELECT DISTINCT e.slot, e.day FROM unnest(e_slot, e_date, e_status) AS e(slot, day, status)
          WHERE e.status < 0 AND s_limit[e.slot] >= 0) q;
    d_n := coalesce(cardinality(d_slot), 0);
  END IF;
  IF d_n > 0 THEN
    SELECT array_agg(coalesce(sd.used, jj.used) ORDER BY w.idx), array_agg(coalesce(sd.over_limit, jj.over) ORDER BY w.idx),
           array_agg(sd.seat_id IS NULL ORDER BY w.idx), array_agg(((w.day + 1)::timestamp AT TIME ZONE s_zone[w.slot]) ORDER BY w.idx)
      INTO d_used, d_over, d_missing, d_ends
    FROM unnest(d_slot, d_day) WITH ORDINALITY AS w(slot, day, idx)
    LEFT JOIN seat_days sd ON sd.seat_id = s_id[w.slot] AND sd.day = w.day
    LEFT JOIN LATERAL (
      SELECT coalesce(sum(j.credits), 0)::bigint AS used, coalesce(sum(j.over_daily_limit), 0)::bigint AS over
      FROM journal j WHERE sd.seat_id IS NULL AND j.seat_id = s_id[w.slot] AND j.kind = 'usage' AND j.day = w.day) jj ON true;
    d_new := array_fill(0::bigint, array[d_n]);
    d_overnew := d_new;
    INSERT INTO seat_days (seat_id, day, used, over_limit)
    SELECT s_id[w.slot], w.day, w.used, w.over FROM unnest(d_slot, d_day, d_used, d_over, d_missing) AS w(slot, day, used, over, missing)
    WHERE w.missing;
    FOR i IN 1..n LOOP
      CONTINUE WHEN e_status[i] >= 0 OR s_limit[e_slot[i]] < 0;
      FOR k IN 1..d_n LOOP
        IF d_slot[k] = e_slot[i] AND d_day[k] = e_date[i] THEN
          e_day[i] := k;
          EXIT;
        END IF;
      END LOOP;
    END LOOP;
  END IF;

  -- 8. Each event in order: repeats, the daily limit, own grants, the pool within the member's
  --    cap, the overage budget; in enforce mode an event that does not fit whole is refused.
  FOR i IN 1..n LOOP
    -- A repeat of an event applied earlier in the batch is that event again, whatever would
    -- refuse it on its own (a revoked seat, another member, a late time): an id is applied once
    -- and answers its first outcome (SPEC "Idempotency"), as a repeat already stored does.
    IF (e_status[i] = -1 OR e_status[i] >= 3) AND e_prev[i] > 0 THEN
      j := e_prev[i];
      WHILE j > 0 AND e_status[j] <> 0 LOOP
        j := e_prev[j];
      END LOOP;
      IF j > 0 THEN
        e_status[i] := 2;
        e_ref[i] := j;
      END IF;
    END IF;
    CONTINUE WHEN e_status[i] <> -1;
    slot := e_slot[i];
    v_at := p_at[i];
    v_over_day := 0;
    IF e_day[i] > 0 THEN
      v_day_left := greatest(0, s_limit[slot] - d_used[e_day[i]] - d_new[e_day[i]]);
      IF p_credits[i] > v_day_left THEN
        IF p_enforce[i] THEN
          e_status[i] := 3;
          e_code[i] := 6;
          e_x1[i] := s_limit[slot];
          e_x2[i] := d_used[e_day[i]] + d_new[e_day[i]];
          e_x3[i] := (extract(epoch FROM d_ends[e_day[i]]) * 1000)::bigint;
          CONTINUE;
        END IF;
        v_over_day := p_credits[i] - v_day_left;
      END IF;
    END IF;
    v_own := 0;
    -- What the member's own grants hold at the event's time decides only whether an enforce-mode
    -- event fits; a recorded one is drawn below whatever they hold.
    IF p_enforce[i] AND NOT p_poolfirst[i] THEN
      FOR k IN s_gfirst[slot]..s_glast[slot] LOOP
        IF g_starts[k] <= v_at AND v_at < g_expires[k] THEN
          v_own := v_own + g_left[k];
        END IF;
      END LOOP;
    END IF;
    v_pool := 0;
    v_budget := 0;
    v_pool_avail := 0;
    v_budget_avail := 0;
    IF s_need[slot] THEN
      FOR k IN 1..x_n LOOP
        IF x_starts[k] <= v_at AND v_at < x_expires[k] THEN
          IF x_pool[k] AND x_owner[k] = s_profile[slot] THEN
            v_pool := k;
          ELSIF NOT x_pool[k] AND x_owner[k] = s_tool[slot] THEN
            v_budget := k;
          END IF;
        END IF;
      END LOOP;
      IF v_pool > 0 THEN
        v_pool_avail := x_left[v_pool];
        IF x_cap[v_pool] >= 0 THEN
          v_pool_avail := least(v_pool_avail, greatest(0, x_cap[v_pool] - pd_used[(v_pool - 1) * m + slot] - pd_new[(v_pool - 1) * m + slot]));
        END IF;
      END IF;
      IF v_budget > 0 THEN
        v_budget_avail := x_left[v_budget];
      END IF;
    END IF;
    IF p_enforce[i] AND p_credits[i] > v_own + v_pool_avail + v_budget_avail THEN
      e_status[i] := 3;
      e_code[i] := CASE WHEN v_pool > 0 AND v_budget > 0 THEN 10 WHEN v_budget > 0 THEN 9 WHEN v_pool > 0 THEN 8 ELSE 7 END;
      e_x1[i] := v_own;
      e_x2[i] := v_pool_avail;
      e_x3[i] := v_budget_avail;
      CONTINUE;
    END IF;
    v_left := p_credits[i];
    FOR k IN s_gfirst[slot]..s_glast[slot] LOOP
      EXIT WHEN v_left = 0 OR p_poolfirst[i];
      IF g_left[k] > 0 AND g_starts[k] <= v_at AND v_at < g_expires[k] THEN
        IF g_left[k] = g_orig[k] THEN
          v_grants_drawn := v_grants_drawn + 1;
        END IF;
        v_take := least(v_left, g_left[k]);
        g_left[k] := g_left[k] - v_take;
        v_left := v_left - v_take;
        t_n := t_n + 1;
        t_ord[t_n] := i;
        t_grant[t_n] := g_id[k];
        t_amount[t_n] := v_take;
      END IF;
    END LOOP;
    e_own[i] := p_credits[i] - v_left;
    IF v_left > 0 AND v_pool_avail > 0 THEN
      v_take := least(v_left, v_pool_avail);
      IF x_left[v_pool] = x_orig[v_pool] THEN
        v_grants_drawn := v_grants_drawn + 1;
      END IF;
      x_left[v_pool] := x_left[v_pool] - v_take;
      pd_new[(v_pool - 1) * m + slot] := pd_new[(v_pool - 1) * m + slot] + v_take;
      v_left := v_left - v_take;
      e_poolx[i] := v_take;
      t_n := t_n + 1;
      t_ord[t_n] := i;
      t_grant[t_n] := x_id[v_pool];
      t_amount[t_n] := v_take;
    END IF;
    e_over[i] := v_left;
    IF v_left > 0 AND v_budget_avail > 0 THEN
      v_take := least(v_left, v_budget_avail);
      IF x_left[v_budget] = x_orig[v_budget] THEN
        v_grants_drawn := v_grants_drawn + 1;
      END IF;
      x_left[v_budget] := x_left[v_budget] - v_take;
      v_left := v_left - v_take;
      t_n := t_n + 1;
      t_ord[t_n] := i;
      t_grant[t_n] := x_id[v_budget];
      t_amount[t_n] := v_take;
    END IF;
    IF v_left > 0 THEN
      t_n := t_n + 1;
      t_ord[t_n] := i;
      t_grant[t_n] := NULL;
      t_amount[t_n] := v_left;
    END IF;
    e_overday[i] := v_over_day;
    IF e_day[i] > 0 THEN
      d_new[e_day[i]] := d_new[e_day[i]] + p_credits[i];
      d_overnew[e_day[i]] := d_overnew[e_day[i]] + v_over_day;
    END IF;
    k := e_cycle[i];
    IF c_own[k] = 0 AND c_pool[k] = 0 AND c_over[k] = 0 THEN
      v_cycles_drawn := v_cycles_drawn + 1;
    END IF;
    c_own[k] := c_own[k] + e_own[i];
    c_pool[k] := c_pool[k] + e_poolx[i];
    c_over[k] := c_over[k] + e_over[i];
    e_status[i] := 0;
    v_applied := v_applied + 1;
    e_ref[i] := v_applied; -- the applied event's journal ordinal
  END LOOP;

  -- A batch that crosses an alert threshold, called as a statement of its own: written only in
  -- the caller's transaction, with its alerts (see p_thresholds).
  IF p_thresholds IS NOT NULL AND (
       EXISTS (SELECT 1 FROM unnest(c_quota, c_consumed, c_own, c_pool, c_over, c_alerts) AS c(quota, consumed, own, pool, over, alerts)
               WHERE c.own + c.pool + c.over > 0 AND c.quota > 0
                 AND EXISTS (SELECT 1 FROM unnest(p_thresholds) AS t(pct)
                             WHERE t.pct > c.alerts AND t.pct <= (c.consumed + c.own + c.pool + c.over) * 100.0 / c.quota))
       OR EXISTS (SELECT 1 FROM unnest(x_amount, x_left, x_orig) AS x(amount, left_, orig)
                  WHERE x.left_ < x.orig AND x.amount > 0 AND (x.amount - x.left_) * 100.0 / x.amount >= p_shared_threshold)) THEN
    RETURN json_build_object('alerts', true);
  END IF;

  -- 9. The writes: one journal entry per applied event, its transfers, and the grants, balance
  --    rows, pool draws and daily rows they move. The event id is the duplicate check: one
  --    written meanwhile by another transaction makes this one run again.
  IF v_applied > 0 THEN
    SELECT array_agg(nextval('journal_id_seq'::regclass)) INTO v_ids FROM generate_series(1, v_applied);
    BEGIN
      INSERT INTO journal (id, kind, seat_id, cycle_start, occurred_at, created_at, event_key, credits, own_drawn, pool_drawn, overage,
                           feature, source, day, over_daily_limit)
      SELECT v_ids[e_ref[ev.ord]], 'usage', s_id[e_slot[ev.ord]], c_start[e_cycle[ev.ord]], p_at[ev.ord], p_now, ev.i, ev.c,
             e_own[ev.ord], e_poolx[ev.ord], e_over[ev.ord], ev.f, ev.x,
             (p_at[ev.ord] AT TIME ZONE s_zone[e_slot[ev.ord]])::date, nullif(e_overday[ev.ord], 0)
      FROM unnest(p_ids, p_credits, p_feature, p_source) WITH ORDINALITY AS ev(i, c, f, x, ord)
      WHERE e_status[ev.ord] = 0;
    EXCEPTION WHEN unique_violation THEN
      RAISE EXCEPTION 'an event id was written concurrently; run the batch again' USING ERRCODE = '40001';
    END;
    INSERT INTO transfers (journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount)
    SELECT v_ids[e_ref[t.ord]], CASE WHEN t.grant_id IS NULL THEN 'overage' ELSE 'grant' END, t.grant_id, 'consumption', NULL, t.amount
    FROM unnest(t_ord, t_grant, t_amount) AS t(ord, grant_id, amount);
    -- Grants and balance rows are written where they were read (their ctid): no writer changes
    -- them without the seat's lock, held since step 2, or (pools, budgets) the grant's own, taken
    -- in step 6. Should one have moved all the same, fewer rows are written than drawn on, and
    -- the batch is run again rather than applied in part.
    UPDATE grants g SET remaining = g.remaining - (d.orig - d.left_)
    FROM unnest(g_tid, g_orig, g_left) AS d(tid, orig, left_)
    WHERE g.ctid = d.tid AND d.orig <> d.left_;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF x_n > 0 THEN
      UPDATE grants g SET remaining = g.remaining - (d.orig - d.left_)
      FROM unnest(x_tid, x_orig, x_left) AS d(tid, orig, left_)
      WHERE g.ctid = d.tid AND d.orig <> d.left_;
      GET DIAGNOSTICS k = ROW_COUNT;
      v_rows := v_rows + k;
    END IF;
    IF v_rows <> v_grants_drawn THEN
      RAISE EXCEPTION 'a grant moved while the batch held its seat; run the batch again' USING ERRCODE = '40001';
    END IF;
    UPDATE seat_cycles c SET remaining = c.remaining - d.own, used = c.used + d.own, pool_used = c.pool_used + d.pool, overage = c.overage + d.over
    FROM unnest(c_tid, c_own, c_pool, c_over) AS d(tid, own, pool, over)
    WHERE c.ctid = d.tid AND (d.own <> 0 OR d.pool <> 0 OR d.over <> 0);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows <> v_cycles_drawn THEN
      RAISE EXCEPTION 'a balance row moved while the batch held its seat; run the batch again' USING ERRCODE = '40001';
    END IF;
    IF x_n > 0 THEN
      INSERT INTO pool_draws (pool_grant_id, seat_id, used)
      SELECT x_id[(w.idx - 1) / m + 1], s_id[(w.idx - 1) % m + 1], w.used FROM unnest(pd_new) WITH ORDINALITY AS w(used, idx) WHERE w.used > 0
      ON CONFLICT (pool_grant_id, seat_id) DO UPDATE SET used = pool_draws.used + excluded.used;
    END IF;
    IF d_n > 0 THEN
      UPDATE seat_days sd SET used = sd.used + w.used, over_limit = sd.over_limit + w.over
      FROM unnest(d_slot, d_day, d_new, d_overnew) AS w(slot, day, used, over)
      WHERE sd.seat_id = s_id[w.slot] AND sd.day = w.day AND w.used > 0;
    END IF;
  END IF;

  -- 10. Outcomes, as one array per field indexed by event (usage.ts reads them; JSON of whole
  --     arrays is built in C, where an array per event cost a tenth of a large batch's time),
  --     and what the caller needs for threshold alerts.
  RETURN json_build_object(
    'status', e_status, 'own', e_own, 'pool', e_poolx, 'over', e_over, 'overday', e_overday, 'cycle', e_cycle, 'slot', e_slot,
    'ref', e_ref, 'code', e_code, 'x1', e_x1, 'x2', e_x2, 'x3', e_x3, 'tool', p_tool,
    -- Balance rows by index (e_cycle): when each starts and ends, in ms since the epoch.
    'cycle_starts', (SELECT array_agg((extract(epoch FROM x.at) * 1000)::bigint ORDER BY x.k) FROM unnest(c_start) WITH ORDINALITY AS x(at, k)),
    'cycle_ends', (SELECT array_agg((extract(epoch FROM x.at) * 1000)::bigint ORDER BY x.k) FROM unnest(c_end) WITH ORDINALITY AS x(at, k)),
    -- Events already stored, as first applied: [ordinal, credits, own, pool, overage, overDaily,
    -- cycleStartMs, cycleEndMs, late, tool, atMs, user].
    'stored', (
      SELECT json_agg(json_build_array(e.ord, jd.credits, jd.own_drawn, jd.pool_drawn, jd.overage, coalesce(jd.over_daily_limit, 0),
                                       (extract(epoch FROM jd.cycle_start) * 1000)::bigint, (extract(epoch FROM coalesce(sc.cycle_end, jd.cycle_start)) * 1000)::bigint,
                                       sc.cycle_end IS NOT NULL AND jd.created_at >= sc.cycle_end, ds.tool_key,
                                       (extract(epoch FROM jd.occurred_at) * 1000)::bigint, coalesce(dm.slack_id, dm.email)))
      FROM unnest(e_status, p_ids) WITH ORDINALITY AS e(status, id, ord)
      JOIN journal jd ON jd.event_key = e.id
      LEFT JOIN seat_cycles sc ON sc.seat_id = jd.seat_id AND sc.cycle_start = jd.cycle_start
      LEFT JOIN seats ds ON ds.id = jd.seat_id LEFT JOIN members dm ON dm.id = ds.member_id
      WHERE e.status = 1),
    -- Seats by slot: each one's tool and current cycle's start (ms); and of the seats a refusal
    -- names (status 3 or 4), by slot: [id, tool, toolName, unit, profile, revokedAtMs,
    -- anchorDay, zone, cycleStartMs, cycleEndMs].
    'seat_tool', s_tool,
    'seat_start', (SELECT array_agg((extract(epoch FROM x.at) * 1000)::bigint ORDER BY x.k) FROM unnest(s_start) WITH ORDINALITY AS x(at, k)),
    'seats', (
      SELECT json_object_agg(v.slot, json_build_array(v.id, v.tool, tl.name, tl.unit, nullif(v.profile, ''), (extract(epoch FROM v.revoked) * 1000)::bigint,
                                       v.anchor, v.zone, (extract(epoch FROM v.start) * 1000)::bigint, (extract(epoch FROM v.end_) * 1000)::bigint))
      FROM unnest(s_id, s_tool, s_profile, s_revoked, s_anchor, s_zone, s_start, s_end) WITH ORDINALITY AS v(id, tool, profile, revoked, anchor, zone, start, end_, slot)
      JOIN tools tl ON tl.key = v.tool
      WHERE v.slot IN (SELECT e.slot FROM unnest(e_status, e_slot) AS e(status, slot) WHERE e.status >= 3)),
    -- What threshold alerts need, for a caller in a transaction (a call of its own owes none).
    'cycles', CASE WHEN p_thresholds IS NULL THEN (
      SELECT json_agg(json_build_array(s_id[c.slot], (extract(epoch FROM c.cs) * 1000)::bigint, c.quota, c.consumed, c.consumed + c.own + c.pool + c.over, c.alerts))
      FROM unnest(c_slot, c_start, c_quota, c_consumed, c_own, c_pool, c_over, c_alerts) AS c(slot, cs, quota, consumed, own, pool, over, alerts)
      WHERE c.own + c.pool + c.over > 0) END,
    'shared', CASE WHEN p_thresholds IS NULL THEN (
      SELECT json_agg(json_build_array(x.id, x.pool, x.amount, x.left_))
      FROM unnest(x_id, x_pool, x_amount, x_left, x_orig) AS x(id, pool, amount, left_, orig)
      WHERE x.left_ < x.orig) END);
END
$fn$;
