/**
 * A head-first cold start (docs/trust.md): the verified head from one block per source, then the
 * finality walk down its parent links (`protocol/anchor.ts` decides, this fetches).
 *
 * 1. Every source is asked for its head (consensus RPC `getheadblock`; a peer's by probing). Each
 *    answer is decoded and verified on its own (signing root, approvals against the spec's
 *    authorities, payload hash); a source whose head fails is charged. The highest verified head
 *    is reported at once (`onHead`); with a checkpoint, only once its chain holds the checkpoint.
 * 2. The walk fetches that head's ancestors by height ranges, newest first, from the head's source
 *    first and then the others; a block is used only once its signing root is the `parent_hash` of
 *    the authenticated block above it. A range that does not link costs its source, and the range
 *    is asked of the next source. The walk ends at the latest PoW block's range_start (and, with a
 *    checkpoint, at the checkpoint), where `anchorAt` checks the PoW block.
 * 3. If the chain the head stands on breaks a rule (the PoW block fails, the checkpoint is not in
 *    it), the head's source is charged and the next highest verified head is tried.
 *
 * Nothing is stored or reported as finalized before all of this passed; the blocks come back to
 * the ChainActor, which stores them.
 */
import {
  anchorAt,
  linkParent,
  nextWalkStep,
  verifyHead,
  type Anchor,
  type AnchorOptions,
  type VerifiedHead,
  type WalkBlock,
} from '../../protocol/anchor.js';
import { signingRoot } from '../../protocol/block.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import { encodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import { ProtocolError, VerificationError } from '../../protocol/errors.js';
import type { SignedConsensusBlock } from '../../protocol/types.js';
import { NoSourceError } from '../errors.js';
import { CheckpointError } from './errors.js';
import type { AppendBlock } from '../storage/block-store.js';
import { decodeRawBlock } from '../verify/verify-response.js';
import type { BlockSource, RawBlock } from './source.js';

export { CheckpointError };

/** What a head-first start hands the ChainActor: the anchor and the blocks to store (oldest first). */
export interface HeadStart {
  anchor: Anchor;
  blocks: AppendBlock[];
  /** The checkpoint block, when one is configured (the backfill stops there). */
  checkpoint?: { number: number; hash: Hex };
}

export interface HeadStartOptions extends AnchorOptions {
  /** The sources to ask (RPC endpoints, then connected peers). */
  sources(): BlockSource[];
  /** First walk range; ranges double up to `maxRange`. */
  firstRange?: number;
  maxRange: number;
  /** A weak-subjectivity checkpoint: the chain must contain this block (`sync.checkpoint`). */
  checkpoint?: Hex | null;
  /** The verified head, reported before the walk starts. */
  onHead?(head: VerifiedHead, source: string): void;
  /** A source served something that fails a check: charge it. */
  onFault?(source: string, reason: string): void;
}

/** A source's answer that fails a check costs it; one that cannot answer is only noted. */
function charge(o: HeadStartOptions, problems: string[], source: string, e: unknown): void {
  const reason = (e as Error).message.split('\n')[0]!;
  if (e instanceof ProtocolError || (e instanceof CheckpointError && e.code === 'checkpoint.mismatch'))
    o.onFault?.(source, reason);
  problems.push(`${source}: ${reason}`);
}

function decode(raw: RawBlock, source: string): SignedConsensusBlock {
  const d = decodeRawBlock({ source, ...raw });
  if (d.ok) return d.block;
  if (d.kind === 'missing') throw new Error(d.message);
  throw new ProtocolError(d.check ?? 'source.unusable', d.message);
}

interface Candidate {
  head: VerifiedHead;
  source: BlockSource;
}

/** Every source's head, verified; highest first. */
async function verifiedHeads(o: HeadStartOptions, sources: BlockSource[], problems: string[]): Promise<Candidate[]> {
  const answers = await Promise.all(
    sources.map(async (source) => {
      try {
        return { head: verifyHead(decode(await source.headBlock(), source.id), o), source };
      } catch (e) {
        charge(o, problems, source.id, e);
        return undefined;
      }
    }),
  );
  return answers.filter((a): a is Candidate => a !== undefined).sort((a, b) => b.head.number - a.head.number);
}

/** A link failure: the block is not the parent of the block above it (but may be a valid block of another branch). */
const isLinkFailure = (e: unknown): boolean =>
  e instanceof VerificationError && (e.code === 'block.parent-hash' || e.code === 'block.payload-parent');

/**
 * Blocks `below - count .. below - 1`, newest first, each linked to the one above; from the first
 * source that serves them. A range that does not hang from the walk's lowest block costs the head's
 * own source (`order[0]`: it served both), not another source, which may be on another branch.
 */
async function fetchBelow(
  o: HeadStartOptions,
  chain: WalkBlock[],
  count: number,
  order: BlockSource[],
  problems: string[],
): Promise<WalkBlock[]> {
  const lowest = chain[chain.length - 1]!;
  const below = Number(lowest.block.message.executionPayload.blockNumber);
  const start = Math.max(0, below - count);
  for (const source of order) {
    let boundary = true;
    try {
      const raws = await source.range(start, below - start);
      const out: WalkBlock[] = [];
      let child = lowest.block;
      for (let i = raws.length - 1; i >= 0; i--) {
        const linked = linkParent(child, decode(raws[i]!, source.id));
        boundary = false;
        out.push(linked);
        child = linked.block;
      }
      return out;
    } catch (e) {
      if (boundary && source !== order[0] && isLinkFailure(e))
        problems.push(`${source.id}: blocks ${start}..${below - 1} are not the chain below ${order[0]!.id}'s head`);
      else charge(o, problems, source.id, e);
    }
  }
  throw new NoSourceError(`blocks ${start}..${below - 1}`, problems.slice(-order.length).join('; '));
}

