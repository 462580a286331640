/**
 * The engine's Ethereum JSON-RPC 2.0, answered as geth answers it (shapes, error codes, wording):
 * single and batch requests, notifications (no `id`: no answer), -32700 parse errors (HTTP layer),
 * -32600 invalid requests, -32601 unknown methods, -32602 bad params (every parameter is validated in
 * rpc-params.ts before anything runs), 3 for reverts (with the revert data), -32000 for refusals.
 */
import { createMerkleProof } from '@ethereumjs/mpt';
import { Address, KECCAK256_RLP } from '@ethereumjs/util';
import { bloomMayContain } from '../../protocol/execution/receipts.js';
import { toQuantity } from '../../protocol/execution/json.js';
import type { Hex } from '../../protocol/types.js';
import { keccak256 } from './crypto.js';
import type { BlockRecord, CallMessage, CallOutcome, EngineCore } from './engine.js';
import { RpcCode, RpcError } from './errors.js';
import {
  ParamError,
  addressParam,
  arg,
  blockNumberOrHashParam,
  blockNumberParam,
  boolParam,
  bytesParam,
  floatArrayParam,
  hashParam,
  hexOrDecimal64Param,
  logFilterParam,
  optionalArg,
  positional,
  quantityParam,
  transactionArgsParam,
  type BlockRef,
  type TransactionArgs,
} from './rpc-params.js';
import {
  firstLogIndex,
  formatBlock,
  formatBlockReceipts,
  formatLog,
  formatMinedTransaction,
  formatPendingTransaction,
  formatReceipt,
  type Json,
} from './rpc-format.js';
import { bytesOf, hex } from './hex.js';

type Method = (params: unknown) => Promise<Json> | Json;

const MAX_BATCH = 1000;
const MAX_FEE_HISTORY_BLOCKS = 1024n;
const GWEI = 1_000_000_000n;
/**
 * geth stops its binary search once within 1.5% (eth/gasestimator); anvil searches to the exact
 * minimum. We search to the exact minimum too (a dozen more EVM runs, a few ms): the answer is then
 * the same as anvil's, and never more than 1.5% above geth's.
 */
const ESTIMATE_ERROR_RATIO = 0;

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: Json;
  error?: { code: number; message: string; data?: Json };
}

function errorResponse(id: string | number | null, code: number, message: string, data?: Hex): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** geth's storage-key decoding (decodeHash): optional 0x, odd length allowed, at most 32 bytes. */
function storageKeyParam(v: unknown): Uint8Array {
  if (typeof v !== 'string')
    throw new ParamError(`json: cannot unmarshal ${v === null ? 'null' : typeof v} into Go value of type string`);
  let s = v.startsWith('0x') || v.startsWith('0X') ? v.slice(2) : v;
  if (s.length % 2 === 1) s = `0${s}`;
  if (s.length > 64) throw new ParamError('hex string too long, want at most 32 bytes');
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new ParamError('hex string invalid');
  const out = new Uint8Array(32);
  out.set(Buffer.from(s, 'hex'), 32 - s.length / 2);
  return out;
}

/** Decode a revert reason as geth's abi.UnpackRevert: Error(string) and Panic(uint256). */
export function revertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined;
  const sel = hex(data.subarray(0, 4));
  if (sel === '0x08c379a0' && data.length >= 4 + 64) {
    const body = data.subarray(4);
    const offset = Number(BigInt(hex(body.subarray(0, 32))));
    if (offset + 32 > body.length) return undefined;
    const len = Number(BigInt(hex(body.subarray(offset, offset + 32))));
    if (offset + 32 + len > body.length) return undefined;
    return Buffer.from(body.subarray(offset + 32, offset + 32 + len)).toString('utf8');
  }
  if (sel === '0x4e487b71' && data.length === 36) {
    const code = BigInt(hex(data.subarray(4)));
    const panics: Record<string, string> = {
      '0': 'generic panic',
      '1': 'assert(false)',
      '17': 'arithmetic underflow or overflow',
      '18': 'division or modulo by zero',
      '33': 'enum overflow',
      '34': 'invalid encoded storage byte array accessed',
      '49': 'out-of-bounds array access; popping on an empty array',
      '50': 'out-of-bounds access of an array or bytesN',
      '65': 'out of memory',
      '81': 'uninitialized function',
    };
    return panics[code.toString()] ?? `unknown panic code: 0x${code.toString(16)}`;
  }
  return undefined;
}

