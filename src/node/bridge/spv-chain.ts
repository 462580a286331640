/**
 * The SPV client's header chain I/O: establishing the checkpoint and following each endpoint's tip.
 *
 * Checkpoint: a configured `{height, hash}` (some endpoint must name that block at that height; one
 * naming another is charged), or (chain spec `bitcoinStartHeight`) the hash every answering endpoint
 * names at that height: any disagreement is refused, and a minority against a strict majority charged.
 * Headers are then fetched down from that hash to the start of its retarget period (each must hash
 * to the hash its child points to, so the checkpoint hash authenticates them) and verified forward,
 * so the difficulty rules have their period context. Regtest (no retargeting) starts at the checkpoint.
 *
 * Following an endpoint: its tip hash; if unknown, headers are walked back (each must hash to the
 * hash asked for and meet its own bits' target, so a liar cannot make us walk a long free chain) until
 * a header on the verified window, then verified forward from there by linkage, the network's
 * difficulty rules and PoW (`verifyNextHeader`). The branch replaces the best chain only with more
 * work; a verified branch with less work is a stale branch (a hidden reorg) and is charged. An endpoint
 * far ahead is caught up in steps of `maxHeadersPerSync`, by the hash it names at a height.
 */
import { type HeaderChainTip, tipFromCheckpoint, verifyNextHeader } from '../../protocol/bitcoin/chain.js';
import type { BitcoinNetworkParams } from '../../protocol/bitcoin/chain.js';
import { difficultyAdjustmentInterval } from '../../protocol/bitcoin/chain.js';
import { toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { decodeHeader, headerHash } from '../../protocol/bitcoin/header.js';
import { checkProofOfWorkCore } from '../../protocol/bitcoin/pow.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { AlysLightError } from '../../errors.js';
import type { SourceFault } from '../workflows/scores.js';
import type { EsploraClient } from '../sources/esplora.js';
import { SourceError } from '../sources/errors.js';
import { sourceFaultKind } from '../sources/consensus-rpc.js';
import type { HeaderWindow } from './header-window.js';
import { SpvError } from './spv-errors.js';

/** What the SPV parts share. */
export interface SpvContext {
  readonly clients: readonly EsploraClient[];
  readonly params: BitcoinNetworkParams;
  /** Unix seconds, for the future-time rule (undefined: not checked). */
  nowSeconds(): number | undefined;
  /** Charge `endpoint` with `kind` for `error`. */
  fault(endpoint: string, kind: SourceFault, error: AlysLightError): void;
  /** Headers fetched per catch-up step (and the extra depth a fork may have). */
  readonly maxHeadersPerSync: number;
}

/** Run `fn` on one endpoint; a SourceError or SpvError charges it and gives `undefined`. */
export async function attempt<T>(ctx: SpvContext, client: EsploraClient, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (!charge(ctx, client.id, e)) throw e;
    return undefined;
  }
}

/** Charge the fault `e` stands for; false when it is not an endpoint's fault (a bug: rethrow it). */
export function charge(ctx: SpvContext, endpoint: string, e: unknown): boolean {
  if (e instanceof SourceError) ctx.fault(endpoint, sourceFaultKind(e), e);
  else if (e instanceof SpvError) ctx.fault(endpoint, e.check === 'stale-branch' ? 'stale' : 'invalid', e);
  else return false;
  return true;
}

// ------------------------------------------------------------------ checkpoint

/** The verified headers from the checkpoint's period start up to the checkpoint (oldest first). */
export async function establishCheckpoint(
  ctx: SpvContext,
  cp: { height: number; hash?: string | undefined },
): Promise<HeaderChainTip[]> {
  const hash = await checkpointHash(ctx, cp.height, cp.hash);
  const interval = difficultyAdjustmentInterval(ctx.params);
  const anchor = ctx.params.noRetargeting ? cp.height : cp.height - (cp.height % interval);
  const { headers, from } = await headersDownTo(ctx, hash, cp.height - anchor + 1);
  const header = decodeHeader(headers[0]!);
  // regtest: every block is at the pow limit, so the limit is also the last "normal" bits
  const lastNormalBits = ctx.params.noRetargeting ? header.bits : undefined;
  let t = tipFromCheckpoint({ height: anchor, header, lastNormalBits }, ctx.params);
  const tips = [t];
  try {
    for (const h of headers.slice(1)) tips.push((t = verifyNextHeader(t, h, ctx.params, { now: ctx.nowSeconds() })));
  } catch (e) {
    const err = headerError(from, e);
    ctx.fault(from, 'invalid', err);
    throw err;
  }
  return tips;
}

