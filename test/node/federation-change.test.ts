/**
 * A change of the authority set at height H, end to end: the devnet switches its signer set at H
 * (`devnet.authoritySets.scheduleChange`), and a light node
 * - with the change applied to its FederationActor before H verifies the blocks on both sides
 *   against the right set (in worker verifiers too) and keeps following; `set-at` names each side's
 *   source; a restart resumes with the stored change list (a warm start: the stored head above H
 *   verifies against the new set);
 * - without the change refuses the blocks from H on (the source is charged with the approvals check)
 *   and does not advance past H - 1;
 * - refuses a change at or below its verified head.
 * The governance path that delivers changes is another module's; here the change goes to the actor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Devnet } from '../../src/devnet/devnet.js';
import type { FederationActor } from '../../src/node/actors/federation.js';
import { ACTOR_ADDRESSES } from '../../src/node/tree.js';
import { AuthoritySchedule } from '../../src/protocol/authority-schedule.js';
import { nobleBackend } from '../../src/protocol/bls/noble.js';
import { summarizeBlock } from '../../src/protocol/chain-verifier.js';
import { prepareAuthorities } from '../../src/protocol/approvals.js';
import type { VerificationError } from '../../src/protocol/errors.js';
import type { LightNode } from '../../src/index.nodejs.js';
import { Cleanup, growChain, makeNode, startDevnet, tempDir, waitFor, waitSynced } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run(), 60_000);

const federationOf = (node: LightNode) => node.system!.ref<typeof FederationActor>(ACTOR_ADDRESSES.federation);

/** The check a block fails with the spec's set alone (undefined: it verifies). */
function specOnlyCheck(devnet: Devnet, n: number): string | undefined {
  try {
    summarizeBlock(devnet.chain.at(n)!.signed, {
      spec: devnet.spec,
      authorities: prepareAuthorities(devnet.spec.authorities, nobleBackend),
      backend: nobleBackend,
      payloadHash: false,
    });
    return undefined;
  } catch (e) {
    return (e as VerificationError).check;
  }
}

describe('the devnet switches its signer set at a height', () => {
  it('approves blocks from the height on with the new set; a schedule verifies both sides, the spec alone refuses', async () => {
    const devnet = await startDevnet(cleanup, 'fedset-devnet');
    await growChain(devnet, 6, 5);
    const change = devnet.authoritySets.scheduleChange({ effectiveHeight: 9, authorities: 4 });
    expect(change.previous.publicKeys).toEqual(devnet.spec.authorities);
    expect(change.publicKeys).toHaveLength(4);
    expect(change.publicKeys.some((k) => devnet.spec.authorities.includes(k))).toBe(false);
    expect(() => devnet.authoritySets.scheduleChange({ effectiveHeight: 6, authorities: 2 })).toThrow(RangeError);
    await growChain(devnet, 8, 5); // 7..14, PoW at 10
    const schedule = AuthoritySchedule.create(devnet.spec, nobleBackend, [change.change]);
    for (let n = 1; n <= 14; n++) {
      const s = summarizeBlock(devnet.chain.at(n)!.signed, {
        spec: devnet.spec,
        authorities: schedule,
        backend: nobleBackend,
        payloadHash: false,
      });
      expect(s.signers).toHaveLength(n < 9 ? 3 : 4);
      expect(specOnlyCheck(devnet, n)).toBe(n < 9 ? undefined : 'approvals.bits-beyond-authorities');
    }
    expect(devnet.authoritySets.membersAt(8)).toBe(devnet.members);
    expect(devnet.authoritySets.membersAt(9)).toBe(change.members);
  });
});

