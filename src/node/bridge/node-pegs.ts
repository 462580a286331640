/**
 * Peg tracking as the node wires it (issue 16 item 7). When `bitcoin.esplora` lists endpoints the
 * node gets: the Bitcoin SPV client (spv.ts, imported on the node's first start, not on its load
 * path), synced in the background every `pollMs` and on demand before a peg question, its endpoint
 * faults charged on the NetworkActor's scores; and the BridgeActor's `pegs` arguments: the tracker's
 * KvStore through the StorageActor's scoped records (`x/peg/...`: never a second handle on the
 * store), the node's verified EVM reads as receipts, and the verified stored block at a height
 * (hash = signing root). After each SPV sync that moved the verified tip the bridge is told to
 * `refresh`. `nodeBridge` is the library's `node.bridge` over the BridgeActor.
 */
import type { ActorSystem } from '../../actors/index.js';
import type { BitcoinConfig } from '../../config/schema.js';
import { signingRoot } from '../../protocol/block.js';
import { toHex } from '../../protocol/bytes.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';
import { type BridgeActor, type BridgePegArgs, PegUnavailableError } from '../actors/bridge.js';
import type { StorageActor } from '../actors/storage.js';
import { LightNodeError } from '../errors.js';
import type { KvOp, KvStore } from '../storage/kv.js';
import type { SourceFault } from '../workflows/scores.js';
import type { BitcoinView, BtcTip } from './bitcoin-view.js';
import type { VerifiedBlockRef } from './evidence.js';
import type { BitcoinSpv } from './spv.js';
import type { PegEvent, PegReceiptSource, PegView } from './tracker.js';

/** The library's `node.bridge`: where a wallet's peg-ins and peg-outs stand (spec 6.5), from verified evidence. */
export interface NodeBridge {
  /** The federation's taproot deposit address (Alys `getdepositaddress`). */
  depositAddress(): Promise<string>;
  /** Track the peg-in `txid` (Bitcoin txid, display hex) and answer where it stands. */
  trackPegIn(txid: string): Promise<PegView>;
  /** Track the peg-out requested by the EVM tx `hash`. */
  trackPegOut(hash: string): Promise<PegView>;
  /** Track the peg-ins minting to and the peg-outs requested by the EVM address `address`. */
  trackAddress(address: string): Promise<PegView[]>;
  /** A Bitcoin txid, an EVM tx hash or an EVM address: tracked (if not yet) and answered. */
  pegStatus(key: string): Promise<PegView[]>;
  /** Every tracked peg, oldest first. */
  pegs(): Promise<PegView[]>;
}

export type { PegEvent, PegView };

/** How the tracker reaches the running node's actors. */
type SystemRef = () => ActorSystem | undefined;

const ASK = { timeoutMs: 60_000 };

function running(system: SystemRef): ActorSystem {
  const s = system();
  if (!s) throw new LightNodeError('not-started', 'start the light node before asking about pegs');
  return s;
}

const storage = (system: SystemRef, address: string) => running(system).ref<typeof StorageActor>(address);

/**
 * A KvStore over the StorageActor's scoped records (keys as the tracker names them, stored under
 * `x/`). `clear` is refused: the tracker never clears, and nothing else may through this handle.
 */
export function storageRecordStore(system: SystemRef, address: string, kind: KvStore['kind']): KvStore {
  return {
    kind,
    async get(key) {
      return (await storage(system, address).ask({ type: 'scoped-get', keys: [key] }, ASK))[0];
    },
    getMany: (keys) => storage(system, address).ask({ type: 'scoped-get', keys: [...keys] }, ASK),
    batch: (ops: readonly KvOp[]) => storage(system, address).ask({ type: 'scoped-batch', ops: [...ops] }, ASK),
    keys: (prefix, limit) =>
      storage(system, address).ask({ type: 'scoped-keys', prefix, ...(limit === undefined ? {} : { limit }) }, ASK),
    clear: () => Promise.reject(new LightNodeError('storage.bad-record', 'the peg records cannot clear the store')),
    close: async () => {},
  };
}

/** The verified stored block at `number` (its hash: the signing root), undefined when none is stored. */
export function storedBlockAt(system: SystemRef, address: string) {
  return async (number: number): Promise<VerifiedBlockRef | undefined> => {
    const block = (await storage(system, address).ask({ type: 'block', number }, ASK)) as
      | SignedConsensusBlock
      | undefined;
    return block ? { number, hash: toHex(signingRoot(block.message)), block } : undefined;
  };
}

