/**
 * A real EVM for the engine tests: the devnet engine (ethereumjs) builds a small chain with every kind
 * of transaction the reads care about (EIP-1559, EIP-2930 and EIP-155 legacy transfers, token mints
 * and transfers with logs, a reverted call, a contract creation, withdrawals), serves its JSON-RPC over
 * HTTP, and its ExecutionPayloadCapella values become the "verified" consensus data.
 *
 * Plus a small HTTP proxy in front of the engine's RPC that can tamper with answers, one thing at a time.
 */
import { encodeFunctionData, hexToBytes, keccak256, pad, concat, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createEngine, LOAD_TOKEN_ADDRESS, type DevnetEngine } from '../../../src/devnet/evm/index.js';
import type { BlockRef, ExecutionPayloadCapella, VerifiedPayloadSource } from '../../../src/node/engine/index.js';
import { type RpcCall, startRpcProxy } from '../../helpers/rpc-proxy.js';

export const CHAIN_ID = 121212;
export const TOKEN = LOAD_TOKEN_ADDRESS as Hex;
export const DEAD = '0x000000000000000000000000000000000000dead' as const;
const ZERO32 = `0x${'00'.repeat(32)}` as const;
/** Runtime code 0x602a60005260206000f3 (returns 42), deployed by a tiny init code. */
export const DEPLOYED_RUNTIME = '0x602a60005260206000f3' as const;
const INIT_CODE = '0x69602a60005260206000f3600052600a6016f3' as const;

function key(i: number): Hex {
  return `0x${(0x4200 + i).toString(16).padStart(64, '0')}` as Hex;
}

export interface TestChain {
  engine: DevnetEngine;
  url: string;
  accounts: PrivateKeyAccount[];
  /** payloads[n] = EL block n */
  payloads: ExecutionPayloadCapella[];
  /** The verified view: head and finalized can be moved; numbers above head are "not verified yet". */
  source: VerifiedPayloadSource & { head: bigint; finalized: bigint; calls: number };
  tx: {
    transfer1559: Hex;
    legacy: Hex;
    accessList: Hex;
    mintA: Hex;
    tokenTransfer: Hex;
    reverted: Hex;
    deploy: Hex;
    mintD: Hex;
    /** in block 6, which the source does not cover until its head moves */
    unverified: Hex;
  };
  deployedAt: Hex;
  close(): Promise<void>;
}

/** keccak(pad(addr) . pad(slot)): the storage slot of mapping(address => uint) at `slot`. */
export function mappingSlot(address: Hex, slot: bigint): Hex {
  return keccak256(concat([pad(address), pad(`0x${slot.toString(16)}` as Hex)]));
}

export function payloadSource(
  payloads: ExecutionPayloadCapella[],
  head: bigint,
  finalized: bigint,
): TestChain['source'] {
  const source = {
    head,
    finalized,
    calls: 0,
    async payload(ref: BlockRef): Promise<ExecutionPayloadCapella | undefined> {
      source.calls++;
      if (ref === 'latest') return payloads[Number(source.head)];
      if (ref === 'safe' || ref === 'finalized') return payloads[Number(source.finalized)];
      if (ref === 'earliest') return payloads[0];
      if (typeof ref === 'bigint') return ref <= source.head ? payloads[Number(ref)] : undefined;
      const p = payloads.find((x) => x.blockHash.toLowerCase() === ref.toLowerCase());
      return p !== undefined && p.blockNumber <= source.head ? p : undefined;
    },
  };
  return source;
}

