/**
 * The devnet EVM's mempool: admission with geth's checks and wording (sendRawTransaction), geth's
 * 10% price bump for replacements, geth-like selection into a block, and pruning after a block.
 * Not serialised here: the engine runs every call on its serial queue.
 */
import type { TypedTransaction } from '@ethereumjs/tx';
import { Account, Address } from '@ethereumjs/util';
import type { Hex } from '../../protocol/types.js';
import type { DevnetCommon } from './crypto.js';
import { RpcCode, RpcError } from './errors.js';
import type { PoolTx, TxLocation } from './records.js';
import { decodeRawTransaction, effectiveGasPrice, maxFeeOf, tipCapOf } from './transaction.js';
import { bytesOf } from './hex.js';

/** Runs one transaction into the block being built; throws if it cannot be included. */
export type TryInclude = (raw: Uint8Array, tx: TypedTransaction, from: Hex, hash: Hex) => Promise<void>;

export interface Mempool {
  size(): number;
  /** By lowercase 0x hash. */
  get(hash: string): PoolTx | undefined;
  /** Whether a transaction of `from` (lowercase) with this nonce is waiting. */
  hasNonce(from: string, nonce: bigint): boolean;
  /** Check a raw transaction against the head state and admit it; returns its hash. Throws RpcError. */
  add(raw: Uint8Array): Promise<Hex>;
  /**
   * Offer waiting transactions to `tryInclude` in geth's order (highest tip first, each sender's
   * nonces in sequence) until the block is full; ones that fail are dropped.
   */
  fillBlock(baseFee: bigint, blockGasLimit: bigint, gasUsed: () => bigint, tryInclude: TryInclude): Promise<void>;
  /** After a block: forget its transactions and those whose nonce is now used. */
  afterBlock(includedHashes: readonly Hex[]): Promise<void>;
}

export interface MempoolDeps {
  common: DevnetCommon;
  /** The head state's accounts (nonce and balance checks). */
  getAccount(address: Address): Promise<Account | undefined>;
  /** Whether a transaction is already in a block. */
  findTx(hash: string): TxLocation | undefined;
  /** The block gas limit a transaction must fit. */
  blockGasLimit(): bigint;
}

