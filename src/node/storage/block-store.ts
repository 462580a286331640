/**
 * The light node's verified chain on a KvStore, built so a warm start is fast and a damaged store
 * is noticed:
 *
 *   meta              JSON: format, chain id, genesis hash, mode, the ChainVerifier snapshot at the
 *                     stored head, and the head's digest
 *   b/<number:12>     record = sha256(rest) || root || digest || msgpack(SignedConsensusBlock)
 *   h/<hash>          number (index by hash)
 *
 * digest(0) = sha256(root(0)), digest(n) = sha256(digest(n-1) || root(n)): a hash chain over the
 * roots. A warm start checks the meta, re-derives the roots and digests of the blocks the verifier
 * still needs (its window, from the last finalized block to the head) plus random spot checks of
 * older records, and never re-verifies signatures. Every read re-checks its record (checksum and
 * recomputed root). Anything inconsistent makes the store `corrupt`: the node clears it and
 * re-syncs rather than trust it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { AlysLightError } from '../../errors.js';
import { signingRoot } from '../../protocol/block.js';
import { concatBytes, equalBytes, fromHex, toHex, type Hex } from '../../protocol/bytes.js';
import type { ChainVerifierSnapshot } from '../../protocol/chain-verifier.js';
import { decodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import type { KvOp, KvStore } from './kv.js';

/** The stored chain fails a check on load (code `storage.corrupt`); the node clears it and syncs again. */
export class CorruptStoreError extends AlysLightError {
  override name = 'CorruptStoreError';
  declare readonly code: 'storage.corrupt';
  constructor(readonly reason: string) {
    super('storage.corrupt', `the stored chain is damaged (${reason}); it will be cleared and synced again`);
  }
}

export interface StoredMeta {
  format: 1;
  chainId: number;
  genesis: Hex;
  mode: string;
  head: { number: number; hash: Hex; digest: Hex };
  snapshot: ChainVerifierSnapshot;
}

export interface AppendBlock {
  number: number;
  hash: Hex;
  /** msgpack SignedConsensusBlock */
  block: Uint8Array;
}

export type LoadResult = { kind: 'empty' } | { kind: 'ok'; meta: StoredMeta } | { kind: 'corrupt'; reason: string };

const META = 'meta';
const blockKey = (n: number) => `b/${String(n).padStart(12, '0')}`;
const hashKey = (h: Hex) => `h/${h.slice(2)}`;
const FORMAT = 1;
const SPOT_CHECKS = 8;

function encodeRecord(root: Uint8Array, digest: Uint8Array, block: Uint8Array): Uint8Array {
  const rest = concatBytes(root, digest, block);
  return concatBytes(sha256(rest), rest);
}

interface Record {
  root: Uint8Array;
  digest: Uint8Array;
  block: SignedConsensusBlock;
}

function decodeRecord(bytes: Uint8Array | undefined, n: number): Record {
  if (!bytes || bytes.length < 96) throw new CorruptStoreError(`block ${n} is missing or truncated`);
  const rest = bytes.subarray(32);
  if (!equalBytes(sha256(rest), bytes.subarray(0, 32))) throw new CorruptStoreError(`block ${n} fails its checksum`);
  let block: SignedConsensusBlock;
  try {
    block = decodeSignedBlockMsgpack(rest.subarray(64));
  } catch (e) {
    throw new CorruptStoreError(`block ${n} does not decode: ${(e as Error).message.split('\n')[0]}`);
  }
  const root = rest.slice(0, 32);
  if (!equalBytes(signingRoot(block.message), root))
    throw new CorruptStoreError(`block ${n}'s content does not hash to its stored root`);
  if (Number(block.message.executionPayload.blockNumber) !== n)
    throw new CorruptStoreError(`record ${n} holds block ${block.message.executionPayload.blockNumber}`);
  return { root, digest: rest.slice(32, 64), block };
}

const nextDigest = (prev: Uint8Array | null, root: Uint8Array) => sha256(prev ? concatBytes(prev, root) : root);

