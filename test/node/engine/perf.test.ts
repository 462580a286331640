/**
 * What verification costs, measured against the same devnet engine over loopback HTTP (one JSON line per
 * measurement, as the benchmarks print: name, unit, value, baseline, ratio). Bounds are loose (shared
 * CI machines); the numbers are for docs and the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, encodeFunctionData, hexToBytes, http, keccak256, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createEngine, type DevnetEngine } from '../../../src/devnet/evm/index.js';
import {
  decodeGetProofResponse,
  decodeRawTransaction,
  recoverSender,
  verifyGetProofResponse,
  type ExecutionPayloadCapella,
} from '../../../src/protocol/index.js';
import { createVerifiedReads, type VerifiedReads } from '../../../src/node/engine/index.js';
import { CHAIN_ID, DEAD, TOKEN, payloadSource } from './harness.js';

const BLOCKS = 100;
const TXS_PER_BLOCK = 10;

let engine: DevnetEngine;
let server: { url: string; close(): Promise<void> };
let payloads: ExecutionPayloadCapella[];
let raw: PublicClient;
let makeReads: () => VerifiedReads;
const txHashes: Hex[] = [];
const sender = privateKeyToAccount(`0x${'42'.repeat(32)}`);

function report(name: string, unit: string, value: number, baseline?: number): void {
  const line: Record<string, unknown> = { name, unit, value: Number(value.toFixed(3)) };
  if (baseline !== undefined)
    Object.assign(line, { baseline: Number(baseline.toFixed(3)), ratio: Number((value / baseline).toFixed(2)) });
  console.log(JSON.stringify(line));
}

async function timePerOp(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(20, n); i++) await op(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return (performance.now() - t0) / n;
}

beforeAll(async () => {
  engine = await createEngine({ alloc: { [sender.address]: { balance: 10n ** 24n } } });
  payloads = [engine.genesisPayload()];
  let nonce = 0;
  for (let b = 0; b < BLOCKS; b++) {
    const txs: Uint8Array[] = [];
    for (let i = 0; i < TXS_PER_BLOCK; i++) {
      const data = encodeFunctionData({
        abi: LOAD_TOKEN_ARTIFACT.abi,
        functionName: 'mint',
        args: [DEAD, BigInt(i + 1)],
      });
      const rawTx = await sender.signTransaction({
        chainId: CHAIN_ID,
        type: 'eip1559',
        nonce: nonce++,
        to: TOKEN,
        data,
        gas: 100_000n,
        maxFeePerGas: 5_000_000_000n,
        maxPriorityFeePerGas: 1n,
      });
      txHashes.push(keccak256(rawTx));
      txs.push(hexToBytes(rawTx));
    }
    const built = await engine.buildPayload({
      parentHash: engine.headHash(),
      timestamp: payloads[b]!.timestamp + 2n,
      suggestedFeeRecipient: DEAD,
      prevRandao: `0x${'00'.repeat(32)}`,
      withdrawals: [],
      transactions: txs,
    });
    payloads.push(built.payload);
  }
  server = await engine.serve({ port: 0 });
  const source = payloadSource(payloads, BigInt(BLOCKS), BigInt(BLOCKS));
  makeReads = () => createVerifiedReads({ evmRpc: [server.url], payloads: source });
  raw = createPublicClient({ transport: http(server.url, { retryCount: 0 }) });
}, 120_000);

afterAll(async () => {
  await server.close();
  await engine.close();
});

describe('cost of verification (loopback devnet engine)', () => {
  it('getBalance: verified (eth_getProof + proof check) vs raw eth_getBalance', async () => {
    const reads = makeReads();
    const n = 300;
    const verified = await timePerOp(n, () => reads.getBalance(sender.address));
    const baseline = await timePerOp(n, () => raw.getBalance({ address: sender.address, blockNumber: BigInt(BLOCKS) }));
    const proofOnly = await timePerOp(n, () =>
      raw.getProof({ address: sender.address, storageKeys: [], blockNumber: BigInt(BLOCKS) }),
    );
    report('engine.getBalance.verified', 'ms/op', verified, baseline);
    report('engine.getBalance.raw-getProof', 'ms/op', proofOnly, baseline);
    // CPU only: decode + verify a proof response.
    const json = await engine.handleRpc({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getProof',
      params: [sender.address, [], `0x${BLOCKS.toString(16)}`],
    });
    const result = (json as { result: unknown }).result;
    const root = payloads[BLOCKS]!.stateRoot;
    const cpu = await timePerOp(2000, async () => verifyGetProofResponse(root, decodeGetProofResponse(result)));
    report('engine.getProof.verify-cpu', 'ms/op', cpu);
    expect(verified).toBeLessThan(baseline * 50 + 20);
  });

  it('sender recovery per transaction', async () => {
    const raws = payloads.slice(1, 21).flatMap((p) => p.transactions.map((t) => hexToBytes(t)));
    const decoded = raws.map((r) => decodeRawTransaction(r));
    let i = 0;
    const perTx = await timePerOp(decoded.length, async () => recoverSender(decoded[i++ % decoded.length]!));
    report('engine.recoverSender', 'ms/op', perTx);
    expect(perTx).toBeLessThan(20);
  });

  it('getTransactionReceipt (cold: block receipts fetched and verified) and getBlock(full) vs raw', async () => {
    let i = 0;
    const verified = await timePerOp(100, () =>
      makeReads().getTransactionReceipt(txHashes[(i++ * 37) % txHashes.length]!),
    );
    let j = 0;
    const baseline = await timePerOp(100, () =>
      raw.getTransactionReceipt({ hash: txHashes[(j++ * 37) % txHashes.length]! }),
    );
    report('engine.getTransactionReceipt.verified-cold', 'ms/op', verified, baseline);
    let k = 0;
    const block = await timePerOp(100, () => makeReads().getBlock(BigInt(1 + (k++ % BLOCKS)), true));
    let m = 0;
    const blockRaw = await timePerOp(100, () =>
      raw.getBlock({ blockNumber: BigInt(1 + (m++ % BLOCKS)), includeTransactions: true }),
    );
    report('engine.getBlock-full.verified-cold', 'ms/op', block, blockRaw);
  });

  it(`getLogs over ${BLOCKS} blocks of ${TXS_PER_BLOCK} token mints: verified receipts (cold) vs raw eth_getLogs`, async () => {
    const range = { fromBlock: 1n, toBlock: BigInt(BLOCKS) };
    const t0 = performance.now();
    const logs = await makeReads().getLogs({ ...range, address: TOKEN });
    const verified = performance.now() - t0;
    const t1 = performance.now();
    const rawLogs = await raw.getLogs({ ...range, address: TOKEN });
    const baseline = performance.now() - t1;
    expect(logs).toHaveLength(BLOCKS * TXS_PER_BLOCK);
    expect(rawLogs).toHaveLength(BLOCKS * TXS_PER_BLOCK);
    report(`engine.getLogs.${BLOCKS}-blocks.verified-cold`, 'ms', verified, baseline);
    const t2 = performance.now();
    await makeReads().getLogs({ ...range, address: `0x${'99'.repeat(20)}` });
    report(`engine.getLogs.${BLOCKS}-blocks.bloom-miss`, 'ms', performance.now() - t2);
  }, 60_000);
});
