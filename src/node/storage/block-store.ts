/**
 * The light node's verified chain on a KvStore, built so a warm start is fast and a damaged store
 * is noticed:
 *
 *   meta              sha256(json) || json (format 4, `meta.ts`: checksummed and schema-checked
 *                     on load): chain id, spec fingerprint, genesis hash (once stored), mode, the
 *                     stored head, the lowest stored block (`history.from`) and the
 *                     ChainVerifier snapshot at the head
 *   b/<number:12>     record = sha256(rest) || root || msgpack(SignedConsensusBlock)
 *   h/<hash>          number (index by hash)
 *   x/<name>          records of other actors (the FederationActor's `x/federation`): kept by
 *                     `init` (a cold start restarts the chain, not what they hold), dropped by `clear`
 *
 * The stored blocks are the contiguous range history.from..head, each linked to the one below it
 * (its `parent_hash` is that block's signing root): a genesis replay stores from block 0; a
 * head-first start (`protocol/anchor.ts`) stores from the start of the latest PoW range, and the
 * backfill prepends older blocks (`prepend`), so both ways end with the same records. A warm start
 * checks the meta, re-derives the roots of the blocks the verifier still needs (its window, from
 * the last finalized block to the head), checks their hash links (consensus `parent_hash` and
 * payload `parent_hash`) and that the snapshot's window names those very blocks, plus random spot
 * checks of older records. It does not verify signatures: the one
 * BLS check of a warm start, the stored head's approvals, is the ChainActor's (which holds the
 * prepared authorities; see `storedHeadProblem`). Every read re-checks its record (checksum,
 * recomputed root, height) and throws a CorruptStoreError for a damaged one. A damaged meta or
 * window makes the store `corrupt`: the node clears it and re-syncs rather than trust it. A damaged
 * record of the older history (a spot check, or a read: `damagedOnRead`) moves `history.from`
 * above it, the last good point, and the backfill fetches the rest again.
 *
 * The store is bound to the chain spec: the meta records the spec's fingerprint
 * (`src/protocol/spec-fingerprint.ts`), and a store whose meta names another spec (or another
 * chain id, or an older format: 1, 2, 3) loads as `other-spec`, never as a chain; the StorageActor
 * sets it aside and the node starts fresh.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { authoritiesAt, verifyAggregateApproval, type AuthoritySource } from '../../protocol/approvals.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import { signingRoot } from '../../protocol/block.js';
import { concatBytes, equalBytes, fromHex, toHex, type Hex } from '../../protocol/bytes.js';
import type { ChainVerifierSnapshot } from '../../protocol/chain-verifier.js';
import { decodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import type { KvOp, KvStore } from './kv.js';
import { CorruptStoreError, decodeMeta, encodeMeta, FORMAT, MAX_WINDOW, type StoredMeta } from './meta.js';

export { CorruptStoreError, type StoredMeta } from './meta.js';

export interface AppendBlock {
  number: number;
  hash: Hex;
  /** msgpack SignedConsensusBlock */
  block: Uint8Array;
}

/**
 * Who made a store found under another spec (its `spec` is null for a store of an older format,
 * whose `format` is then set).
 */
export interface OtherSpec {
  chainId: number;
  spec: Hex | null;
  mode: string;
  format?: number;
}

export type LoadResult =
  | { kind: 'empty' }
  /**
   * `head`: the stored head block, checked as the module comment says (its approvals not yet).
   * `repaired`: a spot check found a damaged record of the older history; the history now starts
   * above it (`history.from`), and the backfill fetches what lies below again.
   */
  | { kind: 'ok'; meta: StoredMeta; head: SignedConsensusBlock; repaired?: string }
  | { kind: 'corrupt'; reason: string }
  | { kind: 'other-spec'; stored: OtherSpec };

const META = 'meta';
/** The key prefix of other actors' records (see the module comment). */
export const OTHER_RECORDS = 'x/';
const blockKey = (n: number) => `b/${String(n).padStart(12, '0')}`;
const hashKey = (h: Hex) => `h/${h.slice(2)}`;
const SPOT_CHECKS = 8;

function encodeRecord(root: Uint8Array, block: Uint8Array): Uint8Array {
  const rest = concatBytes(root, block);
  return concatBytes(sha256(rest), rest);
}

interface Record {
  root: Uint8Array;
  block: SignedConsensusBlock;
}