/**
 * The checkpoint's block hash: the configured one, which some endpoint must name at `height` (an
 * endpoint naming another block there is charged), or the one every answering endpoint names (any
 * disagreement is refused, and a minority against a strict majority charged).
 */
async function checkpointHash(ctx: SpvContext, height: number, configured: string | undefined): Promise<string> {
  const answers = await Promise.all(ctx.clients.map((c) => attempt(ctx, c, () => c.blockHashAt(height))));
  const groups = new Map<string, string[]>();
  answers.forEach((a, i) => {
    if (typeof a === 'string') groups.set(a, [...(groups.get(a) ?? []), ctx.clients[i]!.id]);
  });
  const answered = [...groups.values()].reduce((n, g) => n + g.length, 0);
  const majority = configured ?? [...groups.entries()].find(([, g]) => g.length * 2 > answered)?.[0];
  for (const [h, g] of groups)
    if (majority !== undefined && h !== majority)
      for (const id of g)
        ctx.fault(
          id,
          'invalid',
          new SpvError('checkpoint-disagreement', id, `names ${h} at height ${height}, not ${majority}`),
        );
  if (configured !== undefined && groups.has(configured)) return configured;
  if (configured === undefined && groups.size === 1) return [...groups.keys()][0]!;
  if (answered === 0)
    throw new SpvError('no-endpoint', null, `no Esplora endpoint named a block at the checkpoint height ${height}`);
  const summary = [...groups.entries()].map(([h, g]) => `${g.join(', ')} -> ${h}`).join('; ');
  const want = configured === undefined ? '' : `the configured checkpoint ${configured}; `;
  throw new SpvError(
    'checkpoint-disagreement',
    null,
    `the Esplora endpoints do not agree on the block at the checkpoint height ${height} (${want}${summary}); refusing to start`,
  );
}

/** `count` headers ending at block `hash`, oldest first, each authenticated by its child; any endpoint. */
async function headersDownTo(
  ctx: SpvContext,
  hash: string,
  count: number,
): Promise<{ headers: Uint8Array[]; from: string }> {
  for (const c of ctx.clients) {
    const headers = await attempt(ctx, c, () => walkDown(c, hash, count));
    if (headers) return { headers, from: c.id };
  }
  throw new SpvError('no-endpoint', null, `no Esplora endpoint served the headers down from checkpoint block ${hash}`);
}

async function walkDown(c: EsploraClient, hash: string, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let want = hash;
  while (out.length < count) {
    const bytes = await fetchHeader(c, want, 'checkpoint-header');
    out.push(bytes);
    want = toDisplayHex(decodeHeader(bytes).prevBlockhash);
  }
  return out.reverse();
}

/** The header of `hash` from `c`, required to hash to it. */
async function fetchHeader(c: EsploraClient, hash: string, check: 'checkpoint-header' | 'header-hash') {
  const bytes = await c.header(hash);
  if (bytes === null) throw new SourceError(c.id, 'unusable', `has no header for block ${hash}, which it named`);
  const got = toDisplayHex(headerHash(bytes));
  if (got !== hash) throw new SpvError(check, c.id, `served a header hashing to ${got} for block ${hash}`);
  return bytes;
}

function headerError(endpoint: string, e: unknown): SpvError {
  if (e instanceof SpvError) return e;
  if (!(e instanceof ProtocolError)) throw e;
  const check = 'check' in e ? String(e.check) : e.code;
  return new SpvError('header', endpoint, `a header failed ${check}: ${e.shortMessage}`, { cause: e });
}

// ------------------------------------------------------------------ following an endpoint

