/**
 * A merged miner that uses the consensus RPC like a real one (spec 4.2, 4.3): `createauxblock`,
 * a parent-chain coinbase with the 44-byte `fabe6d6d` commitment as the whole scriptPubKey of
 * output 2 (the Marathon-style layout Alys parses), coinbase and chain merkle branches, a parent
 * header mined to the returned bits, then `submitauxblock`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { expectedIndex } from '../protocol/auxpow/check.js';
import { encodeAuxPow } from '../protocol/auxpow/codec.js';
import { headerHash } from '../protocol/bitcoin/header.js';
import { merkleBranchFor, txMerkleRoot } from '../protocol/bitcoin/merkle.js';
import { checkProofOfWork, targetFromCompact } from '../protocol/bitcoin/pow.js';
import { txid } from '../protocol/bitcoin/tx.js';
import { bytesToHex, fromHex } from '../protocol/bytes.js';
import { decodeAuxBlockJson, type AuxBlock } from '../protocol/codec/json.js';
import type { AuxPow, BitcoinHeader, Hex, Transaction } from '../protocol/types.js';

export interface MinerOptions {
  /** The consensus RPC to mine for. */
  rpcUrl: string;
  /** EVM address credited with 80% of the fees of the blocks this PoW finalizes. */
  address: Hex;
  /** Seeds the parent chain's fake transactions (deterministic). */
  seed?: string;
  /** How many other transactions the parent block has besides the coinbase (depth of the coinbase branch). */
  parentTxs?: number;
  /** Parent block version; its chain id (version >> 16) must differ from Alys's. Default 0x20000000. */
  parentVersion?: number;
  /** Seconds for parent header times. */
  now?: () => number;
}

export class MinerRpcError extends Error {
  override name = 'MinerRpcError';
}

const MAGIC = [0xfa, 0xbe, 0x6d, 0x6d];

/** A JSON-RPC reply as the consensus RPC sends it (`null` for an empty body). */
type RpcReplyJson = { result?: unknown; error?: unknown } | null;

async function call(url: string, method: string, params: unknown): Promise<{ status: number; json: RpcReplyJson }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method, params, id: 1 }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as RpcReplyJson) : null };
}

type ParentOptions = { seed: string; parentTxs: number; parentVersion: number; time: number; height: number };

/** An AuxPoW committing to `aux` whose parent header is not mined yet (nonce 0). */
interface Candidate {
  header: BitcoinHeader;
  target: bigint;
  coinbase: Transaction;
  txids: Uint8Array[];
}

/** Build an AuxPoW committing to `aux` and mine its parent header (regtest-easy targets: a few tries). */
export function buildAuxPow(aux: AuxBlock, opts: ParentOptions): AuxPow {
  const c = auxPowCandidate(aux, opts);
  grind(c, Number.POSITIVE_INFINITY);
  return finish(c);
}

/**
 * The same, grinding in slices of `slice` tries with a macrotask between them, so a hard target
 * (the retarget can make it 5x harder per interval) never blocks the event loop the devnet's block
 * producer and RPC servers run on.
 */
export async function buildAuxPowYielding(aux: AuxBlock, opts: ParentOptions, slice = 1 << 12): Promise<AuxPow> {
  const c = auxPowCandidate(aux, opts);
  while (!grind(c, slice)) await new Promise<void>((r) => setTimeout(r, 0));
  return finish(c);
}

/** Try up to `tries` nonces (rolling the time when they wrap); true once the header meets the target. */
function grind(c: Candidate, tries: number): boolean {
  for (let i = 0; i < tries; i++) {
    if (checkProofOfWork(c.header, c.target)) return true;
    c.header.nonce = (c.header.nonce + 1) >>> 0;
    if (c.header.nonce === 0) c.header.time++;
  }
  return checkProofOfWork(c.header, c.target);
}

function finish(c: Candidate): AuxPow {
  return {
    coinbaseTxn: c.coinbase,
    blockHash: headerHash(c.header),
    coinbaseBranch: { branchHash: merkleBranchFor(c.txids, 0), branchSideMask: 0 },
    blockchainBranch: { branchHash: [], branchSideMask: 0 },
    parentBlock: c.header,
  };
}