function decodeRecord(bytes: Uint8Array | undefined, n: number): Record {
  if (!bytes || bytes.length < 64) throw new CorruptStoreError(`block ${n} is missing or truncated`);
  const rest = bytes.subarray(32);
  if (!equalBytes(sha256(rest), bytes.subarray(0, 32))) throw new CorruptStoreError(`block ${n} fails its checksum`);
  let block: SignedConsensusBlock;
  try {
    block = decodeSignedBlockMsgpack(rest.subarray(32));
  } catch (e) {
    throw new CorruptStoreError(`block ${n} does not decode: ${(e as Error).message.split('\n')[0]}`);
  }
  const root = rest.slice(0, 32);
  if (!equalBytes(signingRoot(block.message), root))
    throw new CorruptStoreError(`block ${n}'s content does not hash to its stored root`);
  if (Number(block.message.executionPayload.blockNumber) !== n)
    throw new CorruptStoreError(`record ${n} holds block ${block.message.executionPayload.blockNumber}`);
  return { root, block };
}

/**
 * What is wrong with records `n - 1` (`a`) and `n` (`b`) as a linked pair, and the lowest block
 * above the damage: n + 1 when record n itself is damaged, else n. Undefined when both are sound.
 */
function pairDamage(
  a: Uint8Array | undefined,
  b: Uint8Array | undefined,
  n: number,
): { above: number; reason: string } | undefined {
  let rec: Record;
  try {
    rec = decodeRecord(b, n);
  } catch (e) {
    if (e instanceof CorruptStoreError) return { above: n + 1, reason: e.reason };
    throw e;
  }
  try {
    checkLink(decodeRecord(a, n - 1), rec, n);
    return undefined;
  } catch (e) {
    if (e instanceof CorruptStoreError) return { above: n, reason: e.reason };
    throw e;
  }
}

function recordOps(b: AppendBlock): KvOp[] {
  return [
    { type: 'put', key: blockKey(b.number), value: encodeRecord(fromHex(b.hash), b.block) },
    { type: 'put', key: hashKey(b.hash), value: new TextEncoder().encode(String(b.number)) },
  ];
}

const metaOp = (meta: StoredMeta): KvOp => ({ type: 'put', key: META, value: encodeMeta(meta) });

/** What a store is opened under: `spec` is the chain spec's fingerprint. */
export interface StoreIdentity {
  chainId: number;
  spec: Hex;
  genesis?: Hex;
  mode: string;
}

/** What the snapshot says about the window's blocks: by number, the hash and payload hash it expects. */
function snapshotBlocks(snapshot: ChainVerifierSnapshot): Map<number, { hash: Hex; payloadBlockHash?: Hex }> {
  const expected = new Map<number, { hash: Hex; payloadBlockHash?: Hex }>(
    snapshot.window.map((w) => [w.block.number, { hash: w.block.hash, payloadBlockHash: w.block.payloadBlockHash }]),
  );
  const fin = snapshot.finality.lastFinalized;
  if (!expected.has(fin.blockNumber)) expected.set(fin.blockNumber, { hash: fin.hash });
  return expected;
}

function checkNamed(rec: Record, n: number, want: { hash: Hex; payloadBlockHash?: Hex } | undefined): void {
  if (!want) return;
  if (toHex(rec.root) !== want.hash) throw new CorruptStoreError(`block ${n} is not the block the snapshot expects`);
  if (want.payloadBlockHash !== undefined && rec.block.message.executionPayload.blockHash !== want.payloadBlockHash)
    throw new CorruptStoreError(`block ${n}'s payload is not the one the snapshot expects`);
}

/** Block `n` must hang from the record below it: consensus parent hash and payload parent hash. */
function checkLink(prev: Record, rec: Record, n: number): void {
  if (rec.block.message.parentHash !== toHex(prev.root))
    throw new CorruptStoreError(`block ${n} does not link to block ${n - 1}`);
  if (rec.block.message.executionPayload.parentHash !== prev.block.message.executionPayload.blockHash)
    throw new CorruptStoreError(`block ${n}'s payload does not link to block ${n - 1}'s payload`);
}

/**
 * The one BLS check of a warm start: the stored head's aggregate approval, against the authority
 * set in force at its number (the spec's, or a schedule's), over its (already recomputed) signing root. Returns why it fails, or undefined.
 * Block 0 (genesis) is never signed and is bound by the meta's genesis root instead.
 */