/** A BitcoinView over an SPV client made later (on start): before, nothing is known and lookups fail typed. */
class LaterBitcoinView implements BitcoinView {
  spv: BitcoinSpv | undefined;
  tip(): BtcTip | null {
    return this.spv?.tip() ?? null;
  }
  lookupTx(txid: string) {
    return this.spv ? this.spv.lookupTx(txid) : Promise.reject(new PegUnavailableError());
  }
  confirmations(inclusion: { blockHash: string; height: number }): number {
    return this.spv?.confirmations(inclusion) ?? 0;
  }
  addressTxids(address: string, limit?: number) {
    return this.spv ? this.spv.addressTxids(address, limit) : Promise.reject(new PegUnavailableError());
  }
}

export interface NodePegsOptions {
  config: BitcoinConfig;
  spec: ChainSpec;
  fetch?: typeof fetch;
  receipts: PegReceiptSource;
  system: SystemRef;
  addresses: { storage: string; bridge: string };
  /** The store's kind, as the tracker's KvStore reports it. */
  storeKind: KvStore['kind'];
  /** Charge an Esplora endpoint (the NetworkActor's scores). */
  charge(endpoint: string, kind: SourceFault, reason: string): void;
  /** Background SPV sync period (default 30,000 ms). */
  pollMs?: number;
}

export interface NodePegs {
  args: BridgePegArgs;
  /** Make the SPV client (first start) and sync it in the background. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One SPV sync now (shared with one in flight); a failure is only reported. */
  syncBitcoin(): Promise<void>;
}

/** Peg tracking for a node whose `bitcoin.esplora` lists endpoints; undefined when it lists none. */
export function createNodePegs(o: NodePegsOptions): NodePegs | undefined {
  if (o.config.esplora.length === 0) return undefined;
  const view = new LaterBitcoinView();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = true;
  let lastTip = '';
  const tell = (msg: { type: 'refresh' }) => {
    const sys = o.system();
    if (sys) void sys.ref<typeof BridgeActor>(o.addresses.bridge).tell(msg);
  };
  const syncBitcoin = async (): Promise<void> => {
    if (!view.spv) return;
    try {
      const tip = await view.spv.sync();
      if (`${tip.height}:${tip.hash}` !== lastTip && lastTip !== '') tell({ type: 'refresh' });
      lastTip = `${tip.height}:${tip.hash}`;
    } catch {
      // no endpoint could help this round: the faults were charged; the next round tries again
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void syncBitcoin().finally(schedule), o.pollMs ?? 30_000);
  };
  return {
    args: {
      store: storageRecordStore(o.system, o.addresses.storage, o.storeKind),
      spec: o.spec,
      bitcoin: view,
      receipts: o.receipts,
      blockAt: storedBlockAt(o.system, o.addresses.storage),
      // testnet4 addresses use testnet's hrp (tb), as rust-bitcoin's Network::Testnet4 does
      network: o.config.network === 'testnet4' ? 'testnet' : o.config.network,
      refreshMs: o.pollMs ?? 30_000,
    },
    async start() {
      if (!view.spv) {
        const { bitcoinSpvOptions, createBitcoinSpv } = await import('./spv.js');
        view.spv = createBitcoinSpv({
          ...bitcoinSpvOptions(o.config, o.spec),
          ...(o.fetch ? { fetch: o.fetch } : {}),
          onFault: (endpoint, kind, error) => o.charge(endpoint, kind, error.message),
        });
      }
      stopped = false;
      void syncBitcoin().finally(schedule);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await view.spv?.stop();
    },
    syncBitcoin,
  };
}

/** `node.bridge` over the BridgeActor: each question syncs Bitcoin once first (when peg tracking is wired). */
export function nodeBridge(system: SystemRef, address: string, pegs: () => NodePegs | undefined): NodeBridge {
  const ask = async <T>(msg: Parameters<ReturnType<typeof bridgeRef>['ask']>[0]): Promise<T> => {
    const p = pegs();
    if (!p) throw new PegUnavailableError();
    const ref = bridgeRef(system, address);
    if (msg.type !== 'pegs' && msg.type !== 'deposit-address') await p.syncBitcoin();
    return (await ref.ask(msg, ASK)) as T;
  };
  return {
    depositAddress: () => ask({ type: 'deposit-address' }),
    trackPegIn: (txid) => ask({ type: 'track-pegin', txid }),
    trackPegOut: (hash) => ask({ type: 'track-pegout', hash }),
    trackAddress: (a) => ask({ type: 'track-address', address: a }),
    pegStatus: (key) => ask({ type: 'peg-status', key }),
    pegs: () => ask({ type: 'pegs' }),
  };
}

const bridgeRef = (system: SystemRef, address: string) => running(system).ref<typeof BridgeActor>(address);
