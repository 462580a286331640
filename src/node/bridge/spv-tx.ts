/**
 * Transactions through the SPV client: `lookupTx` fetches the raw bytes (believed only when they
 * decode and hash to the txid asked for), looks for a merkle proof on every endpoint until one folds
 * to the merkle root of the verified header at its height (a proof that does not is charged), and
 * cross-checks the confirmed status of the endpoint that served the bytes against that verified
 * inclusion (a status that contradicts the verified chain is charged; it never changes the answer).
 * Confirmations are counted on the verified chain only (spv.ts).
 */
import { fromDisplayHex, toDisplayHex } from '../../protocol/bitcoin/hash.js';
import { MAX_PARTIAL_TREE_TRANSACTIONS, merkleTreeDepth, verifyMerkleBranch } from '../../protocol/bitcoin/merkle.js';
import { decodeTransaction, encodeTransaction, txid as computeTxid } from '../../protocol/bitcoin/tx.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { EsploraClient, EsploraMerkleProof } from '../sources/esplora.js';
import type { BtcTxSighting } from './bitcoin-view.js';
import type { HeaderWindow } from './header-window.js';
import { attempt, type SpvContext } from './spv-chain.js';
import { SpvError } from './spv-errors.js';

/** The deepest merkle tree a block can have (Core's transaction bound: 16,666 -> depth 15). */
const MAX_DEPTH = merkleTreeDepth(MAX_PARTIAL_TREE_TRANSACTIONS);

type Inclusion = NonNullable<BtcTxSighting['inclusion']>;

export async function lookupVerifiedTx(
  ctx: SpvContext,
  window: HeaderWindow,
  txid: string,
): Promise<BtcTxSighting | null> {
  const found = await fetchRaw(ctx, txid);
  if (!found) return null;
  const inclusion = await findInclusion(ctx, window, txid);
  await checkStatus(ctx, window, found.from, txid, inclusion);
  return { txid, raw: found.raw, inclusion };
}

/** Raw bytes that hash to `txid`, from the first endpoint that has them. */
async function fetchRaw(ctx: SpvContext, txid: string): Promise<{ raw: Uint8Array; from: EsploraClient } | null> {
  let answered = false;
  for (const c of ctx.clients) {
    const raw = await attempt(ctx, c, async () => {
      const bytes = await c.txRaw(txid);
      if (bytes !== null) checkRaw(c.id, txid, bytes);
      return bytes;
    });
    if (raw !== undefined) answered = true;
    if (raw) return { raw, from: c };
  }
  if (!answered) throw new SpvError('no-endpoint', null, `no Esplora endpoint answered for transaction ${txid}`);
  return null;
}

/** The bytes must decode as one transaction whose recomputed txid is `txid`. */
function checkRaw(endpoint: string, txid: string, bytes: Uint8Array): void {
  let got: Uint8Array;
  try {
    const tx = decodeTransaction(bytes, 'esplora tx');
    // a 64-byte stripped transaction could pose as an inner merkle node: refuse to prove one
    if (encodeTransaction(tx, { witness: false }).length === 64)
      throw new SpvError('tx-mismatch', endpoint, `transaction ${txid} is 64 bytes stripped: not provable by SPV`);
    got = computeTxid(tx);
  } catch (e) {
    if (e instanceof SpvError) throw e;
    if (!(e instanceof ProtocolError)) throw e;
    throw new SpvError('tx-mismatch', endpoint, `served bytes for ${txid} that are not a transaction`, { cause: e });
  }
  if (toDisplayHex(got) !== txid)
    throw new SpvError('tx-mismatch', endpoint, `served a transaction hashing to ${toDisplayHex(got)} for ${txid}`);
}

/** The first merkle proof from any endpoint that folds to a verified header's merkle root. */
async function findInclusion(ctx: SpvContext, window: HeaderWindow, txid: string): Promise<Inclusion | null> {
  for (const c of ctx.clients) {
    const inclusion = await attempt(ctx, c, async () => {
      const proof = await c.merkleProof(txid);
      return proof === null ? null : checkProof(c.id, window, txid, proof);
    });
    if (inclusion) {
      window.retain(inclusion.height);
      return inclusion;
    }
  }
  return null;
}

/** Verify `proof` against the verified header at its height; null when that height is not verified (yet). */
function checkProof(endpoint: string, window: HeaderWindow, txid: string, proof: EsploraMerkleProof): Inclusion | null {
  const at = window.at(proof.blockHeight);
  if (!at) return null; // above the verified tip (not synced yet) or below the window: not checkable here
  try {
    if (proof.merkle.length > MAX_DEPTH)
      throw new SpvError(
        'merkle-proof',
        endpoint,
        `a branch of ${proof.merkle.length} hashes; blocks are at most ${MAX_DEPTH} deep`,
      );
    const branch = proof.merkle.map((h) => fromDisplayHex(h));
    verifyMerkleBranch(fromDisplayHex(txid), branch, proof.pos, at.header.merkleRoot);
  } catch (e) {
    if (e instanceof SpvError) throw e;
    if (!(e instanceof ProtocolError)) throw e;
    const check = 'check' in e ? String(e.check) : e.code;
    throw new SpvError(
      'merkle-proof',
      endpoint,
      `the merkle proof of ${txid} at height ${proof.blockHeight} fails ${check} against the verified header`,
      { cause: e },
    );
  }
  return { blockHash: toDisplayHex(at.hash), height: at.height };
}

/** An endpoint's confirmed status must agree with the verified chain (it is charged, never believed). */
async function checkStatus(
  ctx: SpvContext,
  window: HeaderWindow,
  c: EsploraClient,
  txid: string,
  inclusion: Inclusion | null,
): Promise<void> {
  await attempt(ctx, c, async () => {
    const s = await c.txStatus(txid);
    if (!s.confirmed || s.blockHeight > window.tip().height) return; // unconfirmed or ahead of us: nothing to check
    if (inclusion && s.blockHeight === inclusion.height && s.blockHash === inclusion.blockHash) return;
    const ours = window.hashAt(s.blockHeight);
    if (ours === undefined) return; // below the window: not checkable
    const why =
      ours !== s.blockHash
        ? `block ${s.blockHash}, but the verified block at that height is ${ours}`
        : inclusion
          ? `that block, but its verified inclusion is in ${inclusion.blockHash} at ${inclusion.height}`
          : 'that block, but no endpoint has a merkle proof of it there';
    throw new SpvError('tx-status', c.id, `says ${txid} is confirmed at height ${s.blockHeight} in ${why}`);
  });
}