export function storedHeadProblem(
  head: SignedConsensusBlock,
  verifier: { authorities: AuthoritySource; backend: BlsBackend },
): string | undefined {
  if (head.message.executionPayload.blockNumber === 0n) return undefined;
  try {
    verifyAggregateApproval({
      root: signingRoot(head.message),
      approval: head.signature,
      authorities: authoritiesAt(verifier.authorities, Number(head.message.executionPayload.blockNumber)),
      backend: verifier.backend,
    });
    return undefined;
  } catch (e) {
    return `the stored head ${head.message.executionPayload.blockNumber} fails its approval check: ${(e as Error).message}`;
  }
}

export class BlockStore {
  private meta: StoredMeta | undefined;

  constructor(
    readonly kv: KvStore,
    /** `genesis` undefined: accept the stored genesis (a warm start that trusts its own store's first block). */
    private readonly identity: StoreIdentity,
    private readonly random: () => number = Math.random,
  ) {}

  get stored(): StoredMeta | undefined {
    return this.meta;
  }

  /**
   * Read and check the stored chain (see the module comment). `spotChecks: false` skips the spot
   * checks of the older history (and so any repair of it): a reload that only needs the head again.
   */
  async load(opts: { spotChecks?: boolean } = {}): Promise<LoadResult> {
    const raw = await this.kv.get(META);
    if (!raw) return { kind: 'empty' };
    try {
      const decoded = decodeMeta(raw);
      if (decoded.format !== FORMAT) {
        const { chainId, mode, format } = decoded;
        return { kind: 'other-spec', stored: { chainId, spec: null, mode, format } };
      }
      const meta = decoded as StoredMeta;
      const other = this.otherSpec(meta);
      if (other) return { kind: 'other-spec', stored: other };
      this.checkIdentity(meta);
      const head = await this.checkWindow(meta);
      this.meta = meta;
      const damaged =
        opts.spotChecks === false
          ? undefined
          : await this.spotCheck(meta.history.from, meta.snapshot.finality.lastFinalized.blockNumber);
      if (!damaged) return { kind: 'ok', meta, head: head.block };
      await this.raiseHistory(damaged.from);
      return { kind: 'ok', meta: this.meta, head: head.block, repaired: damaged.reason };
    } catch (e) {
      if (e instanceof CorruptStoreError) return { kind: 'corrupt', reason: e.reason };
      throw e;
    }
  }

  /** Who made the store, if not this spec (another fingerprint or chain id). */
  private otherSpec(meta: StoredMeta): OtherSpec | undefined {
    if (meta.spec === this.identity.spec && meta.chainId === this.identity.chainId) return undefined;
    return { chainId: meta.chainId, spec: meta.spec, mode: meta.mode };
  }

  private checkIdentity(meta: StoredMeta): void {
    if (this.identity.genesis !== undefined && meta.genesis !== null && meta.genesis !== this.identity.genesis)
      throw new CorruptStoreError(`it belongs to another chain (chain id ${meta.chainId}, genesis ${meta.genesis})`);
    if (meta.mode !== this.identity.mode) throw new CorruptStoreError(`it was synced in ${meta.mode} mode`);
    const head = meta.head;
    if (meta.snapshot.head.hash !== head.hash || meta.snapshot.head.number !== head.number)
      throw new CorruptStoreError('its snapshot is not at its head');
    if (meta.history.from > meta.snapshot.finality.lastFinalized.blockNumber)
      throw new CorruptStoreError('its history does not reach its last finalized block');
  }

  /**
   * The window the verifier needs, from the last finalized block up to the head: every record
   * intact, each block linked to the one below it (consensus and payload parent hashes, digests),
   * the blocks the snapshot names are these blocks, and the last one is the head the meta names.
   */
  private async checkWindow(meta: StoredMeta): Promise<Record> {
    const head = meta.head;
    const from = meta.snapshot.finality.lastFinalized.blockNumber;
    // (meta.ts bounds both: from <= head, head - from <= MAX_WINDOW)
    if (from > head.number || head.number - from > MAX_WINDOW)
      throw new CorruptStoreError('its last finalized block is not just below its head');
    const numbers = Array.from({ length: head.number - from + 1 }, (_, i) => from + i);
    const records = await this.kv.getMany(numbers.map(blockKey));
    const expected = snapshotBlocks(meta.snapshot);
    let prev: Record | undefined;
    for (let i = 0; i < numbers.length; i++) {
      const n = numbers[i]!;
      const rec = decodeRecord(records[i], n);
      checkNamed(rec, n, expected.get(n));
      if (prev) checkLink(prev, rec, n);
      prev = rec;
    }
    if (!prev || toHex(prev.root) !== head.hash)
      throw new CorruptStoreError('the head record does not match the metadata');
    return prev;
  }

