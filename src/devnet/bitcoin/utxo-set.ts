/**
 * The regtest chain's UTXO set, indexed by outpoint and by output script. A loaded chain hands
 * over its stored list, which is materialised on first use.
 */
import type { TxOut } from '../../protocol/types.js';
import { key, outpointKey } from './block-record.js';
import { BitcoinChainError } from './errors.js';
import type { SnapshotUtxo } from './persist.js';

export interface UtxoEntry {
  txid: Uint8Array;
  vout: number;
  output: TxOut;
  height: number;
  coinbase: boolean;
}

export interface UtxoSet {
  /** The entry at an outpoint key (see block-record.ts `outpointKey`). */
  get(outpoint: string): UtxoEntry | undefined;
  /** Outpoint keys of the entries locked by a script, by script key; undefined if none. */
  outpointsOf(scriptKey: string): ReadonlySet<string> | undefined;
  add(e: UtxoEntry): void;
  /** Remove an entry; returns its value. Throws if it is not in the set. */
  spend(outpoint: string): bigint;
  /** Entries in the set (materialising a pending list first). */
  size(): number;
  /** Take a stored list as the set, materialised on first use. */
  setPending(list: SnapshotUtxo[]): void;
  /** The set as persist.ts stores it (the pending list as is, if never materialised). */
  toSnapshot(): SnapshotUtxo[];
}

export function createUtxoSet(): UtxoSet {
  const entries = new Map<string, UtxoEntry>();
  const byScript = new Map<string, Set<string>>();
  let pending: SnapshotUtxo[] | undefined;

  /** The entries, materialised from a pending list on first use. */
  function materialised(): Map<string, UtxoEntry> {
    if (pending) {
      const list = pending;
      pending = undefined;
      for (const u of list)
        add({
          txid: u.txid,
          vout: u.vout,
          height: u.height,
          coinbase: u.coinbase,
          output: { value: u.value, scriptPubkey: u.script },
        });
    }
    return entries;
  }

  function add(e: UtxoEntry): void {
    const outpoint = outpointKey(key(e.txid), e.vout);
    entries.set(outpoint, e);
    const sk = key(e.output.scriptPubkey);
    let set = byScript.get(sk);
    if (!set) byScript.set(sk, (set = new Set()));
    set.add(outpoint);
  }

  function spend(outpoint: string): bigint {
    const e = materialised().get(outpoint);
    if (!e) throw new BitcoinChainError('a block spends an output that is not in the UTXO set');
    entries.delete(outpoint);
    const sk = key(e.output.scriptPubkey);
    const set = byScript.get(sk);
    set?.delete(outpoint);
    if (set && set.size === 0) byScript.delete(sk);
    return e.output.value;
  }

  return {
    get: (outpoint) => materialised().get(outpoint),
    outpointsOf: (scriptKey) => {
      materialised();
      return byScript.get(scriptKey);
    },
    add: (e) => {
      materialised();
      add(e);
    },
    spend,
    size: () => materialised().size,
    setPending: (list) => {
      pending = list;
    },
    toSnapshot: () =>
      pending ??
      [...entries.values()].map((u) => ({
        txid: u.txid,
        vout: u.vout,
        height: u.height,
        coinbase: u.coinbase,
        value: u.output.value,
        script: u.output.scriptPubkey,
      })),
  };
}