export async function createTestChain(): Promise<TestChain> {
  const accounts = [0, 1, 2, 3].map((i) => privateKeyToAccount(key(i)));
  const [A, B, C, D] = accounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount];
  const engine = await createEngine({
    alloc: Object.fromEntries([A, B, C].map((a) => [a.address, { balance: 100n * 10n ** 18n }])),
  });
  const payloads: ExecutionPayloadCapella[] = [engine.genesisPayload()];
  const nonces = new Map<Hex, number>();
  const nonce = (a: PrivateKeyAccount) => {
    const n = nonces.get(a.address) ?? 0;
    nonces.set(a.address, n + 1);
    return n;
  };
  const fee = { maxFeePerGas: 3_000_000_000n, maxPriorityFeePerGas: 1_500_000n };
  const sign1559 = (from: PrivateKeyAccount, to: Hex | null, value: bigint, data: Hex = '0x', gas = 21_000n) =>
    from.signTransaction({
      chainId: CHAIN_ID,
      type: 'eip1559',
      nonce: nonce(from),
      ...(to === null ? {} : { to }),
      value,
      data,
      gas,
      ...fee,
    });
  const mint = (to: Hex, amount: bigint) =>
    encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'mint', args: [to, amount] });
  const transfer = (to: Hex, amount: bigint) =>
    encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'transfer', args: [to, amount] });

  let timestamp = payloads[0]!.timestamp;
  let withdrawalIndex = 0n;
  async function block(
    txs: Hex[],
    withdrawals: { address: Hex; amount: bigint }[] = [],
  ): Promise<ExecutionPayloadCapella> {
    timestamp += 2n;
    const built = await engine.buildPayload({
      parentHash: engine.headHash(),
      timestamp,
      suggestedFeeRecipient: DEAD,
      prevRandao: ZERO32,
      withdrawals: withdrawals.map((w) => ({
        index: withdrawalIndex++,
        validatorIndex: 0n,
        address: w.address.toLowerCase() as Hex,
        amount: w.amount,
      })),
      transactions: txs.map((t) => hexToBytes(t)),
    });
    payloads.push(built.payload);
    return built.payload;
  }
  const hash = (raw: Hex) => keccak256(raw);

  // Block 1: three transaction types and a peg-in (withdrawal) to D.
  const transfer1559 = await sign1559(A, B.address, 10n ** 18n);
  const legacy = await A.signTransaction({
    chainId: CHAIN_ID,
    type: 'legacy',
    nonce: nonce(A),
    to: C.address,
    value: 2n * 10n ** 18n,
    gas: 21_000n,
    gasPrice: 2_000_000_000n,
  });
  const accessList = await B.signTransaction({
    chainId: CHAIN_ID,
    type: 'eip2930',
    nonce: nonce(B),
    to: C.address,
    value: 12345n,
    gas: 30_000n,
    gasPrice: 2_000_000_000n,
    accessList: [{ address: TOKEN, storageKeys: [ZERO32] }],
  });
  await block([transfer1559, legacy, accessList], [{ address: D.address, amount: 5_000_000_000n }]);

  // Block 2: token mints/transfers (logs), a reverted transfer, a contract creation.
  const mintA = await sign1559(A, TOKEN, 0n, mint(A.address, 1_000n), 120_000n);
  const tokenTransfer = await sign1559(A, TOKEN, 0n, transfer(C.address, 300n), 120_000n);
  const reverted = await sign1559(C, TOKEN, 0n, transfer(B.address, 10_000n), 120_000n);
  const deploy = await sign1559(B, null, 0n, INIT_CODE, 200_000n);
  await block([mintA, tokenTransfer, reverted, deploy]);

  // Block 3: empty, one withdrawal. Block 4: D (funded by the peg-in) mints. Block 5: plain transfers.
  await block([], [{ address: B.address, amount: 7n }]);
  const mintD = await sign1559(D, TOKEN, 0n, mint(D.address, 77n), 120_000n);
  await block([mintD, await sign1559(A, TOKEN, 0n, mint(B.address, 5n), 120_000n)]);
  await block([await sign1559(B, A.address, 1n), await sign1559(C, D.address, 2n)]);
  // Block 6: exists on the EL, not verified until the source's head moves.
  const unverified = await sign1559(A, D.address, 3n);
  await block([unverified]);

  engine.setFinalized(payloads[3]!.blockHash); // the EL's safe/finalized tags = the source's
  const server = await engine.serve({ port: 0 });
  const created = await engine.handleRpc({
    jsonrpc: '2.0',
    id: 1,
    method: 'eth_getTransactionReceipt',
    params: [hash(deploy)],
  });
  const contractAddress = (created as { result: { contractAddress: Hex } }).result.contractAddress;
  return {
    engine,
    url: server.url,
    accounts,
    payloads,
    source: payloadSource(payloads, 5n, 3n),
    tx: {
      transfer1559: hash(transfer1559),
      legacy: hash(legacy),
      accessList: hash(accessList),
      mintA: hash(mintA),
      tokenTransfer: hash(tokenTransfer),
      reverted: hash(reverted),
      deploy: hash(deploy),
      mintD: hash(mintD),
      unverified: hash(unverified),
    },
    deployedAt: contractAddress,
    async close() {
      await server.close();
      await engine.close();
    },
  };
}

// ---------------------------------------------------------------- tampering proxy

/** Returns the new result; `rpcError(...)` makes the proxy answer with a JSON-RPC error instead. */
export type Tamper = (method: string, params: unknown[], result: unknown) => unknown;

const RPC_ERROR = Symbol('rpc-error');
export function rpcError(code: number, message: string): unknown {
  return { [RPC_ERROR]: { code, message } };
}

export interface TamperProxy {
  url: string;
  /** The current tamper (undefined = honest). */
  tamper: Tamper | undefined;
  /** Calls seen (batches flattened), by method. */
  readonly counts: ReadonlyMap<string, number>;
  reset(): void;
  close(): Promise<void>;
}

/** `reply` (a JSON-RPC response object) with its result passed through `tamper`; error replies pass as they are. */
function tamperResult(tamper: Tamper, call: RpcCall, reply: { result?: unknown; error?: unknown }): unknown {
  if (!('result' in reply)) return reply;
  const r = tamper(call.method, call.params as unknown[], reply.result);
  if (r === null || typeof r !== 'object' || !(RPC_ERROR in r)) return { ...reply, result: r };
  const { result: _, ...rest } = reply;
  return { ...rest, error: (r as { [RPC_ERROR]: unknown })[RPC_ERROR] };
}

/** An HTTP JSON-RPC proxy in front of `upstream` that passes every answer through `tamper`. */
export async function createTamperProxy(upstream: string): Promise<TamperProxy> {
  const proxy: TamperProxy = {
    url: '',
    tamper: undefined,
    get counts() {
      const counts = new Map<string, number>();
      for (const { method } of rpc.calls) counts.set(method, (counts.get(method) ?? 0) + 1);
      return counts;
    },
    reset() {
      proxy.tamper = undefined;
      rpc.clearCalls();
    },
    close: () => rpc.close(),
  };
  const rpc = await startRpcProxy(upstream, {
    tamper: (call, reply) => (proxy.tamper === undefined ? undefined : tamperResult(proxy.tamper, call, reply)),
  });
  proxy.url = rpc.url;
  return proxy;
}

/** Flip the low bit of hex digit `at` (counted from the end of the string when negative). */
export function flipHex(h: string, at = -1): string {
  const i = at < 0 ? h.length + at : at;
  const d = parseInt(h[i]!, 16) ^ 1;
  return h.slice(0, i) + d.toString(16) + h.slice(i + 1);
}