  /**
   * Random spot checks of records in (from, to] (each must link to its predecessor; `to`, the last
   * finalized block, was checked with the window). A damaged pair is the last good point: returns
   * the lowest block above the highest damage found and why, or undefined when all were sound.
   */
  private async spotCheck(from: number, to: number): Promise<{ from: number; reason: string } | undefined> {
    let damaged: { from: number; reason: string } | undefined;
    for (let i = 0; i < SPOT_CHECKS && to > from; i++) {
      const n = from + 1 + Math.floor(this.random() * (to - from));
      const [a, b] = await this.kv.getMany([blockKey(n - 1), blockKey(n)]);
      const found = pairDamage(a, b, n);
      if (!found) continue;
      const above = Math.min(to, found.above);
      if (!damaged || above > damaged.from) damaged = { from: above, reason: found.reason };
      from = above; // nothing below the damage is kept: sample above it
    }
    return damaged;
  }

  /**
   * The last good point of the stored history is `from`: blocks below it are no longer served
   * (their records stay until the backfill writes them again). Never above the last finalized block.
   */
  private async raiseHistory(from: number): Promise<void> {
    const meta = this.meta;
    if (!meta || from <= meta.history.from) return;
    const next: StoredMeta = {
      ...meta,
      history: { from: Math.min(from, meta.snapshot.finality.lastFinalized.blockNumber) },
    };
    await this.kv.batch([metaOp(next)]);
    this.meta = next;
  }

  /**
   * A damaged record found on a read (`block` threw a CorruptStoreError for `number`): if it lies
   * below the window, the history now starts above it (returns the new lowest block); a block of
   * the window stays (the next load finds it and the node re-syncs): returns undefined.
   */
  async damagedOnRead(number: number): Promise<number | undefined> {
    const meta = this.meta;
    if (!meta || number < meta.history.from || number >= meta.snapshot.finality.lastFinalized.blockNumber)
      return undefined;
    await this.raiseHistory(number + 1);
    return this.meta!.history.from;
  }

  /**
   * Start an empty store with verified blocks (contiguous, oldest first: block 0 for a genesis
   * replay, the anchor's blocks for a head-first start) and the snapshot at the last of them.
   */
  async init(blocks: readonly AppendBlock[], snapshot: ChainVerifierSnapshot): Promise<void> {
    const keep = await this.kv.keys(OTHER_RECORDS, 8192);
    const values = await this.kv.getMany(keep);
    await this.kv.clear();
    const ops = keep.flatMap((key, i) => (values[i] ? [{ type: 'put' as const, key, value: values[i] }] : []));
    if (ops.length) await this.kv.batch(ops);
    this.meta = undefined;
    await this.append(blocks, snapshot);
  }

  /** Append verified blocks (contiguous from head + 1) and the snapshot at the last of them, atomically. */
  async append(blocks: readonly AppendBlock[], snapshot: ChainVerifierSnapshot): Promise<void> {
    if (blocks.length === 0) return;
    const ops: KvOp[] = [];
    let expectNumber = this.meta ? this.meta.head.number + 1 : blocks[0]!.number;
    for (const b of blocks) {
      if (b.number !== expectNumber)
        throw new Error(`append: block ${b.number} is not the next block (${expectNumber})`);
      ops.push(...recordOps(b));
      expectNumber++;
    }
    const last = blocks[blocks.length - 1]!;
    if (snapshot.head.hash !== last.hash)
      throw new Error('append: the snapshot must be taken at the last appended block');
    const first = blocks[0]!;
    const meta: StoredMeta = {
      format: FORMAT,
      chainId: this.identity.chainId,
      spec: this.identity.spec,
      genesis: this.meta ? this.meta.genesis : first.number === 0 ? first.hash : null,
      mode: this.identity.mode,
      head: { number: last.number, hash: last.hash },
      history: this.meta?.history ?? { from: first.number },
      snapshot,
    };
    ops.push(metaOp(meta));
    await this.kv.batch(ops);
    this.meta = meta;
  }