describe('a light node across a change of the authority set', () => {
  it('with the change applied before H: verifies both sides (worker verifiers), follows, answers set-at, and resumes after a restart', async () => {
    const devnet = await startDevnet(cleanup, 'fedset-applied');
    const dataDir = await tempDir(cleanup);
    await growChain(devnet, 12, 5);
    const H = 16;
    const scheduled = devnet.authoritySets.scheduleChange({ effectiveHeight: H, authorities: 4 });
    const opts = { storage: 'level', dataDir, verifierWorkers: 1 } as const;
    const first = makeNode(cleanup, devnet, opts);
    await first.node.start();
    await waitSynced(first.node, devnet);
    const applied = await federationOf(first.node).ask({ type: 'apply-change', change: scheduled.change });
    expect(applied).toEqual({ changes: 1, lastHeight: H });

    await growChain(devnet, 13, 5); // 13..25: the new set from 16, PoW at 15, 20, 25
    await waitSynced(first.node, devnet);
    const before = await federationOf(first.node).ask({ type: 'set-at', height: H - 1 });
    expect(before).toMatchObject({ from: 0, until: H, source: { kind: 'spec' }, required: 2 });
    expect(before.authorities).toEqual(devnet.spec.authorities);
    const after = await federationOf(first.node).ask({ type: 'set-at', height: H });
    expect(after).toMatchObject({ from: H, until: null, source: scheduled.change.source, required: 3 });
    expect(after.authorities).toEqual(scheduled.publicKeys);
    expect(after.federationBitcoinPubkeys).toEqual(devnet.spec.federationBitcoinPubkeys);
    expect(after.bitcoinSource).toEqual({ kind: 'spec' });
    expect(await federationOf(first.node).ask({ type: 'deposit-address', network: 'regtest', height: H })).toBe(
      devnet.depositAddress,
    );
    const status = await first.node.status();
    expect(status.sources.every((s) => s.faults === 0)).toBe(true);
    await first.node.stop();

    // a restart: the stored head (above H) verifies against the stored change list
    await growChain(devnet, 3, 5); // 26..28
    const second = makeNode(cleanup, devnet, opts);
    await second.node.start();
    expect(second.events.storage.map((e) => e.kind)).toContain('warm-start');
    expect(await federationOf(second.node).ask({ type: 'changes' })).toEqual({
      changes: [scheduled.change],
      dropped: null,
    });
    await waitSynced(second.node, devnet);
    expect((await second.node.status()).sources.every((s) => s.faults === 0)).toBe(true);
  }, 120_000);

  it('without the change: refuses the blocks from H on, charging the source with the approvals check, and stays at H - 1', async () => {
    const devnet = await startDevnet(cleanup, 'fedset-missing');
    await growChain(devnet, 12, 5);
    const H = 14;
    devnet.authoritySets.scheduleChange({ effectiveHeight: H, authorities: 3 });
    await growChain(devnet, 8, 5); // 13..20: the new set (same size) from 14
    expect(specOnlyCheck(devnet, H)).toBe('approvals.signature');
    // one block at a time: blocks up to H - 1 verify before block H is refused (and its source banned)
    const { node, events } = makeNode(cleanup, devnet, { mode: 'full', sync: { batchSize: 1, parallelism: 1 } });
    await node.start();
    // the only source is charged for block H's approvals, then banned (the blocks after H fail alike)
    await waitFor(
      async () => (await node.status()).head?.number === H - 1 && events.source.some((e) => e.banned),
      async () =>
        `head ${H - 1} and the source banned; head ${(await node.status()).head?.number}, source events: ${JSON.stringify(events.source)}`,
    );
    expect(events.source[0]!.reason).toContain(`block ${H}: approvals.signature`);
    expect(events.source.every((e) => /block \d+: approvals\.signature/.test(e.reason))).toBe(true);
    const status = await node.status();
    expect(status.head?.number).toBe(H - 1);
    expect(Math.max(...events.head.map((h) => h.number))).toBe(H - 1);
  });

  it('refuses a change at or below the verified head (typed error), and a malformed one, changing nothing', async () => {
    const devnet = await startDevnet(cleanup, 'fedset-late');
    await growChain(devnet, 10, 5);
    const { node } = makeNode(cleanup, devnet, { mode: 'full' });
    await node.start();
    await waitSynced(node, devnet);
    const late = devnet.authoritySets.scheduleChange({ effectiveHeight: 11, authorities: 2 }).change;
    await expect(
      federationOf(node).ask({ type: 'apply-change', change: { ...late, effectiveHeight: 10 } }),
    ).rejects.toMatchObject({
      code: 'federation.change-below-head',
    });
    await expect(
      federationOf(node).ask({ type: 'apply-change', change: { ...late, authorities: [`0x${'ab'.repeat(48)}`] } }),
    ).rejects.toMatchObject({ code: 'authority-schedule.change' });
    expect(await federationOf(node).ask({ type: 'changes' })).toEqual({ changes: [], dropped: null });
    // the actor keeps answering
    expect((await federationOf(node).ask({ type: 'set-at', height: 11 })).source).toEqual({ kind: 'spec' });
  });
});