export function createMempool(deps: MempoolDeps): Mempool {
  const pool = new Map<string, PoolTx>();
  const poolBySender = new Map<string, Map<bigint, PoolTx>>();
  let poolArrival = 0;

  const accountOf = (from: Hex | string) => deps.getAccount(new Address(bytesOf(from)));

  async function add(raw: Uint8Array): Promise<Hex> {
    const { tx, from, hash } = decodeRawTransaction(deps.common, raw);
    if (pool.has(hash) || deps.findTx(hash) !== undefined) throw new RpcError(RpcCode.server, 'already known');
    const account = (await accountOf(from)) ?? new Account();
    if (tx.nonce < account.nonce)
      throw new RpcError(RpcCode.server, `nonce too low: address ${from}, tx: ${tx.nonce} state: ${account.nonce}`);
    if (tx.gasLimit > deps.blockGasLimit()) throw new RpcError(RpcCode.server, 'exceeds block gas limit');
    const intrinsic = tx.getIntrinsicGas();
    if (tx.gasLimit < intrinsic)
      throw new RpcError(RpcCode.server, `intrinsic gas too low: gas ${tx.gasLimit}, minimum needed ${intrinsic}`);
    const cost = tx.gasLimit * maxFeeOf(tx) + tx.value;
    if (account.balance < cost)
      throw new RpcError(
        RpcCode.server,
        `insufficient funds for gas * price + value: address ${from} have ${account.balance} want ${cost}`,
      );
    const senderTxs = poolBySender.get(from) ?? new Map<bigint, PoolTx>();
    const existing = senderTxs.get(tx.nonce);
    if (existing !== undefined) {
      // geth's price bump: 10% on both the fee cap and the tip cap.
      const bump = (old: bigint) => old + old / 10n;
      if (maxFeeOf(tx) < bump(maxFeeOf(existing.tx)) || tipCapOf(tx) < bump(tipCapOf(existing.tx)))
        throw new RpcError(RpcCode.server, 'replacement transaction underpriced');
      pool.delete(existing.hash);
    }
    const entry: PoolTx = { hash, raw: new Uint8Array(raw), tx, from, nonce: tx.nonce, arrival: poolArrival++ };
    senderTxs.set(tx.nonce, entry);
    poolBySender.set(from, senderTxs);
    pool.set(hash, entry);
    return hash;
  }

  function remove(entry: PoolTx): void {
    pool.delete(entry.hash);
    const m = poolBySender.get(entry.from);
    if (m !== undefined && m.get(entry.nonce) === entry) {
      m.delete(entry.nonce);
      if (m.size === 0) poolBySender.delete(entry.from);
    }
  }

  /** Per sender, the waiting transactions that can run in order from the sender's current nonce. */
  async function executableQueues(): Promise<PoolTx[][]> {
    const queues: PoolTx[][] = [];
    for (const [from, txs] of poolBySender) {
      const account = await accountOf(from);
      let nonce = account?.nonce ?? 0n;
      const q: PoolTx[] = [];
      for (let t = txs.get(nonce); t !== undefined; t = txs.get(++nonce)) q.push(t);
      if (q.length > 0) queues.push(q);
    }
    return queues;
  }

  /**
   * geth-like selection: per sender the executable nonce sequence, across senders the highest
   * effective tip first (ties: arrival order). A transaction that fails validation is dropped with
   * the rest of its sender's sequence left for later; one that does not fit the remaining gas ends
   * its sender's turn in this block.
   */
  async function fillBlock(
    baseFee: bigint,
    blockGasLimit: bigint,
    gasUsed: () => bigint,
    tryInclude: TryInclude,
  ): Promise<void> {
    const queues = await executableQueues();
    const tipOf = (t: PoolTx) => {
      const price = effectiveGasPrice(t.tx, baseFee);
      return price - baseFee;
    };
    while (queues.length > 0 && blockGasLimit - gasUsed() >= 21_000n) {
      let best = 0;
      for (let i = 1; i < queues.length; i++) {
        const a = queues[i]![0]!;
        const b = queues[best]![0]!;
        const ta = tipOf(a);
        const tb = tipOf(b);
        if (ta > tb || (ta === tb && a.arrival < b.arrival)) best = i;
      }
      const q = queues[best]!;
      const entry = q[0]!;
      if (maxFeeOf(entry.tx) < baseFee || entry.tx.gasLimit > blockGasLimit - gasUsed()) {
        queues.splice(best, 1); // stays in the pool for a later block
        continue;
      }
      try {
        await tryInclude(entry.raw, entry.tx, entry.from, entry.hash);
        q.shift();
        if (q.length === 0) queues.splice(best, 1);
      } catch {
        remove(entry); // invalid now (e.g. balance spent meanwhile): dropped, as geth would
        queues.splice(best, 1);
      }
    }
  }

  async function afterBlock(includedHashes: readonly Hex[]): Promise<void> {
    for (const hash of includedHashes) {
      const entry = pool.get(hash);
      if (entry !== undefined) remove(entry);
    }
    if (pool.size === 0) return;
    for (const [from, txs] of poolBySender) {
      const account = await accountOf(from);
      const nonce = account?.nonce ?? 0n;
      for (const entry of [...txs.values()])
        if (entry.nonce < nonce || deps.findTx(entry.hash) !== undefined) remove(entry);
    }
  }

  return {
    size: () => pool.size,
    get: (hash) => pool.get(hash),
    hasNonce: (from, nonce) => poolBySender.get(from)?.has(nonce) ?? false,
    add,
    fillBlock,
    afterBlock,
  };
}