/** Follow one endpoint's chain into `window` (adopting it when heavier); throws SpvError/SourceError on a lie. */
export async function followEndpoint(ctx: SpvContext, window: HeaderWindow, c: EsploraClient): Promise<void> {
  for (;;) {
    const tipHash = await c.tipHash();
    const claimed = await c.tipHeight();
    const known = window.heightOf(tipHash);
    if (known !== undefined) return checkClaim(c, known, claimed);
    const best = window.tip().height;
    const farAhead = claimed > best + ctx.maxHeadersPerSync;
    const start = farAhead ? await c.blockHashAt(best + ctx.maxHeadersPerSync) : tipHash;
    if (start === null)
      throw new SpvError(
        'tip-height',
        c.id,
        `claims tip height ${claimed} but names no block at ${best + ctx.maxHeadersPerSync}`,
      );
    const branch = await fetchBranch(ctx, window, c, start, farAhead ? best + ctx.maxHeadersPerSync : claimed);
    adoptIfHeavier(window, branch, c.id);
    if (!farAhead) return checkClaim(c, branch[branch.length - 1]!.height, claimed);
  }
}

/** The tip height must be the height of the tip hash (or one more: the height is asked second). */
function checkClaim(c: EsploraClient, height: number, claimed: number): void {
  if (claimed !== height && claimed !== height + 1)
    throw new SpvError('tip-height', c.id, `claims tip height ${claimed}, but its tip block is at height ${height}`);
}

/**
 * Walk back from `start` (at `startHeight`, as the endpoint claims) to the window, then verify forward:
 * the endpoint's branch as verified tips. The walk stops where an ancestor would be below the window.
 */
async function fetchBranch(
  ctx: SpvContext,
  window: HeaderWindow,
  c: EsploraClient,
  start: string,
  startHeight: number,
): Promise<HeaderChainTip[]> {
  const depth = window.tip().height - window.base();
  const max = Math.max(1, Math.min(ctx.maxHeadersPerSync + depth, startHeight - window.base()));
  const headers: Uint8Array[] = [];
  let want = start;
  for (;;) {
    if (headers.length >= max)
      throw new SpvError(
        'no-common-ancestor',
        c.id,
        `its chain does not meet the verified window (from height ${window.base()}) within ${max} headers`,
      );
    const bytes = await fetchHeader(c, want, 'header-hash');
    const header = decodeHeader(bytes);
    if (!checkProofOfWorkCore(headerHash(bytes), header.bits, ctx.params.powLimit))
      throw new SpvError(
        'header',
        c.id,
        `header ${want} does not meet the target of its own bits (bitcoin.header.pow)`,
      );
    headers.push(bytes);
    want = toDisplayHex(header.prevBlockhash);
    const ancestor = window.heightOf(want);
    if (ancestor !== undefined) return verifyBranch(ctx, window.at(ancestor)!, headers.reverse(), c.id);
  }
}

function verifyBranch(
  ctx: SpvContext,
  from: HeaderChainTip,
  headers: readonly Uint8Array[],
  endpoint: string,
): HeaderChainTip[] {
  const out: HeaderChainTip[] = [];
  let t = from;
  try {
    for (const h of headers) out.push((t = verifyNextHeader(t, h, ctx.params, { now: ctx.nowSeconds() })));
  } catch (e) {
    throw headerError(endpoint, e);
  }
  return out;
}

/** Adopt a heavier branch; a lighter one that forks off the best chain is a stale branch (charged). */
function adoptIfHeavier(window: HeaderWindow, branch: HeaderChainTip[], endpoint: string): void {
  const tip = branch[branch.length - 1]!;
  const best = window.tip();
  if (tip.chainWork > best.chainWork) {
    window.adopt(branch);
    return;
  }
  if (tip.chainWork < best.chainWork)
    throw new SpvError(
      'stale-branch',
      endpoint,
      `serves a branch forking at height ${branch[0]!.height} with tip ${toDisplayHex(tip.hash)} at ${tip.height}, ` +
        `lighter than the verified best chain (tip ${toDisplayHex(best.hash)} at ${best.height})`,
    );
  // equal work: the first seen stays best (Bitcoin Core's rule); not a fault
}
