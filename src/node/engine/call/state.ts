/**
 * The state a verified call executes against: accounts, storage slots and code of ONE verified block,
 * each fetched from the endpoints with `eth_getProof` (code with `eth_getCode`) and verified against the
 * payload's stateRoot by reads/state.ts (`proveAccountAt`: the `getproof.*` and `code.hash` checks; a lie
 * is a fault of that endpoint and the next one is asked).
 *
 * What was proven is kept in a {@link ProvenStateCache} shared by all calls (keyed by block hash, so it
 * is immutable and bounded: an LRU of entries) and in-flight fetches are shared, so a prefetch and the
 * EVM asking for the same account make one request. `prefetch` is how the access-list hint is used:
 * it only decides WHAT is fetched up front (every proof and code in ONE JSON-RPC batch request,
 * `proveAccountsAt`); every value the EVM reads still comes from a proof. A prefetch that fails (a lie,
 * a bad batch reply) leaves the reads to the on-demand path: one account at a time, separate requests.
 */
import { EMPTY_CODE_HASH, EMPTY_TRIE_ROOT } from '../../../protocol/execution/index.js';
import { parseHex, toHex, type Hex } from '../../../protocol/bytes.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import { Lru } from '../reads/cache.js';
import { lower, type ReadContext } from '../reads/context.js';
import { type ProvenAccountAt, proveAccountAt, proveAccountsAt } from '../reads/state.js';

/** A proven account (exists = false: the proof shows it absent; the other fields are then zero/empty). */
export interface ProvenAccount {
  exists: boolean;
  nonce: bigint;
  balance: bigint;
  storageHash: Hex;
  codeHash: Hex;
}

/** What one prefetch asks for: an account and some of its slots (32-byte lowercase hex keys). */
export interface PrefetchItem {
  address: Hex;
  slots: readonly Hex[];
  /** Fetch the code too (default true; false for a sender, whose code a call does not run). */
  code?: boolean;
}

export interface BlockState {
  readonly payload: ExecutionPayloadCapella;
  account(address: Hex): Promise<ProvenAccount>;
  storage(address: Hex, slot: Hex): Promise<bigint>;
  /** The code whose keccak is the account's proven codeHash (empty for accounts without code). */
  code(address: Hex): Promise<Uint8Array>;
  /** Fetch and prove these accounts (with code) and slots now, in one batch; failures are left to on-demand reads. */
  prefetch(items: readonly PrefetchItem[]): Promise<void>;
}

export interface ProvenStateCache {
  readonly accounts: Lru<string, Promise<ProvenAccount>>;
  readonly slots: Lru<string, Promise<bigint>>;
  /** Code by its hash (content-addressed, the same at every block). */
  readonly code: Lru<Hex, Uint8Array>;
  /** In-flight code fetches by block and address. */
  readonly codeByAccount: Lru<string, Promise<Uint8Array>>;
}

/** Bounded: 4,096 accounts, 16,384 slots, 256 contract codes. */
export function createProvenStateCache(): ProvenStateCache {
  return { accounts: new Lru(4096), slots: new Lru(16_384), code: new Lru(256), codeByAccount: new Lru(4096) };
}

const EMPTY_CODE = toHex(EMPTY_CODE_HASH);
const EMPTY_ROOT = toHex(EMPTY_TRIE_ROOT);

/** A slot key as 32-byte lowercase hex. */
export function slotKey(slot: Hex | bigint): Hex {
  const n = typeof slot === 'bigint' ? slot : BigInt(slot);
  return `0x${n.toString(16).padStart(64, '0')}` as Hex;
}

/** One item per address (slots united, code if any item wants it), in first-seen order. */
function merged(items: readonly PrefetchItem[]): PrefetchItem[] {
  const by = new Map<Hex, { address: Hex; slots: Set<Hex>; code: boolean }>();
  for (const { address, slots, code = true } of items) {
    const e = by.get(address) ?? { address, slots: new Set<Hex>(), code: false };
    for (const s of slots) e.slots.add(s);
    e.code ||= code;
    by.set(address, e);
  }
  return [...by.values()].map((e) => ({ address: e.address, slots: [...e.slots], code: e.code }));
}