  /**
   * Store older verified blocks below the lowest stored one (the backfill): contiguous, newest
   * first, the first one the parent of the lowest stored block (its root is that block's
   * `parent_hash`), each the parent of the one before. The new lowest block and the records go in
   * one batch, so an interrupted backfill resumes where its last batch ended. The caller
   * authenticated each block by its signing root (`b.hash`, workflows/backfill.ts linkRange); like
   * `append`, the store takes that root rather than hash the block a second time (7% of the
   * backfill's rate, bench coldstart), and guards the order: a block whose root, number or payload
   * hash is not what the block above it names throws.
   */
  async prepend(blocks: readonly AppendBlock[]): Promise<void> {
    if (!this.meta || blocks.length === 0) return;
    let child = decodeRecord(await this.kv.get(blockKey(this.meta.history.from)), this.meta.history.from).block;
    const ops: KvOp[] = [];
    for (const b of blocks) {
      const parent = decodeSignedBlockMsgpack(b.block);
      if (
        child.message.parentHash !== b.hash ||
        Number(parent.message.executionPayload.blockNumber) !== b.number ||
        child.message.executionPayload.parentHash !== parent.message.executionPayload.blockHash
      )
        throw new Error(`prepend: block ${b.number} is not the parent of the lowest stored block`);
      ops.push(...recordOps(b));
      child = parent;
    }
    const last = blocks[blocks.length - 1]!;
    const meta: StoredMeta = {
      ...this.meta,
      genesis: last.number === 0 ? last.hash : this.meta.genesis,
      history: { from: last.number },
    };
    ops.push(metaOp(meta));
    await this.kv.batch(ops);
    this.meta = meta;
  }

  /** The lowest stored block's number (undefined: nothing stored). */
  get historyFrom(): number | undefined {
    return this.meta?.history.from;
  }

  /** A stored block, re-checked (throws CorruptStoreError if the record is damaged). */
  async block(number: number): Promise<SignedConsensusBlock | undefined> {
    if (!this.meta || number < this.meta.history.from || number > this.meta.head.number) return undefined;
    return decodeRecord(await this.kv.get(blockKey(number)), number).block;
  }

  async numberOf(hash: Hex): Promise<number | undefined> {
    const v = await this.kv.get(hashKey(hash));
    if (!v) return undefined;
    const n = Number(new TextDecoder().decode(v));
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  /**
   * A fork switch, in one batch: drop the stored blocks above `number` (a rollback of unfinalized
   * blocks to the fork point) and append `blocks` of the new branch (contiguous from number + 1;
   * none for a plain rollback), with `snapshot` at the new head (the last block, else `number`).
   * A crash leaves the old branch or the new one, never the store cut back to the fork point.
   */
  async replaceFrom(number: number, blocks: readonly AppendBlock[], snapshot: ChainVerifierSnapshot): Promise<void> {
    const meta = this.meta;
    if (!meta) throw new Error('replaceFrom: nothing is stored');
    if (number < meta.history.from || number > meta.head.number)
      throw new Error(`replaceFrom: block ${number} is not stored (${meta.history.from}..${meta.head.number})`);
    const base = decodeRecord(await this.kv.get(blockKey(number)), number);
    const ops = await this.dropAbove(number, meta.head.number);
    let expectNumber = number + 1;
    for (const b of blocks) {
      if (b.number !== expectNumber)
        throw new Error(`replaceFrom: block ${b.number} is not the next block (${expectNumber})`);
      ops.push(...recordOps(b));
      expectNumber++;
    }
    const first = blocks[0];
    if (first && decodeSignedBlockMsgpack(first.block).message.parentHash !== toHex(base.root))
      throw new Error(`replaceFrom: block ${first.number} is not a child of the stored block ${number}`);
    const head = blocks.length ? blocks[blocks.length - 1]! : { number, hash: toHex(base.root) };
    if (snapshot.head.number !== head.number || snapshot.head.hash !== head.hash)
      throw new Error('replaceFrom: the snapshot must be taken at the new head');
    const next: StoredMeta = { ...meta, head: { number: head.number, hash: head.hash }, snapshot };
    ops.push(metaOp(next));
    await this.kv.batch(ops);
    this.meta = next;
  }

  /**
   * The operations that delete the records above..head and their hash index entries. A damaged
   * record's hash cannot be trusted: only its record goes (its index entry, if any, stays stale and
   * names a number no read serves until a block is stored there again).
   */
  private async dropAbove(above: number, head: number): Promise<KvOp[]> {
    const numbers = Array.from({ length: Math.max(0, head - above) }, (_, i) => above + 1 + i);
    const records = await this.kv.getMany(numbers.map(blockKey));
    const ops: KvOp[] = [];
    numbers.forEach((n, i) => {
      ops.push({ type: 'del', key: blockKey(n) });
      try {
        ops.push({ type: 'del', key: hashKey(toHex(decodeRecord(records[i], n).root)) });
      } catch (e) {
        if (!(e instanceof CorruptStoreError)) throw e;
      }
    });
    return ops;
  }

  async clear(): Promise<void> {
    await this.kv.clear();
    this.meta = undefined;
  }
}
