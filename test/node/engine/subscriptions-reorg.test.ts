/**
 * Subscriptions when the verified chain switches branch (the node rolls back unfinalized blocks to follow
 * a fork): two real devnet EVMs share genesis and block 1, then build different blocks 2..; the verified
 * payloads move from branch A to branch B. Logs of the dropped blocks come again with `removed: true`
 * (newest first), then branch B's, which equal `getLogs` over it; heads and a log filter follow too.
 * (The devnet EL itself has no forks, hence two engines; the reads ask both endpoints.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, hexToBytes, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createEngine, LOAD_TOKEN_ADDRESS, type DevnetEngine } from '../../../src/devnet/evm/index.js';
import {
  createSubscriptionHub,
  createVerifiedReads,
  type ExecutionPayloadCapella,
  type SubscriptionHub,
  type VerifiedReads,
} from '../../../src/node/engine/index.js';
import { CHAIN_ID, DEAD, payloadSource } from './harness.js';

const ZERO32 = `0x${'00'.repeat(32)}` as const;
const account = privateKeyToAccount(`0x${'42'.repeat(32)}`);

let a: DevnetEngine;
let b: DevnetEngine;
const closers: Array<() => Promise<void>> = [];
const branchA: ExecutionPayloadCapella[] = [];
const branchB: ExecutionPayloadCapella[] = [];
let source: ReturnType<typeof payloadSource>;
let reads: VerifiedReads;

const mint = (nonce: number, amount: bigint) =>
  account.signTransaction({
    chainId: CHAIN_ID,
    type: 'eip1559',
    nonce,
    to: LOAD_TOKEN_ADDRESS,
    data: encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'mint', args: [account.address, amount] }),
    gas: 120_000n,
    maxFeePerGas: 3_000_000_000n,
    maxPriorityFeePerGas: 1_500_000n,
  });

async function build(engine: DevnetEngine, timestamp: bigint, txs: Hex[]): Promise<ExecutionPayloadCapella> {
  const built = await engine.buildPayload({
    parentHash: engine.headHash(),
    timestamp,
    suggestedFeeRecipient: DEAD,
    prevRandao: ZERO32,
    withdrawals: [],
    transactions: txs.map((t) => hexToBytes(t)),
  });
  return built.payload;
}

beforeAll(async () => {
  const alloc = { [account.address]: { balance: 10n ** 20n } };
  a = await createEngine({ alloc });
  b = await createEngine({ alloc });
  const genesis = a.genesisPayload();
  const t0 = genesis.timestamp;
  const common = await mint(0, 1n);
  const [a1, b1] = [await build(a, t0 + 2n, [common]), await build(b, t0 + 2n, [common])];
  expect(b1.blockHash).toBe(a1.blockHash);
  branchA.push(genesis, a1, await build(a, t0 + 4n, [await mint(1, 2n)]), await build(a, t0 + 6n, [await mint(2, 3n)]));
  branchB.push(
    genesis,
    b1,
    await build(b, t0 + 4n, [await mint(1, 20n)]),
    await build(b, t0 + 6n, [await mint(2, 30n)]),
    await build(b, t0 + 8n, [await mint(3, 40n)]),
  );
  const [sa, sb] = [await a.serve({ port: 0 }), await b.serve({ port: 0 })];
  closers.push(
    () => sa.close(),
    () => sb.close(),
    () => a.close(),
    () => b.close(),
  );
  source = payloadSource(branchA, 1n, 0n);
  reads = createVerifiedReads({ evmRpc: [sa.url, sb.url], payloads: source });
}, 60_000);

afterAll(async () => {
  for (const close of closers) await close();
});

/** Follow branch `payloads` up to `head` (the verified view). */
function follow(payloads: ExecutionPayloadCapella[], head: number): void {
  const view = payloadSource(payloads, BigInt(head), 0n);
  source.payload = view.payload;
}

describe('subscriptions across a branch switch', () => {
  let hub: SubscriptionHub;
  const seen: Array<{ type: string; data: { subscription: Hex; result: any } }> = [];

  it('sends the dropped blocks logs again with removed: true, then the new branch', async () => {
    hub = createSubscriptionHub({ reads, chainId: BigInt(CHAIN_ID) });
    hub.on('message', (m) => seen.push(m as (typeof seen)[number]));
    const logs = (await hub.methods.eth_subscribe!(['logs', { address: LOAD_TOKEN_ADDRESS }])) as Hex;
    const heads = (await hub.methods.eth_subscribe!(['newHeads'])) as Hex;
    const filter = (await hub.methods.eth_newFilter!([{ address: LOAD_TOKEN_ADDRESS }])) as Hex;
    const of = (id: Hex) => seen.filter((m) => m.data.subscription === id).map((m) => m.data.result);

    follow(branchA, 3);
    await hub.head();
    const onA = await reads.getLogs({ address: LOAD_TOKEN_ADDRESS, fromBlock: 2n, toBlock: 3n });
    expect(onA).toHaveLength(2);
    expect(of(logs)).toEqual(onA);
    expect(of(heads).map((h) => h.hash)).toEqual([branchA[2]!.blockHash, branchA[3]!.blockHash]);
    expect(await hub.methods.eth_getFilterChanges!([filter])).toEqual(onA);

    follow(branchB, 4);
    await hub.head();
    const onB = await reads.getLogs({ address: LOAD_TOKEN_ADDRESS, fromBlock: 2n, toBlock: 4n });
    expect(onB).toHaveLength(3);
    const removed = [...onA].reverse().map((l) => ({ ...l, removed: true }));
    expect(of(logs)).toEqual([...onA, ...removed, ...onB]);
    expect(of(heads).map((h) => h.hash)).toEqual([
      branchA[2]!.blockHash,
      branchA[3]!.blockHash,
      ...branchB.slice(2).map((p) => p.blockHash),
    ]);
    expect(await hub.methods.eth_getFilterChanges!([filter])).toEqual([...removed, ...onB]);
  }, 60_000);
});
