/**
 * Peg evidence from verified inputs (src/node/bridge/evidence.ts) over real devnet pegs: a peg-in
 * minted and finalized, a deposit without OP_RETURN (invalid), a peg-out proposed, finalized with
 * the federation's signatures and confirmed on regtest, a request below 0.01 BTC (ignored). Receipts
 * come from the real verified reads over the devnet's EVM server; Bitcoin from `regtestView` (the
 * real SPV client is tested elsewhere). Lies in verified-looking input are refused with the check named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Devnet } from '../../../src/devnet/devnet.js';
import * as ev from '../../../src/node/bridge/evidence.js';
import { createVerifiedReads, type VerifiedReads } from '../../../src/node/engine/index.js';
import { toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import { decodeTransaction, txid as txidBytes } from '../../../src/protocol/bitcoin/tx.js';
import { type PegEvidence, pegInState, pegOutState } from '../../../src/protocol/bridge/lifecycle.js';
import type { Transaction } from '../../../src/protocol/types.js';
import { Cleanup, startDevnet } from '../helpers.js';
import { blockRef, buildPegScenario, devnetPayloads, type PegScenario, regtestView } from './helpers.js';

const c = new Cleanup();
let devnet: Devnet;
let s: PegScenario;
let reads: VerifiedReads;
let view: ReturnType<typeof regtestView>;

beforeAll(async () => {
  devnet = await startDevnet(c, 'peg-evidence');
  s = await buildPegScenario(devnet);
  reads = createVerifiedReads({ evmRpc: [devnet.urls.evm], payloads: devnetPayloads(devnet) });
  view = regtestView(devnet.bitcoin);
}, 60_000);
afterAll(() => c.run());

const N = () => devnet.spec.requiredBtcTxnConfirmations;

async function sighting(txid: string) {
  const found = await view.lookupTx(txid);
  if (!found) throw new Error(`regtest has no ${txid}`);
  return found;
}

/** Every piece of evidence of the scenario, as the tracker would gather it. */
async function allEvidence(): Promise<PegEvidence[]> {
  const out: PegEvidence[] = [];
  out.push(...ev.pegInSightingEvidence(await sighting(s.pegin), devnet.federation, view, 1));
  out.push(...ev.pegInSightingEvidence(await sighting(s.noOpReturn), devnet.federation, view, 2));
  const pegin = { evmAddress: s.evm, amountSats: 5_000_000n };
  out.push(ev.mintedEvidence(blockRef(devnet, s.mintedIn)!, s.pegin, pegin)!);
  for (const hash of [s.pegout, s.smallPegout])
    out.push(ev.requestEvidence((await reads.getTransactionReceipt(hash))!)!);
  out.push(...ev.proposalEvidence(blockRef(devnet, s.proposalIn)!));
  const fin = blockRef(devnet, s.finalizedIn)!;
  const tx = fin.block.message.finalizedPegouts[0]!;
  const proposal = devnet.chain.at(s.proposalIn)!.signed.message.pegoutPaymentProposal!;
  out.push(ev.finalizedPegoutEvidence(fin, tx, proposal, devnet.federation, await prevouts(tx)));
  out.push(...ev.pegOutSightingEvidence(await sighting(toDisplayHex(txidBytes(tx))), view, 3));
  out.push(ev.finalityEvidence(devnet.chain.lastFinalized.number));
  return out;
}

async function prevouts(tx: Transaction) {
  return Promise.all(
    tx.inputs.map(async (i) => decodeTransaction((await sighting(toDisplayHex(i.prevTxid))).raw).outputs[i.prevVout]!),
  );
}

