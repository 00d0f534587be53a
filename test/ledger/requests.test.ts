// Credit requests: a decision is one transaction (the claim, the grant an approval makes, the
// requester's DM in the outbox), made once however many admins or clicks try.
import { expect, it } from 'vitest';
import { LedgerError } from '../../src/ledger/index.ts';
import { describeEachDatabase, describeOnPostgres, type DatabaseKind } from '../helpers/db.ts';
import { expectVerified, useLedger } from '../helpers/ledger-harness.ts';

/** One database of `kind` per describe block, with Maya's request for 500 credits a call away. */
function useRequests(kind: DatabaseKind) {
  const h = useLedger(kind, { poolMax: 4 });
  const setup = async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    return (await h.ledger.fileRequest('U0MAYA001', 500, 'client pitch deck')).request;
  };
  const count = async (table: string) => (await h.db.query<{ n: number }>(`select count(*)::int4 as n from ${table}`))[0]!.n;
  /** Everything a decision may write, counted. */
  const written = async () => ({ journal: await count('journal'), grants: await count('grants'), outbox: await count('outbox'), tasks: await count('vendor_tasks') });
  const outbox = () => h.db.query<{ kind: string; key: string; payload: unknown }>(`select kind, dedupe_key as key, payload from outbox order by id`);
  return { h, setup, count, written, outbox };
}

describeEachDatabase('credit requests on %s', (kind) => {
  const { h, setup, written, outbox } = useRequests(kind);

  it('writes the grant, the decision and one outbox DM together, and a second approval writes nothing', async () => {
    const request = await setup();
    const before = await written();

    const approved = await h.ledger.approveRequest({ id: request.id, by: 'U0ADMIN01', grant: { credits: 500 } });
    expect(approved).toMatchObject({ decided: true, request: { status: 'approved', decidedBy: 'U0ADMIN01' }, granted: { credits: 500 } });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
    expect(await outbox()).toEqual([
      {
        kind: 'request_outcome',
        key: `request:${request.id}`,
        payload: {
          kind: 'request_outcome', requestId: request.id, slackId: 'U0MAYA001', toolName: 'AI credits', unit: 'credits',
          credits: 500, status: 'approved', decidedBy: 'U0ADMIN01', granted: { credits: 500 },
        },
      },
    ]);
    const after = await written();
    expect(after).toEqual({ ...before, journal: before.journal + 1, grants: before.grants + 1, outbox: 1 });

    // A second admin, a double click, or a denial after the approval: nothing more is written.
    const again = await h.ledger.approveRequest({ id: request.id, by: 'U0ADMIN02', grant: { credits: 700 } });
    expect(again).toEqual({ decided: false, request: expect.objectContaining({ status: 'approved', decidedBy: 'U0ADMIN01' }) });
    expect(await h.ledger.denyRequest({ id: request.id, by: 'U0ADMIN02' })).toMatchObject({ decided: false });
    expect(await written()).toEqual(after);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
    await expectVerified(h.ledger);
  });

  it('writes nothing and leaves the request pending when the grant fails', async () => {
    const request = await setup();
    const before = await written();
    const failed = h.ledger.approveRequest({ id: request.id, by: 'U0ADMIN01', grant: { pack: 'addon' } });
    await expect(failed).rejects.toThrow(LedgerError);
    await expect(failed).rejects.toThrow('no free Add-on pack: none is held or in stock; record a purchase first');
    expect(await written()).toEqual(before);
    expect(await h.ledger.request(request.id)).toMatchObject({ status: 'pending', decidedBy: null });

    // Once a pack is bought, the same request is approved with it.
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    expect(await h.ledger.approveRequest({ id: request.id, by: 'U0ADMIN01', grant: { pack: 'addon' } })).toMatchObject({
      decided: true,
      granted: { pack: 'Add-on', credits: 2000 },
    });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(6000);
    expect((await outbox()).map((o) => o.key)).toEqual([`request:${request.id}`]);
    await expectVerified(h.ledger);
  });

  it('denies with the DM queued and no credits moved', async () => {
    const request = await setup();
    const before = await written();
    expect(await h.ledger.denyRequest({ id: request.id, by: 'U0ADMIN01' })).toMatchObject({ decided: true, request: { status: 'denied' }, granted: null });
    expect(await written()).toEqual({ ...before, outbox: 1 });
    expect((await outbox())[0]!.payload).toMatchObject({ status: 'denied', decidedBy: 'U0ADMIN01', granted: null });
    expect(await h.ledger.approveRequest({ id: request.id, by: 'U0ADMIN01', grant: { credits: 500 } })).toMatchObject({ decided: false });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
  });
});

// PGlite is one connection: there the two approvals run one after the other.
describeOnPostgres('credit requests decided at once on postgres', () => {
  const { h, setup, count } = useRequests('postgres');

  it('grants once when two admins approve at the same moment', async () => {
    const request = await setup();
    const decisions = await Promise.all(
      ['U0ADMIN01', 'U0ADMIN02'].map((by) => h.ledger.approveRequest({ id: request.id, by, grant: { credits: 500 } })),
    );
    expect(decisions.filter((d) => d.decided)).toHaveLength(1);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4500);
    expect(await count('outbox')).toBe(1);
    await expectVerified(h.ledger);
  });
});
