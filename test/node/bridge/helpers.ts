/**
 * Test inputs for the peg tracking tests, over the devnet's real objects:
 * - `regtestView`: a `BitcoinView` over the devnet's regtest chain object in memory. The real SPV
 *   client (Esplora endpoints, header chain from a checkpoint, scoring) is tested elsewhere; this view
 *   still does the real checks a view promises: the raw bytes hash to the txid, the inclusion is a
 *   merkle branch verified against the header's merkle root, confirmations count on the chain;
 * - `devnetPayloads`: the devnet chain's payloads as the `VerifiedPayloadSource` of real
 *   `createVerifiedReads` (in the node, the ChainActor's verified blocks; the devnet checks each block as an
 *   importing node would before it stores it);
 * - `blockAt`: the verified block refs the tracker reads.
 * And the peg transactions the devnet makes: a peg-in, a payment to the deposit address without an
 * OP_RETURN, a RequestPegOut from a devnet user.
 */
import { encodeFunctionData, type Hex as ViemHex } from 'viem';
import { BRIDGE_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { sendFromUser } from '../../../src/devnet/control.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import type { RegtestChain } from '../../../src/devnet/bitcoin/index.js';
import type { BitcoinView, BtcTxSighting } from '../../../src/node/bridge/bitcoin-view.js';
import type { VerifiedBlockRef } from '../../../src/node/bridge/evidence.js';
import type { BlockRef, VerifiedPayloadSource } from '../../../src/node/engine/types.js';
import { fromDisplayHex, toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import { verifyMerkleBranch } from '../../../src/protocol/bitcoin/merkle.js';
import { decodeTransaction, txid as computeTxid } from '../../../src/protocol/bitcoin/tx.js';
import { parseBitcoinAddress } from '../../../src/protocol/bridge/btcaddress.js';
import { BRIDGE_ADDRESS } from '../../../src/protocol/bridge/pegout.js';
import { WEI_PER_SAT } from '../../../src/protocol/bridge/units.js';
import { toHex } from '../../../src/protocol/bytes.js';
import type { ExecutionPayloadCapella, Hex } from '../../../src/protocol/types.js';

/** A BitcoinView over the regtest chain object, with the checks a real view makes (see the header). */
export function regtestView(chain: RegtestChain): BitcoinView & { lookups: number } {
  const view = {
    lookups: 0,
    tip: () => ({ height: chain.tipHeight(), hash: toDisplayHex(chain.tip().hash) }),
    async lookupTx(txid: string): Promise<BtcTxSighting | null> {
      view.lookups++;
      const id = fromDisplayHex(txid);
      const raw = chain.rawTransaction(id);
      if (!raw) return null;
      if (toDisplayHex(computeTxid(decodeTransaction(raw))) !== txid)
        throw new Error('the bytes do not hash to the txid');
      const proof = chain.merkleProof(id);
      if (!proof) return { txid, raw, inclusion: null };
      const block = chain.block(proof.height)!;
      verifyMerkleBranch(id, proof.branch, proof.index, block.header.merkleRoot, {
        totalTransactions: block.transactions.length,
      });
      return { txid, raw, inclusion: { blockHash: toDisplayHex(block.hash), height: proof.height } };
    },
    confirmations(inc: { blockHash: string; height: number }): number {
      const block = chain.block(inc.height);
      return block && toDisplayHex(block.hash) === inc.blockHash ? chain.tipHeight() - inc.height + 1 : 0;
    },
    async addressTxids(address: string, limit = 25): Promise<string[]> {
      const script = parseBitcoinAddress(address)?.scriptPubkey;
      if (!script) return [];
      const h = chain.history(script);
      return [...h.mempool, ...h.confirmed.map((c) => c.txid)].slice(0, limit).map(toDisplayHex);
    },
  };
  return view;
}

/** The devnet chain's payloads as a VerifiedPayloadSource ('latest' = its head, 'safe'/'finalized' = its last finalized block). */
export function devnetPayloads(devnet: Devnet): VerifiedPayloadSource {
  const at = (n: number): ExecutionPayloadCapella | undefined => devnet.chain.at(n)?.signed.message.executionPayload;
  return {
    async payload(ref: BlockRef) {
      if (ref === 'latest') return at(devnet.chain.height);
      if (ref === 'safe' || ref === 'finalized') return at(devnet.chain.lastFinalized.number);
      if (typeof ref === 'bigint') return at(Number(ref));
      for (let n = devnet.chain.height; n >= 0; n--) if (at(n)?.blockHash === ref) return at(n);
      return undefined;
    },
  };
}

export function blockRef(devnet: Devnet, n: number): VerifiedBlockRef | undefined {
  const b = devnet.chain.at(n);
  return b ? { number: n, hash: b.hash, block: b.signed } : undefined;
}

/** A peg-in of `sats` to `evm` from the faucet (spec 6.2 normal form); not mined. Its txid, display hex. */
export function sendPegIn(devnet: Devnet, evm: Hex, sats: bigint): string {
  return toDisplayHex(devnet.faucet.pegIn(evm, sats, devnet.depositAddress).txid);
}

/** A payment to the deposit address without any OP_RETURN (not a peg-in: no EVM address); not mined. */
export function sendNoOpReturn(devnet: Devnet, sats: bigint): string {
  return toDisplayHex(devnet.faucet.send(devnet.depositAddress, sats).txid);
}

/** `requestPegOut(to)` from devnet user `user` burning `sats` x 10^10 wei; in the EVM pool until the next block. */
export async function sendPegOut(devnet: Devnet, to: string, sats: bigint, user = 0): Promise<Hex> {
  const data = encodeFunctionData({
    abi: BRIDGE_ARTIFACT.abi,
    functionName: 'requestPegOut',
    args: [toHex(new TextEncoder().encode(to)) as ViemHex],
  }) as Hex;
  return sendFromUser(devnet, user, { to: BRIDGE_ADDRESS, value: sats * WEI_PER_SAT, data });
}

/** What `buildPegScenario` made, with where it landed. */
export interface PegScenario {
  /** a 0.05 BTC peg-in to `evm`, minted and finalized */
  pegin: string;
  /** a payment to the deposit address without OP_RETURN (invalid) */
  noOpReturn: string;
  /** a 0.02 BTC peg-out by `evm` (user 0) to the faucet's address: proposed, finalized, paid, confirmed */
  pegout: Hex;
  /** a 0.005 BTC peg-out request (below 0.01 BTC: ignored) */
  smallPegout: Hex;
  evm: Hex;
  /** Alys heights: the block minting the peg-in; the blocks with the request, the proposal, the finalized payment */
  mintedIn: number;
  requestIn: number;
  proposalIn: number;
  finalizedIn: number;
}

/** First height in 1..tip whose block satisfies `p`. */
export function findBlock(devnet: Devnet, p: (n: number) => boolean): number {
  for (let n = 1; n <= devnet.chain.height; n++) if (p(n)) return n;
  throw new Error('no such block on the devnet chain');
}

/**
 * On a fresh devnet: a peg-in minted and finalized, a payment without OP_RETURN, a peg-out proposed,
 * finalized on Alys and confirmed on Bitcoin, and a peg-out request below 0.01 BTC. `step` runs after
 * each block (the tracker tests feed blocks to the tracker there).
 */
export async function buildPegScenario(
  devnet: Devnet,
  hooks: { step?(n: number): Promise<void>; sent?(kind: 'pegin' | 'pegout', id: string): Promise<void> } = {},
): Promise<PegScenario> {
  const step = hooks.step ?? (async () => {});
  const sent = hooks.sent ?? (async () => {});
  const evm = devnet.users[0]!.address;
  const produce = async (pow = false) => {
    if (pow && (await devnet.mineAuxPow()) !== 'submitted') throw new Error('no merged-mining work');
    const r = await devnet.produceNext();
    if (!('block' in r)) throw new Error(r.stalled);
    await step(r.block.number);
  };
  for (let i = 0; i < 2; i++) await produce();
  const pegin = sendPegIn(devnet, evm, 5_000_000n);
  const noOpReturn = sendNoOpReturn(devnet, 40_000n);
  await sent('pegin', pegin);
  devnet.mineBitcoin(devnet.spec.requiredBtcTxnConfirmations);
  await produce();
  await produce(true);
  const pegout = await sendPegOut(devnet, devnet.faucet.address, 2_000_000n, 0);
  const smallPegout = await sendPegOut(devnet, devnet.faucet.address, 500_000n, 1);
  await sent('pegout', pegout);
  await produce();
  await produce();
  await produce(true);
  devnet.mineBitcoin(1);
  await produce();
  const listed = (n: number) => devnet.chain.at(n)!.signed.message;
  return {
    pegin,
    noOpReturn,
    pegout,
    smallPegout,
    evm,
    mintedIn: findBlock(devnet, (n) => listed(n).pegins.length > 0),
    requestIn: findBlock(devnet, (n) => devnet.chain.at(n)!.receipts.some((r) => r.logs.length > 0)),
    proposalIn: findBlock(devnet, (n) => listed(n).pegoutPaymentProposal !== null),
    finalizedIn: findBlock(devnet, (n) => listed(n).finalizedPegouts.length > 0),
  };
}
