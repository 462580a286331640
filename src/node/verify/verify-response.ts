/**
 * Turning an untrusted consensus RPC response into a verified block summary: parse, decode
 * strictly, recompute the signing root, and run the block's independent checks (slot, approvals,
 * payload hash) per the sync mode. Runs in the verifier pool (often a worker); pure otherwise.
 */
import { authoritiesAt, verifyAggregateApproval } from '../../protocol/approvals.js';
import { AuthoritySchedule, type AuthoritySetChange } from '../../protocol/authority-schedule.js';
import { signingRoot } from '../../protocol/block.js';
import type { BlsBackend } from '../../protocol/bls/backend.js';
import { toHex, type Hex } from '../../protocol/bytes.js';
import { summarizeBlock, type BlockSummary } from '../../protocol/chain-verifier.js';
import { decodeSignedBlockJson } from '../../protocol/codec/json.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import { ProtocolError, VerificationError } from '../../protocol/errors.js';
import { verifyPayloadBlockHash } from '../../protocol/execution/payload.js';
import type { ChainSpec, SignedConsensusBlock } from '../../protocol/types.js';

export interface VerifyRequest {
  /** Who served it (for scoring). */
  source: string;
  /** The raw JSON-RPC response text (an RPC endpoint)... */
  text?: string;
  /** ...or a msgpack SignedConsensusBlock (a peer's blocks_by_range chunk), or null: the peer did not have it. */
  msgpack?: Uint8Array | null;
  /** The height asked for (getblockbyheight), to catch a source answering with another block. */
  expectHeight?: number;
  /** The hash asked for (getblockbyhash). */
  expectHash?: Hex;
}

export type VerifyFailureKind =
  /** Not a usable answer: not JSON, a JSON-RPC error, the wrong shape. */
  | 'unusable'
  /** The source has no such block (null result). */
  | 'missing'
  /** A well-formed block that breaks a rule (or is not the block asked for). */
  | 'invalid';

export type VerifyResult =
  | {
      ok: true;
      source: string;
      summary: BlockSummary /** msgpack SignedConsensusBlock, for storage */;
      block: Uint8Array;
    }
  | { ok: false; source: string; kind: VerifyFailureKind; check?: string; message: string };

export interface VerifierContext {
  spec: ChainSpec;
  /** The spec's set and the changes applied so far: each block is checked against the set in force at its number. */
  authorities: AuthoritySchedule;
  backend: BlsBackend;
}

/** `changes`: the authority set changes in force (plain data, as the FederationActor hands them over). */
export function createVerifierContext(
  spec: ChainSpec,
  backend: BlsBackend,
  changes: readonly AuthoritySetChange[] = [],
): VerifierContext {
  return { spec, backend, authorities: AuthoritySchedule.create(spec, backend, changes) };
}

function fail(source: string, kind: VerifyFailureKind, message: string, check?: string): VerifyResult {
  return check === undefined ? { ok: false, source, kind, message } : { ok: false, source, kind, check, message };
}

/** A raw answer decoded (strictly) into a block, or why it is not one (a verification failure to report). */
export function decodeRawBlock(
  req: Pick<VerifyRequest, 'source' | 'text' | 'msgpack'>,
): { ok: true; block: SignedConsensusBlock } | Extract<VerifyResult, { ok: false }> {
  const failed = (kind: VerifyFailureKind, message: string, check?: string) =>
    fail(req.source, kind, message, check) as Extract<VerifyResult, { ok: false }>;
  if (req.msgpack !== undefined) {
    if (req.msgpack === null) return failed('missing', 'the peer did not send this block');
    try {
      return { ok: true, block: decodeSignedBlockMsgpack(req.msgpack) };
    } catch (e) {
      return failed('unusable', e instanceof ProtocolError ? e.shortMessage : `unexpected: ${(e as Error).message}`);
    }
  }
  if (req.text === undefined) return failed('unusable', 'nothing to verify');
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.text);
  } catch {
    return failed('unusable', 'the response is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || !('result' in parsed))
    return failed('unusable', 'the response is not a JSON-RPC response object');
  const { result, error } = parsed as { result: unknown; error?: unknown };
  if (error !== null && error !== undefined)
    return failed('unusable', `JSON-RPC error: ${JSON.stringify(error).slice(0, 200)}`);
  if (result === null) return failed('missing', 'the source has no such block');
  try {
    return { ok: true, block: decodeSignedBlockJson(result) };
  } catch (e) {
    if (e instanceof ProtocolError) return failed('unusable', e.shortMessage, e.code);
    return failed('unusable', `unexpected: ${(e as Error).message}`);
  }
}

/**
 * Verify one response. `approvals`: verify the aggregate (always done for PoW blocks); false is the
 * deferred mode, where the payload hash is also left to the PoW range (docs/trust.md 3.2, payload hashes).
 */
export function verifyResponse(req: VerifyRequest, ctx: VerifierContext, approvals: boolean): VerifyResult {
  const decoded = decodeRawBlock(req);
  if (!decoded.ok) return decoded;
  return verifyDecoded(req, decoded.block, ctx, approvals);
}

function verifyDecoded(
  req: VerifyRequest,
  block: SignedConsensusBlock,
  ctx: VerifierContext,
  approvals: boolean,
): VerifyResult {
  try {
    const root = signingRoot(block.message);
    const number = Number(block.message.executionPayload.blockNumber);
    if (req.expectHeight !== undefined && number !== req.expectHeight)
      return fail(
        req.source,
        'invalid',
        `asked for block ${req.expectHeight}, got block ${number}`,
        'source.wrong-height',
      );
    if (req.expectHash !== undefined && toHex(root) !== req.expectHash)
      return fail(req.source, 'invalid', `asked for block ${req.expectHash}, got ${toHex(root)}`, 'source.wrong-hash');
    const pow = block.message.auxpowHeader !== null;
    const summary = summarizeBlock(block, { ...ctx, root, approvals, payloadHash: approvals || pow });
    return { ok: true, source: req.source, summary, block: encodeSignedBlockMsgpack(block) };
  } catch (e) {
    if (e instanceof VerificationError) return fail(req.source, 'invalid', e.shortMessage, e.check);
    if (e instanceof ProtocolError) return fail(req.source, 'unusable', e.shortMessage, e.code);
    return fail(req.source, 'unusable', `unexpected: ${(e as Error).message}`);
  }
}

/**
 * Deferred mode, blocks no PoW range covers yet (the tail, or a dispute): verify the approvals of a
 * stored-format block whose root is known, and its payload hash (which deferred mode also left to the range).
 */
export function verifyStoredApprovals(hash: Hex, block: Uint8Array, ctx: VerifierContext): number[] {
  const signed = decodeSignedBlockMsgpack(block);
  verifyPayloadBlockHash(signed.message.executionPayload);
  return verifyAggregateApproval({
    root: hash,
    approval: signed.signature,
    authorities: authoritiesAt(ctx.authorities, Number(signed.message.executionPayload.blockNumber)),
    backend: ctx.backend,
  });
}