export function createBlockState(
  ctx: ReadContext,
  cache: ProvenStateCache,
  payload: ExecutionPayloadCapella,
): BlockState {
  const block = lower(payload.blockHash);
  const aKey = (address: Hex) => `${block}|${address}`;
  const sKey = (address: Hex, slot: Hex) => `${block}|${address}|${slot}`;
  const forget = <V>(lru: Lru<string, Promise<V>>, key: string, p: Promise<V>) => {
    p.catch(() => {
      if (lru.get(key) === p) lru.delete(key);
    });
  };

  /** One eth_getProof (+ eth_getCode if asked) for an account and slots; fills the caches as it resolves. */
  function fetch(address: Hex, slots: readonly Hex[], withCode: boolean): Promise<void> {
    return fill(address, slots, withCode, proveAccountAt(ctx, payload, address, slots, withCode));
  }

  /** Put the account, slots and code that `proof` will prove in the caches (as promises). */
  function fill(
    address: Hex,
    slots: readonly Hex[],
    withCode: boolean,
    proof: Promise<ProvenAccountAt>,
  ): Promise<void> {
    if (cache.accounts.get(aKey(address)) === undefined) {
      const account = proof.then(
        (a): ProvenAccount => ({
          exists: a.exists,
          nonce: a.nonce,
          balance: a.balance,
          storageHash: a.storageHash,
          codeHash: a.codeHash,
        }),
      );
      cache.accounts.set(aKey(address), account);
      forget(cache.accounts, aKey(address), account);
    }
    slots.forEach((slot, i) => {
      const p = proof.then((a) => a.storage[i]!.value);
      cache.slots.set(sKey(address, slot), p);
      forget(cache.slots, sKey(address, slot), p);
    });
    if (withCode) {
      const code = proof.then((a) => {
        const bytes = parseHex(a.code!, 'code', { prefix: 'required' });
        cache.code.set(a.codeHash, bytes);
        return bytes;
      });
      cache.codeByAccount.set(aKey(address), code);
      forget(cache.codeByAccount, aKey(address), code);
    }
    return proof.then(() => undefined);
  }

  async function account(address: Hex): Promise<ProvenAccount> {
    const cached = cache.accounts.get(aKey(address));
    if (cached !== undefined) return cached;
    // Code comes with the account (in parallel): an account the EVM reads is usually one it calls.
    void fetch(address, [], true).catch(() => {});
    return cache.accounts.get(aKey(address))!;
  }

  async function storage(address: Hex, slot: Hex): Promise<bigint> {
    const cached = cache.slots.get(sKey(address, slot));
    if (cached !== undefined) return cached;
    const known = cache.accounts.get(aKey(address));
    if (known !== undefined) {
      const a = await known;
      if (!a.exists || a.storageHash === EMPTY_ROOT) return 0n;
    }
    const again = cache.slots.get(sKey(address, slot));
    if (again !== undefined) return again;
    void fetch(address, [slot], false).catch(() => {});
    return cache.slots.get(sKey(address, slot))!;
  }

  async function code(address: Hex): Promise<Uint8Array> {
    const a = await account(address);
    if (!a.exists || a.codeHash === EMPTY_CODE) return new Uint8Array(0);
    const byHash = cache.code.get(a.codeHash);
    if (byHash !== undefined) return byHash;
    const inFlight = cache.codeByAccount.get(aKey(address));
    if (inFlight !== undefined) return inFlight;
    await fetch(address, [], true);
    return cache.codeByAccount.get(aKey(address)) ?? cache.code.get(a.codeHash)!;
  }

  async function prefetch(items: readonly PrefetchItem[]): Promise<void> {
    const queries: { address: Hex; slots: Hex[]; withCode: boolean }[] = [];
    for (const { address, slots, code = true } of merged(items)) {
      const missing = slots.filter((s) => cache.slots.get(sKey(address, s)) === undefined);
      const needAccount = cache.accounts.get(aKey(address)) === undefined;
      if (!needAccount && missing.length === 0) continue;
      queries.push({ address, slots: missing, withCode: code && needAccount });
    }
    if (queries.length === 0) return;
    const proven = proveAccountsAt(ctx, payload, queries);
    const work = queries.map((q, i) =>
      fill(
        q.address,
        q.slots,
        q.withCode,
        proven.then((all) => all[i]!),
      ),
    );
    await Promise.allSettled(work);
  }

  return { payload, account, storage, code, prefetch };
}
