// The consumption order as a pure function: soonest expiry first; at equal expiry plan, then
// packs, then manual grants, then oldest; the pool only after own credits; then overage or refusal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, ownGrantsInOrder, type DrawableGrant } from '../../src/ledger/allocate.ts';

const cycleStart = new Date('2026-05-01T00:00:00Z');
const cycleEnd = new Date('2026-06-01T00:00:00Z');
const at = new Date('2026-05-10T12:00:00Z');

function grant(id: number, source: DrawableGrant['source'], remaining: number, expiresAt: Date = cycleEnd, startsAt: Date = cycleStart): DrawableGrant {
  return { id, seatId: source === 'pool' ? null : 1, source, remaining, cycleStart, startsAt, expiresAt };
}

/** The ids drawn and how much from each, for one event of `credits`. */
function draws(grants: DrawableGrant[], credits: number) {
  const allocation = allocate(ownGrantsInOrder(grants, at), null, credits, 'record')!;
  return allocation.draws.map((d) => [d.grant.id, d.amount]);
}

describe('allocate', () => {
  it('draws the grant that expires soonest first, whatever its source', () => {
    const soon = new Date('2026-05-15T00:00:00Z');
    const grants = [grant(1, 'plan', 100), grant(2, 'manual', 100, soon), grant(3, 'pack', 100, new Date('2026-05-20T00:00:00Z'))];
    expect(draws(grants, 250)).toEqual([[2, 100], [3, 100], [1, 50]]);
  });

  it('draws plan credits before pack credits before manual credits at equal expiry', () => {
    // Created in the opposite order, so the source decides and not the id.
    const grants = [grant(1, 'manual', 100), grant(2, 'pack', 100), grant(3, 'plan', 100)];
    expect(draws(grants, 150)).toEqual([[3, 100], [2, 50]]);
    expect(draws(grants, 300)).toEqual([[3, 100], [2, 100], [1, 100]]);
  });

  it('draws the oldest grant first at equal expiry and source', () => {
    const grants = [grant(7, 'pack', 100), grant(4, 'pack', 100), grant(9, 'pack', 100)];
    expect(draws(grants, 150)).toEqual([[4, 100], [7, 50]]);
  });

  it('draws only on grants live at the event time and not empty', () => {
    const grants = [
      grant(1, 'plan', 100),
      grant(2, 'pack', 100, new Date('2026-05-10T12:00:00Z')), // expired at the event's instant
      grant(3, 'pack', 100, new Date('2026-07-01T00:00:00Z'), new Date('2026-06-01T00:00:00Z')), // next cycle's
      grant(4, 'manual', 0),
    ];
    expect(ownGrantsInOrder(grants, at).map((g) => g.id)).toEqual([1]);
  });

  it('draws on the pool only after the own credits are gone, and no more than is available to the member', () => {
    const pool = { grant: grant(99, 'pool', 10_000), available: 300 };
    const own = [grant(1, 'plan', 200)];
    expect(allocate(own, pool, 150, 'record')).toMatchObject({ ownDrawn: 150, poolDrawn: 0, overage: 0 });
    const over = allocate(own, pool, 450, 'record')!;
    expect(over).toMatchObject({ ownDrawn: 200, poolDrawn: 250, overage: 0 });
    expect(over.draws.map((d) => [d.grant.id, d.amount])).toEqual([[1, 200], [99, 250]]);
    expect(allocate(own, pool, 700, 'record')).toMatchObject({ ownDrawn: 200, poolDrawn: 300, overage: 200 });
  });

  it('books what own credits and the pool do not cover as overage in record mode', () => {
    expect(allocate([grant(1, 'plan', 100)], null, 130, 'record')).toMatchObject({ ownDrawn: 100, poolDrawn: 0, overage: 30 });
    expect(allocate([], null, 40, 'record')).toMatchObject({ draws: [], ownDrawn: 0, overage: 40 });
  });

  it('refuses (null) in enforce mode an event that does not fit whole, and takes one that fits exactly', () => {
    const own = [grant(1, 'plan', 100)];
    const pool = { grant: grant(99, 'pool', 50), available: 50 };
    expect(allocate(own, pool, 151, 'enforce')).toBeNull();
    expect(allocate(own, null, 101, 'enforce')).toBeNull();
    expect(allocate(own, pool, 150, 'enforce')).toMatchObject({ ownDrawn: 100, poolDrawn: 50, overage: 0 });
  });

  it('splits any event into draws that respect the order and never exceed a grant', () => {
    const grantArb = fc.record({
      source: fc.constantFrom<DrawableGrant['source']>('plan', 'rollover', 'pack', 'manual'),
      remaining: fc.integer({ min: 0, max: 500 }),
      expiresDay: fc.integer({ min: 11, max: 31 }),
    });
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 8 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 3000 }), fc.constantFrom('record' as const, 'enforce' as const), (specs, poolAvailable, credits, mode) => {
        const own = ownGrantsInOrder(
          specs.map((s, i) => grant(i + 1, s.source, s.remaining, new Date(Date.UTC(2026, 4, s.expiresDay)))),
          at,
        );
        const pool = { grant: grant(99, 'pool', 10_000), available: poolAvailable };
        const total = own.reduce((sum, g) => sum + g.remaining, 0);
        const allocation = allocate(own, pool, credits, mode);
        if (mode === 'enforce' && credits > total + poolAvailable) {
          expect(allocation).toBeNull();
          return;
        }
        expect(allocation).not.toBeNull();
        const { draws: taken, ownDrawn, poolDrawn, overage } = allocation!;
        expect(ownDrawn + poolDrawn + overage).toBe(credits);
        expect(ownDrawn).toBe(Math.min(credits, total));
        expect(poolDrawn).toBe(Math.min(credits - ownDrawn, poolAvailable));
        if (mode === 'enforce') expect(overage).toBe(0);
        const ownDraws = taken.filter((d) => d.grant.source !== 'pool');
        for (const d of ownDraws) expect(d.amount).toBeGreaterThan(0);
        for (const d of ownDraws) expect(d.amount).toBeLessThanOrEqual(d.grant.remaining);
        // A grant is only touched once every grant before it in the order is empty.
        ownDraws.slice(0, -1).forEach((d) => expect(d.amount).toBe(d.grant.remaining));
        expect(ownDraws.map((d) => d.grant)).toEqual(own.filter((g) => g.remaining > 0).slice(0, ownDraws.length));
      }),
      { numRuns: 500 },
    );
  });
});