describe('evidence from the devnet pegs, folded into the states of spec 6.5', () => {
  it('the scenario happened on the devnet as planned', () => {
    expect(s.mintedIn).toBeLessThan(s.requestIn);
    expect(s.proposalIn).toBe(s.requestIn + 1);
    expect(s.finalizedIn).toBeGreaterThan(s.proposalIn);
    expect(devnet.chain.lastFinalized.number).toBeGreaterThanOrEqual(s.mintedIn);
  });

  it('a peg-in: the sighting (amount, EVM address, SPV inclusion), its minting, its finality', async () => {
    const items = await allEvidence();
    expect(items).toContainEqual({ kind: 'btc-pegin-tx', txid: s.pegin, evmAddress: s.evm, amountSats: '5000000' });
    const minted = items.find((e) => e.kind === 'alys-minted');
    expect(minted).toMatchObject({ alysBlock: s.mintedIn, evmAddress: s.evm, creditedGwei: '50000000' });
    expect(pegInState(s.pegin, items, { requiredConfirmations: N() })).toMatchObject({
      state: 'finalized',
      alysBlock: s.mintedIn,
      alysHash: devnet.chain.at(s.mintedIn)!.hash,
    });
    // without the Alys evidence it is eligible on Bitcoin alone
    const btcOnly = items.filter((e) => e.kind.startsWith('btc-'));
    expect(pegInState(s.pegin, btcOnly, { requiredConfirmations: N() })).toMatchObject({ state: 'eligible' });
  });

  it('a deposit without OP_RETURN is invalid: no EVM address', async () => {
    const items = ev.pegInSightingEvidence(await sighting(s.noOpReturn), devnet.federation, view, 1);
    expect(items).toEqual([{ kind: 'btc-not-pegin', txid: s.noOpReturn, reason: 'no-evm-address' }]);
    expect(pegInState(s.noOpReturn, items, { requiredConfirmations: N() })).toEqual({
      state: 'invalid',
      reason: 'no-evm-address',
    });
  });

  it('a peg-out: requested (verified receipt), proposed at N+1, finalized with signatures, confirmed', async () => {
    const items = await allEvidence();
    const state = pegOutState(s.pegout, items);
    expect(state).toMatchObject({
      state: 'confirmed',
      k: 1,
      alysBlock: s.proposalIn,
      request: { evmAddress: s.evm, sats: '2000000', elBlock: s.requestIn },
    });
    const proposal = devnet.chain.at(s.proposalIn)!.signed.message.pegoutPaymentProposal!;
    expect(state.state === 'confirmed' && state.btcTxid).toBe(toDisplayHex(txidBytes(proposal)));
  });

  it('a peg-out below 0.01 BTC ends ignored: burned on Alys, never paid', async () => {
    const items = await allEvidence();
    expect(pegOutState(s.smallPegout, items)).toMatchObject({ state: 'ignored', reason: 'below-minimum' });
    // the proposal pays only the 0.02 BTC request (and change)
    const proposal = devnet.chain.at(s.proposalIn)!.signed.message.pegoutPaymentProposal!;
    expect(proposal.outputs.filter((o) => o.value < 1_000_000n && o.value > 0n)).toHaveLength(0);
  });
});

describe('lies in verified-looking input produce no evidence and name the check', () => {
  it('a block listing a peg-in without crediting it', () => {
    const ref = blockRef(devnet, s.mintedIn)!;
    const msg = ref.block.message;
    const payload = {
      ...msg.executionPayload,
      withdrawals: msg.executionPayload.withdrawals.map((w) => ({ ...w, amount: w.amount - 1n })),
    };
    const lying = { ...ref, block: { ...ref.block, message: { ...msg, executionPayload: payload } } };
    expect(() => ev.mintedEvidence(lying, s.pegin, { evmAddress: s.evm, amountSats: 5_000_000n })).toThrow(
      expect.objectContaining({ code: 'peg.mint-withdrawal' }),
    );
    expect(ev.mintedEvidence(ref, s.noOpReturn, { evmAddress: s.evm, amountSats: 1n })).toBeNull();
  });

  it('a finalized peg-out with a forged signature, or that is not the proposal', async () => {
    const fin = blockRef(devnet, s.finalizedIn)!;
    const tx = fin.block.message.finalizedPegouts[0]!;
    const proposal = devnet.chain.at(s.proposalIn)!.signed.message.pegoutPaymentProposal!;
    const prev = await prevouts(tx);
    const forged: Transaction = {
      ...tx,
      inputs: tx.inputs.map((i) => ({
        ...i,
        witness: i.witness.map((w) => (w.length === 64 ? Uint8Array.from(w, (b, k) => (k === 5 ? b ^ 1 : b)) : w)),
      })),
    };
    expect(() => ev.finalizedPegoutEvidence(fin, forged, proposal, devnet.federation, prev)).toThrow(
      expect.objectContaining({ code: 'peg.finalized-pegout', message: expect.stringContaining('pegout.signature') }),
    );
    const other: Transaction = { ...proposal, lockTime: 1 };
    expect(() => ev.finalizedPegoutEvidence(fin, tx, other, devnet.federation, prev)).toThrow(
      expect.objectContaining({
        code: 'peg.finalized-pegout',
        message: expect.stringContaining('pegout.finalized-txid'),
      }),
    );
    // wrong spent outputs (an amount changed) make every signature fail
    const wrongPrev = prev.map((o) => ({ ...o, value: o.value + 1n }));
    expect(() => ev.finalizedPegoutEvidence(fin, tx, proposal, devnet.federation, wrongPrev)).toThrow(
      expect.objectContaining({ code: 'peg.finalized-pegout' }),
    );
  });

  it('a sighting whose bytes are not its txid', async () => {
    const real = await sighting(s.pegin);
    expect(() => ev.pegInSightingEvidence({ ...real, txid: s.noOpReturn }, devnet.federation, view, 1)).toThrow(
      expect.objectContaining({ code: 'peg.txid' }),
    );
  });

  it('receipts Alys does not read: reverted, or to another contract', async () => {
    const receipt = (await reads.getTransactionReceipt(s.pegout))!;
    expect(ev.requestEvidence({ ...receipt, status: '0x0' })).toBeNull();
    expect(ev.requestEvidence({ ...receipt, to: `0x${'12'.repeat(20)}` })).toBeNull();
    expect(ev.requestEvidence({ ...receipt, to: null })).not.toBeNull(); // contract creations are read (spec 6.3)
  });
});