/** Where the checkpoint is: its number, from a source that has it by hash (its root must be the checkpoint). */
async function locateCheckpoint(o: HeadStartOptions, hash: Hex, order: BlockSource[], problems: string[]) {
  for (const source of order.filter((s) => s.kind === 'rpc')) {
    try {
      const block = decode(await source.byHash(hash, 0), source.id);
      if (toHex(signingRoot(block.message)) !== hash)
        throw new VerificationError('source.wrong-hash', `asked for checkpoint ${hash}, got another block`);
      return Number(block.message.executionPayload.blockNumber);
    } catch (e) {
      charge(o, problems, source.id, e);
    }
  }
  throw new CheckpointError('unknown', `no consensus RPC source knows the checkpoint ${hash}`);
}

/** The walk for one verified head: down to P's range_start (and the checkpoint), then `anchorAt`. */
async function walkFrom(o: HeadStartOptions, c: Candidate, others: BlockSource[], problems: string[]) {
  const order = [c.source, ...others.filter((s) => s !== c.source)];
  const checkpointAt = o.checkpoint ? await locateCheckpoint(o, o.checkpoint, order, problems) : undefined;
  if (checkpointAt !== undefined && checkpointAt > c.head.number)
    throw new CheckpointError('unknown', `the checkpoint (block ${checkpointAt}) is above head ${c.head.number}`);
  const chain: WalkBlock[] = [c.head];
  let range = o.firstRange ?? 8;
  for (;;) {
    const step = nextWalkStep(chain, o.spec);
    const lowest = Number(chain[chain.length - 1]!.block.message.executionPayload.blockNumber);
    const needCheckpoint = checkpointAt !== undefined && lowest > checkpointAt;
    if (step.kind === 'genesis') return undefined;
    if (step.kind === 'complete' && !needCheckpoint)
      return { chain, anchor: anchorAt(chain, step, c.head.signers, o), checkpointAt };
    chain.push(
      ...(await fetchBelow(
        o,
        chain,
        needCheckpoint && step.kind === 'complete' ? Math.min(o.maxRange, lowest - checkpointAt) : range,
        order,
        problems,
      )),
    );
    range = Math.min(o.maxRange, range * 2);
  }
}

/** The blocks to store, oldest first (the walk's, from its lowest block to the head). */
function toAppend(chain: readonly WalkBlock[]): AppendBlock[] {
  return chain
    .map((b) => ({
      number: Number(b.block.message.executionPayload.blockNumber),
      hash: b.root,
      block: encodeSignedBlockMsgpack(b.block),
    }))
    .reverse();
}

/**
 * Whether the highest verified head can be reported before its walk: no other verified head at its
 * height differs from it. Two that differ (the federation signed both, or a source holds its keys)
 * wait for the walk, which reports the one whose chain holds up.
 */
function agreed(candidates: readonly Candidate[]): boolean {
  const first = candidates[0];
  return (
    first !== undefined && candidates.every((c) => c.head.number < first.head.number || c.head.root === first.head.root)
  );
}

/** The start from one verified head: the walk, the checkpoint in its chain, the blocks to store. */
async function startFrom(
  o: HeadStartOptions,
  c: Candidate,
  sources: BlockSource[],
  problems: string[],
): Promise<HeadStart | undefined> {
  const walked = await walkFrom(o, c, sources, problems);
  if (!walked) return undefined;
  const { anchor, checkpointAt } = walked;
  const blocks = toAppend(walked.chain);
  if (checkpointAt === undefined) return { anchor, blocks };
  const at = walked.chain.find((b) => Number(b.block.message.executionPayload.blockNumber) === checkpointAt)!;
  if (at.root !== o.checkpoint)
    throw new CheckpointError(
      'mismatch',
      `head ${c.head.number}'s chain has ${at.root} at block ${checkpointAt}, not the checkpoint ${o.checkpoint}`,
    );
  return {
    anchor,
    blocks,
    checkpoint: { number: checkpointAt, hash: at.root },
  };
}

/**
 * Start at the head (see the module comment). Undefined when the chain has no PoW block above
 * genesis yet (the caller replays from the genesis trust root). With a checkpoint, the head is
 * reported only once its chain was found to hold the checkpoint, and a CheckpointError is thrown
 * when that is what every verified head failed on. Else NoSourceError when no source's head
 * verifies and anchors, listing each source's problem.
 */
export async function fetchHeadStart(o: HeadStartOptions): Promise<HeadStart | undefined> {
  const problems: string[] = [];
  const sources = o.sources();
  const candidates = await verifiedHeads(o, sources, problems);
  const reported = !o.checkpoint && agreed(candidates) ? candidates[0] : undefined;
  if (reported) o.onHead?.(reported.head, reported.source.id);
  let checkpointFailures = 0;
  let checkpointError: CheckpointError | undefined;
  for (const c of candidates) {
    try {
      const start = await startFrom(o, c, sources, problems);
      if (start && reported?.head.root !== c.head.root) o.onHead?.(c.head, c.source.id);
      return start;
    } catch (e) {
      if (e instanceof CheckpointError) {
        checkpointFailures++;
        checkpointError = e;
      }
      // the chain under a verified head broke a rule (or lacks the checkpoint): its source pays
      charge(o, problems, c.source.id, e);
    }
  }
  if (checkpointError && checkpointFailures === candidates.length) throw checkpointError;
  throw new NoSourceError(
    'a verified head',
    problems.join('; ') || 'no consensus RPC configured and no peer connected',
  );
}