export class BlockStore {
  private meta: StoredMeta | undefined;
  private headDigest: Uint8Array | undefined;

  constructor(
    readonly kv: KvStore,
    /** `genesis` undefined: accept the stored genesis (a warm start that trusts its own store's first block). */
    private readonly identity: { chainId: number; genesis?: Hex; mode: string },
    private readonly random: () => number = Math.random,
  ) {}

  get stored(): StoredMeta | undefined {
    return this.meta;
  }

  /** Read and check the stored chain (see the module comment). */
  async load(): Promise<LoadResult> {
    const raw = await this.kv.get(META);
    if (!raw) return { kind: 'empty' };
    try {
      let meta: StoredMeta;
      try {
        meta = JSON.parse(new TextDecoder().decode(raw)) as StoredMeta;
      } catch {
        throw new CorruptStoreError('its metadata is not JSON');
      }
      if (meta.format !== FORMAT) throw new CorruptStoreError(`unknown format ${meta.format}`);
      if (
        meta.chainId !== this.identity.chainId ||
        (this.identity.genesis !== undefined && meta.genesis !== this.identity.genesis)
      )
        throw new CorruptStoreError(`it belongs to another chain (chain id ${meta.chainId}, genesis ${meta.genesis})`);
      if (meta.mode !== this.identity.mode) throw new CorruptStoreError(`it was synced in ${meta.mode} mode`);
      const head = meta.head;
      if (meta.snapshot.head.hash !== head.hash || meta.snapshot.head.number !== head.number)
        throw new CorruptStoreError('its snapshot is not at its head');
      // the window the verifier needs, from the last finalized block up to the head
      const from = Math.max(0, meta.snapshot.finality.lastFinalized.blockNumber);
      const numbers = Array.from({ length: head.number - from + 1 }, (_, i) => from + i);
      const records = await this.kv.getMany(numbers.map(blockKey));
      let prev: Record | undefined;
      const expected = new Map(meta.snapshot.window.map((w) => [w.block.number, w.block.hash]));
      expected.set(meta.snapshot.finality.lastFinalized.blockNumber, meta.snapshot.finality.lastFinalized.hash);
      for (let i = 0; i < numbers.length; i++) {
        const n = numbers[i]!;
        const rec = decodeRecord(records[i], n);
        const want = expected.get(n);
        if (want !== undefined && toHex(rec.root) !== want)
          throw new CorruptStoreError(`block ${n} is not the block the snapshot expects`);
        if (prev) {
          if (rec.block.message.parentHash !== toHex(prev.root))
            throw new CorruptStoreError(`block ${n} does not link to block ${n - 1}`);
          if (!equalBytes(rec.digest, nextDigest(prev.digest, rec.root)))
            throw new CorruptStoreError(`block ${n}'s digest does not follow block ${n - 1}'s`);
        }
        prev = rec;
      }
      if (!prev || toHex(prev.digest) !== head.digest || toHex(prev.root) !== head.hash)
        throw new CorruptStoreError('the head record does not match the metadata');
      // random spot checks of older records (each must link to its predecessor's digest)
      for (let i = 0; i < SPOT_CHECKS && from > 0; i++) {
        const n = 1 + Math.floor(this.random() * from);
        const [a, b] = await this.kv.getMany([blockKey(n - 1), blockKey(n)]);
        const ra = decodeRecord(a, n - 1);
        const rb = decodeRecord(b, n);
        if (rb.block.message.parentHash !== toHex(ra.root) || !equalBytes(rb.digest, nextDigest(ra.digest, rb.root)))
          throw new CorruptStoreError(`blocks ${n - 1} and ${n} do not chain`);
      }
      this.meta = meta;
      this.headDigest = prev.digest;
      return { kind: 'ok', meta };
    } catch (e) {
      if (e instanceof CorruptStoreError) return { kind: 'corrupt', reason: e.reason };
      throw e;
    }
  }