function revertError(data: Uint8Array): RpcError {
  const reason = revertReason(data);
  return new RpcError(
    RpcCode.executionReverted,
    reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`,
    hex(data),
  );
}

export function createRpcHandler(core: EngineCore): (request: unknown) => Promise<unknown> {
  // ---------------------------------------------------------------- block resolution
  function byTag(ref: BlockRef): BlockRecord | undefined {
    if ('tag' in ref) {
      switch (ref.tag) {
        case 'latest':
        case 'pending':
          return core.head();
        case 'earliest':
          return core.blockByNumber(0n);
        case 'safe':
        case 'finalized': {
          const f = core.finalized();
          if (f === undefined)
            throw new RpcError(
              RpcCode.unknownBlock,
              `${ref.tag} block not found: the consensus layer has not finalized any block yet`,
            );
          return f;
        }
      }
    }
    if ('number' in ref) return core.blockByNumber(ref.number);
    return core.blockByHash(ref.hash);
  }

  /** For state queries: a block must exist (geth: "header not found"). */
  function stateBlock(ref: BlockRef): BlockRecord {
    const b = byTag(ref);
    if (b === undefined)
      throw new RpcError(RpcCode.server, 'hash' in ref ? `header for hash ${ref.hash} not found` : 'header not found');
    return b;
  }

  // ---------------------------------------------------------------- calls
  function callMessage(args: TransactionArgs): CallMessage {
    if (args.chainId !== undefined && args.chainId !== core.chainId)
      throw new RpcError(RpcCode.server, `chainId does not match node's (have=${args.chainId}, want=${core.chainId})`);
    return {
      from: new Address(bytesOf(args.from ?? '0x0000000000000000000000000000000000000000')),
      to: args.to === undefined ? undefined : new Address(bytesOf(args.to)),
      gas: args.gas,
      gasPrice: args.gasPrice,
      maxFeePerGas: args.maxFeePerGas,
      maxPriorityFeePerGas: args.maxPriorityFeePerGas,
      value: args.value,
      data: args.data,
      nonce: args.nonce,
      accessList: args.accessList,
    };
  }

  function noOverrides(params: unknown[], from: number): void {
    for (let i = from; i < params.length; i++)
      if (params[i] !== undefined && params[i] !== null)
        throw new RpcError(
          RpcCode.invalidParams,
          `invalid argument ${i}: state and block overrides are not supported by the devnet engine`,
        );
  }

  async function ethCall(params: unknown): Promise<Json> {
    const p = positional(params, 1, 4);
    const args = arg(p, 0, transactionArgsParam);
    const ref = optionalArg(p, 1, blockNumberOrHashParam) ?? { tag: 'latest' as const };
    noOverrides(p, 2);
    const block = stateBlock(ref);
    const msg = callMessage(args);
    let gas = msg.gas ?? core.rpcGasCap;
    if (gas > core.rpcGasCap) gas = core.rpcGasCap;
    const out = await core.withSimulator(block, (run) => run(msg, gas));
    if (out.reverted) throw revertError(out.returnValue);
    if (!out.success) throw new RpcError(RpcCode.server, out.error ?? 'execution failed');
    return hex(out.returnValue);
  }

  /** geth's gas estimator (eth/gasestimator): bounds from the cap and the balance, then binary search to 1.5%. */
  async function ethEstimateGas(params: unknown): Promise<Json> {
    const p = positional(params, 1, 3);
    const args = arg(p, 0, transactionArgsParam);
    const ref = optionalArg(p, 1, blockNumberOrHashParam) ?? { tag: 'latest' as const };
    noOverrides(p, 2);
    const block = stateBlock(ref);
    const msg = callMessage(args);
    return core.withSimulator(block, async (run, state) => {
      let hi = msg.gas !== undefined && msg.gas >= 21_000n ? msg.gas : block.payload.gasLimit;
      const feeCap = msg.gasPrice ?? msg.maxFeePerGas ?? 0n;
      if (feeCap > 0n) {
        const balance = (await state.getAccount(msg.from))?.balance ?? 0n;
        if (msg.value > balance) throw new RpcError(RpcCode.server, 'insufficient funds for transfer');
        const allowance = (balance - msg.value) / feeCap;
        if (hi > allowance) hi = allowance;
      }
      if (hi > core.rpcGasCap) hi = core.rpcGasCap;
      // A plain transfer to an account without code costs exactly 21000.
      if (msg.to !== undefined && msg.data.length === 0) {
        const code = await state.getCode(msg.to);
        if (code.length === 0) {
          const r = await run(msg, 21_000n);
          if (r.success) return toQuantity(21_000n);
        }
      }
      const failed = (o: CallOutcome) => !o.success;
      const top = await run(msg, hi);
      if (failed(top)) {
        if (top.reverted) throw revertError(top.returnValue);
        if (top.error === 'out of gas' || top.error === 'OOG')
          throw new RpcError(RpcCode.server, `gas required exceeds allowance (${hi})`);
        throw new RpcError(RpcCode.server, top.error ?? 'execution failed');
      }
      let lo = top.gasUsed - 1n;
      const optimistic = ((top.gasUsed + top.gasRefund + 2300n) * 64n) / 63n;
      if (optimistic < hi) {
        const o = await runOrOog(run, msg, optimistic);
        if (o) hi = optimistic;
        else lo = optimistic;
      }
      while (lo + 1n < hi) {
        if (ESTIMATE_ERROR_RATIO > 0 && Number(hi - lo) / Number(hi) < ESTIMATE_ERROR_RATIO) break;
        let mid = (hi + lo) / 2n;
        if (mid > lo * 2n) mid = lo * 2n;
        if (await runOrOog(run, msg, mid)) hi = mid;
        else lo = mid;
      }
      return toQuantity(hi);
    });
  }

  /** true if the message succeeds with `gas`; an intrinsic-gas refusal counts as a failure. */
  async function runOrOog(
    run: (msg: CallMessage, gas: bigint) => Promise<CallOutcome>,
    msg: CallMessage,
    gas: bigint,
  ): Promise<boolean> {
    try {
      return (await run(msg, gas)).success;
    } catch (e) {
      if (e instanceof RpcError && /intrinsic gas too low/.test(e.message)) return false;
      throw e;
    }
  }

  // ---------------------------------------------------------------- state
  async function accountAt(
    params: unknown,
    decode: (v: unknown) => Hex,
  ): Promise<{ block: BlockRecord; address: Hex }> {
    const p = positional(params, 2, 2);
    const address = arg(p, 0, decode);
    const block = stateBlock(arg(p, 1, blockNumberOrHashParam));
    return { block, address };
  }

  async function getProof(params: unknown): Promise<Json> {
    const p = positional(params, 3, 3);
    const address = arg(p, 0, addressParam);
    const keysRaw = p[1];
    if (!Array.isArray(keysRaw))
      throw new RpcError(
        RpcCode.invalidParams,
        `invalid argument 1: json: cannot unmarshal ${typeof keysRaw} into Go value of type []string`,
      );
    const keys = keysRaw.map((k, i) => {
      try {
        return { text: k as string, bytes: storageKeyParam(k) };
      } catch (e) {
        throw new RpcError(
          RpcCode.invalidParams,
          `invalid argument 1: ${e instanceof Error ? e.message : String(e)} (storage key ${i})`,
        );
      }
    });
    const block = stateBlock(arg(p, 2, blockNumberOrHashParam));
    return core.withState(block, async (state, trie) => {
      const addr = new Address(bytesOf(address));
      const accountProof = (await createMerkleProof(trie, addr.bytes)).map(hex);
      const account = await state.getAccount(addr);
      const storageTrie = trie.shallowCopy(false);
      storageTrie.root(account?.storageRoot ?? KECCAK256_RLP);
      const storageProof: Json[] = [];
      for (const k of keys) {
        const proof = account === undefined ? [] : (await createMerkleProof(storageTrie, k.bytes)).map(hex);
        const value = account === undefined ? new Uint8Array(0) : await state.getStorage(addr, k.bytes);
        storageProof.push({ key: k.text, value: toQuantity(value.length === 0 ? 0n : BigInt(hex(value))), proof });
      }
      // geth: an absent account has zero code hash and storage hash in the response.
      const zero = `0x${'00'.repeat(32)}` as Hex;
      return {
        address,
        accountProof,
        balance: toQuantity(account?.balance ?? 0n),
        codeHash: account === undefined ? zero : hex(account.codeHash),
        nonce: toQuantity(account?.nonce ?? 0n),
        storageHash: account === undefined ? zero : hex(account.storageRoot),
        storageProof,
      };
    });
  }

  // ---------------------------------------------------------------- logs
  function getLogs(params: unknown): Json {
    const p = positional(params, 1, 1);
    const f = arg(p, 0, logFilterParam);
    let from: BlockRecord;
    let to: BlockRecord;
    if (f.blockHash !== undefined) {
      const b = core.blockByHash(f.blockHash);
      if (b === undefined) throw new RpcError(RpcCode.server, 'unknown block');
      from = to = b;
    } else {
      const head = core.head();
      const resolve = (ref: BlockRef | undefined): BlockRecord => {
        if (ref === undefined) return head;
        const b = byTag(ref);
        // geth clamps a range end beyond the head to the head
        return b ?? head;
      };
      from = resolve(f.fromBlock);
      to = resolve(f.toBlock);
      if (f.fromBlock !== undefined && 'number' in f.fromBlock && f.fromBlock.number > head.number) return [];
      if (from.number > to.number) throw new RpcError(RpcCode.server, 'invalid block range');
    }
    const addresses = new Set(f.addresses);
    const addressBytes = f.addresses.map(bytesOf);
    const topicSets = f.topics.map((t) => (t === null ? null : new Set(t)));
    const out: Json[] = [];
    for (let n = from.number; n <= to.number; n++) {
      const record = core.blockByNumber(n)!;
      if (addressBytes.length > 0 && !addressBytes.some((a) => bloomMayContain(record.bloom, a))) continue;
      let logIndex = 0;
      for (let i = 0; i < record.receipts.length; i++) {
        for (const log of record.receipts[i]!.logs) {
          const idx = logIndex++;
          if (addresses.size > 0 && !addresses.has(log.address)) continue;
          if (topicSets.length > log.topics.length) continue;
          if (!topicSets.every((s, k) => s === null || s.has(log.topics[k]!))) continue;
          if (out.length >= core.maxLogs)
            throw new RpcError(RpcCode.limitExceeded, `query returned more than ${core.maxLogs} results`);
          out.push(formatLog(record, i, log, idx));
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- fees
  /** geth's gas price oracle, simplified: 60th percentile of the lowest tips of the last 20 blocks. */
  function suggestTip(): bigint {
    const head = core.head();
    const samples: bigint[] = [];
    for (let n = head.number; n >= 0n && n > head.number - 20n; n--) {
      const b = core.blockByNumber(n)!;
      const tips = b.receipts
        .map((r) => r.effectiveTipPerGas)
        .filter((t) => t >= 2n)
        .sort((a, c) => (a < c ? -1 : a > c ? 1 : 0));
      samples.push(...tips.slice(0, 3));
    }
    if (samples.length === 0) return GWEI;
    samples.sort((a, c) => (a < c ? -1 : a > c ? 1 : 0));
    const tip = samples[Math.floor(((samples.length - 1) * 60) / 100)]!;
    return tip > 500n * GWEI ? 500n * GWEI : tip;
  }

  function feeHistory(params: unknown): Json {
    const p = positional(params, 2, 3);
    let count = arg(p, 0, hexOrDecimal64Param);
    const newestRef = arg(p, 1, blockNumberParam);
    const percentiles = optionalArg(p, 2, floatArrayParam) ?? [];
    percentiles.forEach((x, i) => {
      if (x < 0 || x > 100) throw new RpcError(RpcCode.invalidParams, `invalid reward percentile: ${x}`);
      if (i > 0 && x <= percentiles[i - 1]!)
        throw new RpcError(
          RpcCode.invalidParams,
          `invalid reward percentile: #${i - 1}:${percentiles[i - 1]} >= #${i}:${x}`,
        );
    });
    if (count === 0n) return { oldestBlock: '0x0', baseFeePerGas: [], gasUsedRatio: [] };
    if (count > MAX_FEE_HISTORY_BLOCKS) count = MAX_FEE_HISTORY_BLOCKS;
    const newest = byTag(newestRef);
    if (newest === undefined)
      throw new RpcError(
        RpcCode.server,
        `request beyond head block: requested ${'number' in newestRef ? newestRef.number : '?'}, head ${core.head().number}`,
      );
    let oldest = newest.number - count + 1n;
    if (oldest < 0n) oldest = 0n;
    const baseFees: Json[] = [];
    const ratios: Json[] = [];
    const rewards: Json[] = [];
    for (let n = oldest; n <= newest.number; n++) {
      const b = core.blockByNumber(n)!;
      baseFees.push(toQuantity(b.payload.baseFeePerGas));
      ratios.push(Number(b.payload.gasUsed) / Number(b.payload.gasLimit));
      if (percentiles.length > 0) {
        const txs = b.receipts
          .map((r) => ({ tip: r.effectiveTipPerGas, gas: r.gasUsed }))
          .sort((a, c) => (a.tip < c.tip ? -1 : a.tip > c.tip ? 1 : 0));
        rewards.push(
          percentiles.map((pct) => {
            if (txs.length === 0) return '0x0';
            const threshold = (Number(b.payload.gasUsed) * pct) / 100;
            let sum = 0;
            for (const t of txs) {
              sum += Number(t.gas);
              if (sum >= threshold) return toQuantity(t.tip);
            }
            return toQuantity(txs[txs.length - 1]!.tip);
          }),
        );
      }
    }
    // The next block's base fee follows the newest one.
    baseFees.push(toQuantity(nextBaseFee(newest)));
    const out: Record<string, Json> = {
      oldestBlock: toQuantity(oldest),
      baseFeePerGas: baseFees,
      gasUsedRatio: ratios,
      baseFeePerBlobGas: baseFees.map(() => '0x0'),
      blobGasUsedRatio: ratios.map(() => 0),
    };
    if (percentiles.length > 0) out['reward'] = rewards;
    return out;
  }

  function nextBaseFee(b: BlockRecord): bigint {
    const { gasUsed, gasLimit, baseFeePerGas } = b.payload;
    const target = gasLimit / 2n;
    if (gasUsed === target) return baseFeePerGas;
    if (gasUsed > target) {
      const delta = (baseFeePerGas * (gasUsed - target)) / target / 8n;
      return baseFeePerGas + (delta > 1n ? delta : 1n);
    }
    return baseFeePerGas - (baseFeePerGas * (target - gasUsed)) / target / 8n;
  }

  // ---------------------------------------------------------------- methods
  const methods: Record<string, Method> = {
    web3_clientVersion: (params) => (positional(params, 0, 0), core.clientVersion),
    web3_sha3: (params) => {
      const p = positional(params, 1, 1);
      return hex(keccak256(arg(p, 0, bytesParam)));
    },
    net_version: (params) => (positional(params, 0, 0), core.chainId.toString()),
    net_listening: (params) => (positional(params, 0, 0), true),
    net_peerCount: (params) => (positional(params, 0, 0), '0x0'),
    eth_chainId: (params) => (positional(params, 0, 0), toQuantity(core.chainId)),
    eth_syncing: (params) => (positional(params, 0, 0), false),
    eth_accounts: (params) => (positional(params, 0, 0), []),
    eth_blockNumber: (params) => (positional(params, 0, 0), toQuantity(core.head().number)),
    eth_gasPrice: (params) => (positional(params, 0, 0), toQuantity(suggestTip() + nextBaseFee(core.head()))),
    eth_maxPriorityFeePerGas: (params) => (positional(params, 0, 0), toQuantity(suggestTip())),
    eth_feeHistory: feeHistory,
    eth_getBlockByNumber: (params) => {
      const p = positional(params, 2, 2);
      const ref = arg(p, 0, blockNumberParam);
      const full = arg(p, 1, boolParam);
      const b = byTag(ref);
      return b === undefined ? null : formatBlock(core, b, full);
    },
    eth_getBlockByHash: (params) => {
      const p = positional(params, 2, 2);
      const hash = arg(p, 0, hashParam);
      const full = arg(p, 1, boolParam);
      const b = core.blockByHash(hash);
      return b === undefined ? null : formatBlock(core, b, full);
    },
    eth_getBlockTransactionCountByNumber: (params) => {
      const p = positional(params, 1, 1);
      const b = byTag(arg(p, 0, blockNumberParam));
      return b === undefined ? null : toQuantity(b.receipts.length);
    },
    eth_getBlockTransactionCountByHash: (params) => {
      const p = positional(params, 1, 1);
      const b = core.blockByHash(arg(p, 0, hashParam));
      return b === undefined ? null : toQuantity(b.receipts.length);
    },
    eth_getUncleCountByBlockNumber: (params) => {
      const p = positional(params, 1, 1);
      return byTag(arg(p, 0, blockNumberParam)) === undefined ? null : '0x0';
    },
    eth_getTransactionByHash: (params) => {
      const p = positional(params, 1, 1);
      const hash = arg(p, 0, hashParam);
      const loc = core.txLocation(hash);
      if (loc !== undefined) return formatMinedTransaction(core, loc.block, loc.index);
      const pending = core.pendingTx(hash);
      return pending === undefined ? null : formatPendingTransaction(core, pending);
    },
    eth_getTransactionByBlockNumberAndIndex: (params) => {
      const p = positional(params, 2, 2);
      const b = byTag(arg(p, 0, blockNumberParam));
      const i = arg(p, 1, (v) => quantityParam(v, 64));
      return b === undefined || i >= BigInt(b.receipts.length) ? null : formatMinedTransaction(core, b, Number(i));
    },
    eth_getTransactionByBlockHashAndIndex: (params) => {
      const p = positional(params, 2, 2);
      const b = core.blockByHash(arg(p, 0, hashParam));
      const i = arg(p, 1, (v) => quantityParam(v, 64));
      return b === undefined || i >= BigInt(b.receipts.length) ? null : formatMinedTransaction(core, b, Number(i));
    },
    eth_getTransactionReceipt: (params) => {
      const p = positional(params, 1, 1);
      const loc = core.txLocation(arg(p, 0, hashParam));
      return loc === undefined ? null : formatReceipt(core, loc.block, loc.index, firstLogIndex(loc.block, loc.index));
    },
    eth_getBlockReceipts: (params) => {
      const p = positional(params, 1, 1);
      const b = byTag(arg(p, 0, blockNumberOrHashParam));
      return b === undefined ? null : formatBlockReceipts(core, b);
    },
    eth_getLogs: getLogs,
    eth_getProof: getProof,
    eth_getBalance: async (params) => {
      const { block, address } = await accountAt(params, addressParam);
      return core.withState(block, async (s) =>
        toQuantity((await s.getAccount(new Address(bytesOf(address))))?.balance ?? 0n),
      );
    },
    eth_getTransactionCount: async (params) => {
      const p = positional(params, 2, 2);
      const address = arg(p, 0, addressParam);
      const ref = arg(p, 1, blockNumberOrHashParam);
      const block = stateBlock(ref);
      const nonce = await core.withState(
        block,
        async (s) => (await s.getAccount(new Address(bytesOf(address))))?.nonce ?? 0n,
      );
      if ('tag' in ref && ref.tag === 'pending') {
        // geth: the pool's next nonce for the sender (consecutive pending transactions counted)
        let n = nonce;
        while (core.poolHasNonce(address, n)) n++;
        return toQuantity(n);
      }
      return toQuantity(nonce);
    },
    eth_getCode: async (params) => {
      const { block, address } = await accountAt(params, addressParam);
      return core.withState(block, async (s) => hex(await s.getCode(new Address(bytesOf(address)))));
    },
    eth_getStorageAt: async (params) => {
      const p = positional(params, 3, 3);
      const address = arg(p, 0, addressParam);
      const slot = arg(p, 1, storageKeyParam);
      const block = stateBlock(arg(p, 2, blockNumberOrHashParam));
      return core.withState(block, async (s) => {
        const v = await s.getStorage(new Address(bytesOf(address)), slot);
        const out = new Uint8Array(32);
        out.set(v, 32 - v.length);
        return hex(out);
      });
    },
    eth_call: ethCall,
    eth_estimateGas: ethEstimateGas,
    eth_sendRawTransaction: async (params) => {
      const p = positional(params, 1, 1);
      const raw = arg(p, 0, bytesParam);
      return core.sendRawTransaction(raw);
    },
  };

  async function handleOne(req: unknown): Promise<JsonRpcResponse | undefined> {
    if (req === null || typeof req !== 'object' || Array.isArray(req))
      return errorResponse(null, RpcCode.invalidRequest, 'invalid request');
    const r = req as Record<string, unknown>;
    const hasId = 'id' in r;
    const id = r['id'];
    if (hasId && id !== null && typeof id !== 'string' && typeof id !== 'number')
      return errorResponse(null, RpcCode.invalidRequest, 'invalid request');
    const rid = (hasId ? id : null) as string | number | null;
    if (r['jsonrpc'] !== '2.0' || typeof r['method'] !== 'string')
      return errorResponse(rid, RpcCode.invalidRequest, 'invalid request');
    const name = r['method'];
    const method = Object.hasOwn(methods, name) ? methods[name] : undefined;
    if (method === undefined)
      return hasId
        ? errorResponse(rid, RpcCode.methodNotFound, `the method ${name} does not exist/is not available`)
        : undefined;
    let response: JsonRpcResponse;
    try {
      response = { jsonrpc: '2.0', id: rid, result: await method(r['params']) };
    } catch (e) {
      if (e instanceof RpcError) response = errorResponse(rid, e.code, e.message, e.data);
      else if (e instanceof ParamError) response = errorResponse(rid, RpcCode.invalidParams, e.message);
      else
        response = errorResponse(
          rid,
          RpcCode.internal,
          `internal error: ${e instanceof Error ? e.message : String(e)}`,
        );
    }
    return hasId ? response : undefined;
  }

  return async (request: unknown): Promise<unknown> => {
    if (Array.isArray(request)) {
      if (request.length === 0) return errorResponse(null, RpcCode.invalidRequest, 'empty batch');
      if (request.length > MAX_BATCH)
        return errorResponse(null, RpcCode.invalidRequest, `batch too large (at most ${MAX_BATCH} requests)`);
      const out: JsonRpcResponse[] = [];
      for (const item of request) {
        const res = await handleOne(item);
        if (res !== undefined) out.push(res);
      }
      return out.length === 0 ? undefined : out;
    }
    return handleOne(request);
  };
}