function auxPowCandidate(aux: AuxBlock, opts: ParentOptions): Candidate {
  const auxHash = fromHex(aux.hash);
  // One merged-mined chain: an empty chain branch, merkle size 1, nonce 0; expected index must be 0.
  const merkleNonce = 0;
  if (expectedIndex(merkleNonce, aux.chainId, 0) !== 0) throw new Error('unreachable: index in a 1-leaf tree');
  const commitment = new Uint8Array(44);
  commitment.set(MAGIC, 0);
  commitment.set(auxHash, 4);
  new DataView(commitment.buffer).setUint32(36, 1, true); // merkle_size
  new DataView(commitment.buffer).setUint32(40, merkleNonce, true);
  const heightPush = new Uint8Array([0x03, opts.height & 0xff, (opts.height >> 8) & 0xff, (opts.height >> 16) & 0xff]);
  const coinbase: Transaction = {
    version: 1,
    lockTime: 0,
    inputs: [
      {
        prevTxid: new Uint8Array(32),
        prevVout: 0xffffffff,
        scriptSig: new Uint8Array([
          ...heightPush,
          0x04,
          ...sha256(new TextEncoder().encode(`${opts.seed}/${aux.hash}`)).subarray(0, 4),
        ]),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: [
      {
        value: 312_500_000n,
        scriptPubkey: new Uint8Array([
          0x00,
          0x14,
          ...sha256(new TextEncoder().encode(`${opts.seed}/payout`)).subarray(0, 20),
        ]),
      },
      { value: 0n, scriptPubkey: new Uint8Array([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...new Uint8Array(32)]) },
      { value: 0n, scriptPubkey: commitment },
    ],
  };
  const others = Array.from({ length: opts.parentTxs }, (_, i) =>
    sha256(new TextEncoder().encode(`${opts.seed}/${aux.hash}/tx/${i}`)),
  );
  const txids = [txid(coinbase), ...others];
  const header: BitcoinHeader = {
    version: opts.parentVersion,
    prevBlockhash: sha256(new TextEncoder().encode(`${opts.seed}/parent/${opts.height - 1}`)),
    merkleRoot: txMerkleRoot(txids),
    time: opts.time,
    bits: aux.bits,
    nonce: 0,
  };
  return { header, target: targetFromCompact(aux.bits), coinbase, txids };
}

export function createMiner(opts: MinerOptions) {
  const seed = opts.seed ?? 'miner';
  const parentTxs = opts.parentTxs ?? 3;
  const parentVersion = opts.parentVersion ?? 0x20000000;
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  let parentHeight = 1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  /** One round: ask for work, mine, submit. 'no-work' when Alys has nothing new since the last PoW. */
  async function mineOnce(): Promise<'submitted' | 'no-work'> {
    const created = await call(opts.rpcUrl, 'createauxblock', [opts.address]);
    if (created.status === 503) return 'no-work';
    if (created.status !== 200 || created.json?.error)
      throw new MinerRpcError(`createauxblock failed: HTTP ${created.status} ${JSON.stringify(created.json?.error)}`);
    const aux = decodeAuxBlockJson(created.json?.result);
    const auxpow = await buildAuxPowYielding(aux, {
      seed,
      parentTxs,
      parentVersion,
      time: now(),
      height: parentHeight++,
    });
    const submitted = await call(opts.rpcUrl, 'submitauxblock', [aux.hash.slice(2), bytesToHex(encodeAuxPow(auxpow))]);
    if (submitted.status !== 200 || submitted.json?.error)
      throw new MinerRpcError(
        `submitauxblock failed: HTTP ${submitted.status} ${JSON.stringify(submitted.json?.error)}`,
      );
    return 'submitted';
  }

  return {
    mineOnce,
    /** Mine every `everyMs` until stopped; errors are reported through `onError` and mining goes on. */
    start(everyMs: number, onError: (e: unknown) => void = () => {}) {
      const tick = async () => {
        if (stopped) return;
        try {
          await mineOnce();
        } catch (e) {
          onError(e);
        }
        if (!stopped) timer = setTimeout(tick, everyMs);
      };
      timer = setTimeout(tick, everyMs);
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