  /** Start an empty store with the genesis block (trusted: derived from the chain spec). */
  async init(genesis: { hash: Hex; block: Uint8Array }, snapshot: ChainVerifierSnapshot): Promise<void> {
    await this.kv.clear();
    this.meta = undefined;
    this.headDigest = undefined;
    await this.append([{ number: 0, hash: genesis.hash, block: genesis.block }], snapshot);
  }

  /** Append verified blocks (contiguous from head + 1) and the snapshot at the last of them, atomically. */
  async append(blocks: readonly AppendBlock[], snapshot: ChainVerifierSnapshot): Promise<void> {
    if (blocks.length === 0) return;
    const ops: KvOp[] = [];
    let digest = this.headDigest ?? null;
    let expectNumber = this.meta ? this.meta.head.number + 1 : 0;
    for (const b of blocks) {
      if (b.number !== expectNumber)
        throw new Error(`append: block ${b.number} is not the next block (${expectNumber})`);
      const root = fromHex(b.hash);
      digest = nextDigest(digest, root);
      ops.push({ type: 'put', key: blockKey(b.number), value: encodeRecord(root, digest, b.block) });
      ops.push({ type: 'put', key: hashKey(b.hash), value: new TextEncoder().encode(String(b.number)) });
      expectNumber++;
    }
    const last = blocks[blocks.length - 1]!;
    if (snapshot.head.hash !== last.hash)
      throw new Error('append: the snapshot must be taken at the last appended block');
    const meta: StoredMeta = {
      format: FORMAT,
      chainId: this.identity.chainId,
      genesis: this.meta?.genesis ?? (blocks[0]!.number === 0 ? blocks[0]!.hash : (this.identity.genesis as Hex)),
      mode: this.identity.mode,
      head: { number: last.number, hash: last.hash, digest: toHex(digest!) },
      snapshot,
    };
    ops.push({ type: 'put', key: META, value: new TextEncoder().encode(JSON.stringify(meta)) });
    await this.kv.batch(ops);
    this.meta = meta;
    this.headDigest = digest!;
  }

  /** A stored block, re-checked (throws CorruptStoreError if the record is damaged). */
  async block(number: number): Promise<SignedConsensusBlock | undefined> {
    if (!this.meta || number < 0 || number > this.meta.head.number) return undefined;
    return decodeRecord(await this.kv.get(blockKey(number)), number).block;
  }

  async numberOf(hash: Hex): Promise<number | undefined> {
    const v = await this.kv.get(hashKey(hash));
    if (!v) return undefined;
    const n = Number(new TextDecoder().decode(v));
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  /**
   * Drop the blocks above `number` (a rollback of unfinalized blocks to a fork point) and record
   * `snapshot` (taken at block `number`) as the stored head, atomically.
   */
  async truncate(number: number, snapshot: ChainVerifierSnapshot): Promise<void> {
    if (!this.meta || number >= this.meta.head.number) return;
    if (snapshot.head.number !== number) throw new Error('truncate: the snapshot must be taken at the new head');
    const ops: KvOp[] = [];
    for (let n = number + 1; n <= this.meta.head.number; n++) {
      const rec = decodeRecord(await this.kv.get(blockKey(n)), n);
      ops.push({ type: 'del', key: blockKey(n) }, { type: 'del', key: hashKey(toHex(rec.root)) });
    }
    const head = decodeRecord(await this.kv.get(blockKey(number)), number);
    if (toHex(head.root) !== snapshot.head.hash) throw new Error('truncate: the snapshot is not at the stored block');
    const meta: StoredMeta = {
      ...this.meta,
      head: { number, hash: snapshot.head.hash, digest: toHex(head.digest) },
      snapshot,
    };
    ops.push({ type: 'put', key: META, value: new TextEncoder().encode(JSON.stringify(meta)) });
    await this.kv.batch(ops);
    this.meta = meta;
    this.headDigest = head.digest;
  }

  async clear(): Promise<void> {
    await this.kv.clear();
    this.meta = undefined;
    this.headDigest = undefined;
  }
}
