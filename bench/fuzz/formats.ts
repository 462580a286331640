/**
 * The external input formats the fuzz benchmark mutates (bench/fuzz.ts, test/fuzz/), each with its
 * seeds (real inputs from $ALYS_VECTORS, or a small generated devnet chain where the vectors have
 * none) and the path the node (or the `alys-light verify` CLI, for what only the CLI reads) feeds such
 * an input through. `committed` says which bytes the verification commits to: a mutation that changes
 * them and is still accepted is a bug; one that changes only uncommitted bytes (JSON whitespace, hex
 * case, the ignored AuxPoW block hash, a claimed field checked elsewhere) is counted apart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KINDS } from '../../src/cli/verify.js';
import { fileLayerFromText, nodeDefaultsLayer } from '../../src/config/nodejs/load.js';
import { resolveConfig } from '../../src/config/load.js';
import { generateDevnet } from '../../src/devnet/generate/generate.js';
import { createRpcHandler } from '../../src/devnet/evm/rpc.js';
import { createVerifierContext, verifyResponse, type VerifierContext } from '../../src/node/verify/verify-response.js';
import {
  aggregateApprovals,
  chainSpecToJson,
  createBlsBackend,
  createCandidatePool,
  decodeAuxPow,
  decodeAuxPowHeaderJson,
  decodeGetProofResponse,
  DecodeError,
  decodeRpcBlockReceipts,
  encodeAuxPow,
  encodeAuxPowHeaderJson,
  encodeSignedBlockJson,
  encodeSignedBlockMsgpack,
  equalBytes,
  lastFinalizedOf,
  parseChainSpecJson,
  parseHex,
  prepareAuthorities,
  signApproval,
  signingRoot,
  toHex,
  txid,
  validatePowBlock,
  VerificationError,
  verifyBlockReceipts,
  verifyGetProofResponse,
  type AuxPowHeader,
  type BlsBackend,
  type ChainSpec,
  type Hex,
  type PreparedAuthorities,
  type SignedConsensusBlock,
} from '../../src/protocol/index.js';
import { concatBytes } from '../../src/protocol/bytes.js';
import {
  chunkToBlock,
  decodeBlocksByRangeRequest,
  decodeGossip,
  encodeBlockChunk,
  encodeResponseChunk,
  encodeBlocksByRangeRequest,
  encodeErrorChunk,
  encodeGossip,
  RESULT,
  ResponseDecoder,
} from '../../src/protocol/p2p/index.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { type CaseRng, mutateBytes, mutateJsonText, mutateText } from './mutate.js';

/** What one case did when it was not rejected. */
export interface Accepted {
  /** Passed the whole verification. */
  accepted: boolean;
  /** The committed bytes differ from the seed's. */
  changed: boolean;
}

/** An input that the node's path reported as an unexpected (untyped) failure instead of throwing it. */
export class UntypedFailure extends Error {
  override name = 'UntypedFailure';
}

export interface FuzzFormat {
  name: string;
  /** What "committed bytes" means for this format. */
  committed: string;
  /** Where the node (or CLI) takes this input through. */
  path: string;
  seeds: number;
  /** Seed `i` unmutated, in the form `run` takes. */
  seed(i: number): unknown;
  /** The mutated input of case `i`. */
  mutate(i: number, rng: CaseRng): unknown;
  run(input: unknown, i: number): Promise<Accepted> | Accepted;
}

const NOT_CHECKED: Accepted = { accepted: false, changed: false };

// ---------------------------------------------------------------- seeds

export interface FuzzContext {
  vectors: (file: string) => any;
  spec: ChainSpec;
  blocks: SignedConsensusBlock[];
  hashes: Hex[];
  /** eth_getBlockReceipts of devnet blocks with transactions */
  receipts: { number: number; json: unknown }[];
  backend: BlsBackend;
  verifier: VerifierContext;
  authorities: PreparedAuthorities;
  proposerKeys: Uint8Array[];
  close(): Promise<void>;
}

export function vectorsDir(): string {
  return resolve(process.env.ALYS_VECTORS ?? resolve(import.meta.dirname, '../../../shared/vectors'));
}

/** Seeds: the vectors, and a 12-block devnet (transactions, two PoW blocks) generated in-process. */
export async function fuzzContext(dir = vectorsDir()): Promise<FuzzContext> {
  if (!existsSync(resolve(dir, 'README.md'))) throw new Error(`no vectors at ${dir}: set ALYS_VECTORS`);
  const cache = new Map<string, unknown>();
  const vectors = (f: string) => {
    if (!cache.has(f)) cache.set(f, JSON.parse(readFileSync(resolve(dir, f), 'utf8')));
    return cache.get(f);
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'alys-fuzz-'));
  const { devnet } = await generateDevnet({ blocks: 12, txPerBlock: 4, powEvery: 5, users: 8, seed: 'fuzz', dataDir });
  const blocks: SignedConsensusBlock[] = [];
  const hashes: Hex[] = [];
  for (let n = 0; n <= devnet.chain.height; n++) {
    blocks.push(devnet.chain.at(n)!.signed);
    hashes.push(devnet.chain.at(n)!.hash);
  }
  const rpc = createRpcHandler(devnet.engine.core);
  const receipts: { number: number; json: unknown }[] = [];
  for (let n = 1; n <= devnet.chain.height; n++) {
    const p = blocks[n]!.message.executionPayload;
    if (p.transactions.length < 3) continue;
    const reply = (await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockReceipts', params: [p.blockHash] })) as {
      result: unknown;
    };
    receipts.push({ number: n, json: reply.result });
  }
  const spec = devnet.spec;
  const proposerKeys = devnet.members.map((m) => m.blsSecretKey);
  await devnet.stop();
  const backend = await createBlsBackend('auto');
  return {
    vectors,
    spec,
    blocks,
    hashes,
    receipts,
    backend,
    verifier: createVerifierContext(spec, backend),
    authorities: prepareAuthorities(spec.authorities, backend),
    proposerKeys,
    async close() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- helpers

/** JSON text as the node's transports parse it: text that is not JSON is a typed DecodeError there. */
function jsonParse(text: unknown): unknown {
  try {
    return JSON.parse(text as string);
  } catch (e) {
    throw new DecodeError('$', `not JSON: ${(e as Error).message}`);
  }
}

/** The node reports an unexpected error as an `unexpected: ...` failure message: surface it. */
function checkVerifyResult(r: ReturnType<typeof verifyResponse>): void {
  if (!r.ok && r.message.startsWith('unexpected:')) throw new UntypedFailure(r.message);
}

/** A canonical string of a decoded value (bytes as hex, bigints as decimal), for comparisons. */
export function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x instanceof Uint8Array ? toHex(x) : typeof x === 'bigint' ? `${x}n` : x === undefined ? '<undefined>' : x,
  );
}

/** Devnet block numbers with transactions, and the PoW blocks. */
function seedBlocks(ctx: FuzzContext): number[] {
  const withTxs = ctx.blocks.findIndex((b, n) => n > 0 && b.message.executionPayload.transactions.length >= 3);
  const pow = ctx.blocks.map((b, n) => (b.message.auxpowHeader ? n : -1)).filter((n) => n > 0);
  return [...new Set([withTxs, ...pow, ctx.blocks.length - 1])];
}

// ---------------------------------------------------------------- formats

/** getblockbyheight responses (consensus RPC), through the node's verifier (verifyResponse, approvals on). */
function consensusJson(ctx: FuzzContext): FuzzFormat {
  const seeds = seedBlocks(ctx).map((n) => ({
    n,
    value: { jsonrpc: '2.0', id: 1, result: encodeSignedBlockJson(ctx.blocks[n]!) },
  }));
  return {
    name: 'consensus-block-json',
    committed: 'the signing root of the block message (the JSON spelling, the aggregate encoding are not committed)',
    path: 'node/verify/verify-response.ts verifyResponse({ text }) (JSON.parse, decodeSignedBlockJson, summarizeBlock)',
    seeds: seeds.length,
    seed: (i) => JSON.stringify(seeds[i]!.value),
    mutate: (i, rng) => mutateJsonText(seeds[i % seeds.length]!.value, rng),
    run(input, i) {
      const seed = seeds[i % seeds.length]!;
      const r = verifyResponse({ source: 'fuzz', text: input as string, expectHeight: seed.n }, ctx.verifier, true);
      checkVerifyResult(r);
      if (!r.ok) return NOT_CHECKED;
      return { accepted: true, changed: r.summary.hash !== ctx.hashes[seed.n] };
    },
  };
}

/** msgpack blocks (a blocks_by_range chunk's payload), through verifyResponse({ msgpack }). */
function msgpackBlock(ctx: FuzzContext): FuzzFormat {
  const seeds = seedBlocks(ctx).map((n) => ({ n, bytes: encodeSignedBlockMsgpack(ctx.blocks[n]!) }));
  return {
    name: 'msgpack-block',
    committed: 'the signing root of the block message (the stored aggregate is not committed)',
    path: 'node/verify/verify-response.ts verifyResponse({ msgpack }) (decodeSignedBlockMsgpack, summarizeBlock)',
    seeds: seeds.length,
    seed: (i) => seeds[i]!.bytes,
    mutate: (i, rng) => mutateBytes(seeds[i % seeds.length]!.bytes, rng),
    run(input, i) {
      const seed = seeds[i % seeds.length]!;
      const r = verifyResponse({ source: 'fuzz', msgpack: input as Uint8Array }, ctx.verifier, true);
      checkVerifyResult(r);
      if (!r.ok) return NOT_CHECKED;
      return { accepted: true, changed: r.summary.hash !== ctx.hashes[seed.n] };
    },
  };
}

/** The AuxPoW of the devnet's PoW blocks (JSON, as the consensus RPC carries it), through validatePowBlock. */
function auxpowAlys(ctx: FuzzContext): FuzzFormat {
  const pows = ctx.blocks.map((b, n) => (b.message.auxpowHeader ? n : -1)).filter((n) => n > 0);
  const seeds = pows.map((n, k) => {
    const header = ctx.blocks[n]!.message.auxpowHeader!;
    const prev = k === 0 ? 0 : pows[k - 1]!;
    const prevHeader = ctx.blocks[prev]!.message.auxpowHeader;
    const lastFinalized =
      prev === 0 ? ctx.hashes[0]! : lastFinalizedOf({ hash: ctx.hashes[prev]!, header: prevHeader as AuxPowHeader });
    const lastFinalizedNumber = ctx.hashes.indexOf(lastFinalized);
    return {
      n,
      json: encodeAuxPowHeaderJson(header),
      canonical: canon(header),
      lastPow: { blockNumber: prev, bits: prev === 0 ? ctx.spec.bits : prevHeader!.bits },
      lastFinalized,
      // the chain verifier's window: the blocks after the last finalized one, below n
      window: Array.from({ length: n - lastFinalizedNumber - 1 }, (_, j) => lastFinalizedNumber + 1 + j),
    };
  });
  return {
    name: 'auxpow-alys',
    committed:
      'what the PoW check commits to: range_start, range_end, chain_id, the coinbase txid (not its witness), both branches and the parent merkle root; the other parent header fields are free (any header meeting the target is a valid PoW: at the devnet regtest bits, half of all), the AuxPoW block_hash is read by no check; bits, height and fee_recipient are committed by the block signature (consensus-block-json, msgpack-block), as in Alys',
    path: 'protocol codec/json.ts decodeAuxPowHeaderJson, then auxpow/finality.ts validatePowBlock with the chain verifier context (range looked up by hash in the unfinalized window)',
    seeds: seeds.length,
    seed: (i) => JSON.stringify(seeds[i]!.json),
    mutate: (i, rng) => mutateJsonText(seeds[i % seeds.length]!.json, rng),
    run(input, i) {
      const seed = seeds[i % seeds.length]!;
      const header = decodeAuxPowHeaderJson(jsonParse(input));
      const at = (h: Hex) => seed.window.find((n) => ctx.hashes[n] === h);
      const start = at(header.rangeStart);
      const end = at(header.rangeEnd);
      if (start === undefined || end === undefined || end < start)
        throw new VerificationError('pow.range-unknown', 'the PoW range is not in the window');
      validatePowBlock({
        blockNumber: seed.n,
        header,
        lastPow: seed.lastPow,
        lastFinalizedHash: seed.lastFinalized,
        rangeStart: { number: start, parentHash: ctx.blocks[start]!.message.parentHash },
        rangeRoots: ctx.hashes.slice(start, end + 1),
        rangeEndNumber: end,
        chainSpec: ctx.spec,
        historicalExemptions: false,
      });
      // what the PoW commits to; bits, height and fee recipient are committed by the block's signature
      const ignored = ({ rangeStart, rangeEnd, chainId, auxpow: a }: AuxPowHeader) =>
        canon([
          rangeStart,
          rangeEnd,
          chainId,
          a && [txid(a.coinbaseTxn), a.coinbaseBranch, a.blockchainBranch, a.parentBlock.merkleRoot],
        ]);
      const original = decodeAuxPowHeaderJson(seed.json);
      return { accepted: true, changed: ignored(header) !== ignored(original) };
    },
  };
}

/** Namecoin mainnet AuxPoW (vectors), raw bytes, through `alys-light verify auxpow` (script-sig variant, PoW). */
function auxpowNamecoin(ctx: FuzzContext): FuzzFormat {
  const seeds = (ctx.vectors('namecoin-auxpow.json').vectors as any[])
    .filter((v) => v.network === 'namecoin-mainnet')
    .map((v) => {
      const bytes = parseHex(v.auxpow_hex, 'auxpow', { prefix: 'optional' });
      const auxpow = decodeAuxPow(bytes);
      return {
        bytes,
        auxHash: toHex(parseHex(v.block_hash, 'h', { prefix: 'forbidden' }).reverse()).slice(2),
        chainId: Number(v.aux_chain_id),
        bits: Number(v.bits),
        committed: encodeAuxPow({ ...auxpow, blockHash: new Uint8Array(32) }),
      };
    });
  const cliCtx = {
    spec: ctx.spec,
    chainGiven: false,
    bls: async () => ctx.backend,
  };
  return {
    name: 'auxpow-namecoin',
    committed: 'the AuxPoW serialization except its 32-byte parent block_hash field (carried, read by no check)',
    path: 'cli/verify.ts KINDS.auxpow (decodeAuxPow, checkAuxPow script-sig, checkAuxPowProofOfWork at the parent bits)',
    seeds: seeds.length,
    seed: (i) => seeds[i]!.bytes,
    mutate: (i, rng) => mutateBytes(seeds[i % seeds.length]!.bytes, rng),
    async run(input, i) {
      const seed = seeds[i % seeds.length]!;
      const bytes = input as Uint8Array;
      const out = await KINDS.auxpow!.handler(
        {
          auxpow: toHex(bytes).slice(2),
          auxHash: seed.auxHash,
          chainId: seed.chainId,
          bits: seed.bits,
          variant: 'script-sig',
        },
        cliCtx,
      );
      if (out.pow !== true) return NOT_CHECKED;
      const decoded = decodeAuxPow(bytes);
      return {
        accepted: true,
        changed: !equalBytes(encodeAuxPow({ ...decoded, blockHash: new Uint8Array(32) }), seed.committed),
      };
    },
  };
}

/** eth_getProof responses (vectors), through the engine's decode + verify against the trusted state root. */
function ethGetProof(ctx: FuzzContext): FuzzFormat {
  const seeds = (ctx.vectors('eth-getproof.json').cases as any[]).map((c) => {
    const [address, keys] = (c.request?.params ?? [
      c.result.address,
      c.result.storageProof.map((p: { key: Hex }) => p.key),
    ]) as [Hex, Hex[]];
    const request = { address, storageKeys: keys };
    const verified = verifyGetProofResponse(c.state_root, decodeGetProofResponse(c.result), request);
    return { stateRoot: c.state_root as Hex, result: c.result, request, verified: canon(verified) };
  });
  return {
    name: 'eth-getproof',
    committed:
      'what the node returns from the proof: the account (exists, nonce, balance, storageHash, codeHash) and every storage slot value (proof node spelling is not committed)',
    path: 'node/engine/reads/state.ts: decodeGetProofResponse, verifyGetProofResponse(stateRoot, response, { address, storageKeys })',
    seeds: seeds.length,
    seed: (i) => JSON.stringify(seeds[i]!.result),
    mutate: (i, rng) => mutateJsonText(seeds[i % seeds.length]!.result, rng),
    run(input, i) {
      const seed = seeds[i % seeds.length]!;
      const response = decodeGetProofResponse(jsonParse(input));
      const v = verifyGetProofResponse(seed.stateRoot, response, seed.request);
      return { accepted: true, changed: canon(v) !== seed.verified };
    },
  };
}

/** eth_getBlockReceipts of devnet blocks, through the engine's decode + verify against the verified payload. */
function receipts(ctx: FuzzContext): FuzzFormat {
  const committedOf = (rs: ReturnType<typeof decodeRpcBlockReceipts>) =>
    canon(
      rs.map(({ from: _f, to: _t, contractAddress: _c, effectiveGasPrice: _e, ...r }) => ({
        ...r,
        logs: r.logs.map(({ removed: _r, ...l }) => l),
      })),
    );
  const seeds = ctx.receipts.map(({ number, json }) => {
    const p = ctx.blocks[number]!.message.executionPayload;
    const commitment = {
      receiptsRoot: parseHex(p.receiptsRoot, 'payload.receiptsRoot', { prefix: 'required', length: 32 }),
      hash: parseHex(p.blockHash, 'payload.blockHash', { prefix: 'required', length: 32 }),
      number: p.blockNumber,
      gasUsed: p.gasUsed,
      logsBloom: parseHex(p.logsBloom, 'payload.logsBloom', { prefix: 'required', length: 256 }),
    };
    const txHashes = p.transactions.map((t) => keccak_256(parseHex(t, 'tx', { prefix: 'required' })));
    const decoded = decodeRpcBlockReceipts(json);
    verifyBlockReceipts(commitment, decoded, txHashes);
    return { json, commitment, txHashes, committed: committedOf(decoded) };
  });
  return {
    name: 'receipts',
    committed:
      'every receipt field the receipts root, block hash/number, gasUsed, bloom and transaction hashes commit to; not from/to/contractAddress/effectiveGasPrice/removed (checked against the verified transaction by checkReceiptClaims)',
    path: 'node/engine/reads/receipts.ts: decodeRpcBlockReceipts, verifyBlockReceipts(payload commitment, receipts, tx hashes)',
    seeds: seeds.length,
    seed: (i) => JSON.stringify(seeds[i]!.json),
    mutate: (i, rng) => mutateJsonText(seeds[i % seeds.length]!.json, rng),
    run(input, i) {
      const seed = seeds[i % seeds.length]!;
      const decoded = decodeRpcBlockReceipts(jsonParse(input));
      verifyBlockReceipts(seed.commitment, decoded, seed.txHashes);
      return { accepted: true, changed: committedOf(decoded) !== seed.committed };
    },
  };
}

/** Mainnet headers across the 828576 retarget (vectors), through `alys-light verify btc-headers`. */
function bitcoinHeaders(ctx: FuzzContext): FuzzFormat {
  const v = ctx.vectors('bitcoin-headers.json');
  const span = v.retarget_span.headers as any[];
  const hex = (h: any) => (typeof h === 'string' ? h : (h.header_hex ?? h.hex ?? h.header)) as string;
  const ex = v.retarget_example;
  const seeds = [
    // the last 10 headers of a period and the first of the next: a retarget
    {
      network: 'mainnet',
      height: 828_566,
      periodStart: { time: ex.first_time, bits: Number(ex.old_bits) },
      headers: span.slice(-11).map(hex),
    },
    // headers without a height: links and each header's own PoW
    { headers: span.slice(100, 110).map(hex) },
  ];
  const cliCtx = { spec: ctx.spec, chainGiven: false, bls: async () => ctx.backend };
  return {
    name: 'bitcoin-headers',
    committed:
      'every header byte: what is accepted must be a contiguous run of the real headers (the user-given height and period start are trust anchors, not committed)',
    path: 'cli/verify.ts KINDS["btc-headers"] (decodeHeader, tipFromCheckpoint, verifyHeaderChain)',
    seeds: seeds.length,
    seed: (i) => JSON.stringify(seeds[i]),
    mutate: (i, rng) =>
      rng.chance(50)
        ? mutateJsonText(seeds[i % seeds.length], rng)
        : JSON.stringify({
            ...seeds[i % seeds.length],
            headers: hexBytesMutation(seeds[i % seeds.length]!.headers, rng),
          }),
    async run(input, i) {
      const seed = seeds[i % seeds.length]!;
      const parsed = jsonParse(input) as { headers?: unknown };
      await KINDS['btc-headers']!.handler(parsed, cliCtx);
      // accepted headers must be a contiguous run of the real chain (a shorter run is an honest answer)
      const got = (parsed.headers as string[]).map((h) => h.toLowerCase().replace(/^0x/, ''));
      const from = seed.headers.indexOf(got[0]!);
      return { accepted: true, changed: from < 0 || got.some((h, k) => h !== seed.headers[from + k]) };
    },
  };
}

/** One byte mutation of one hex string in a list. */
function hexBytesMutation(list: readonly string[], rng: CaseRng): string[] {
  const out = [...list];
  const k = rng.int(out.length);
  out[k] = toHex(mutateBytes(parseHex(out[k]!, 'h', { prefix: 'optional' }), rng)).slice(2);
  return out;
}

/** Merkle branches (block 830000) and BIP37 txoutproofs (vectors), through `alys-light verify btc-merkle`. */
function bitcoinMerkle(ctx: FuzzContext): FuzzFormat {
  const v = ctx.vectors('bitcoin-merkle.json');
  const b = v.block_830000;
  const branches = (b.txs as any[]).map((t) => ({
    txid: t.txid,
    branch: t.merkle_branch,
    index: Number(t.index),
    header: b.header_hex,
    totalTransactions: b.nTx,
  }));
  const proofs = (v.txoutproofs as any[]).map((p) => ({ txoutproof: p.proof_hex }));
  const seeds: Record<string, unknown>[] = [...branches, ...proofs];
  const cliCtx = { spec: ctx.spec, chainGiven: false, bls: async () => ctx.backend };
  const blockOf = (out: Record<string, unknown>) => canon([out.block, out.merkleRoot]);
  const claimsOf = (out: Record<string, unknown>) => canon([out.txid, out.index, out.matches]);
  const expected = new Map<number, Record<string, unknown>>();
  return {
    name: 'bitcoin-merkle',
    committed:
      'the (txid, index) pairs proven for the block the output names (header hash or merkle root): other pairs for the same block are a finding; a mutated header is another block, named as such (this path does not check header PoW)',
    path: 'cli/verify.ts KINDS["btc-merkle"] (verifyMerkleBranch / verifyTxOutProof, decodeHeader)',
    seeds: seeds.length,
    seed: (i) => JSON.stringify(seeds[i]),
    mutate(i, rng) {
      const seed = seeds[i % seeds.length]!;
      if (rng.chance(60)) return mutateJsonText(seed, rng);
      if ('txoutproof' in seed)
        return JSON.stringify({
          txoutproof: toHex(mutateBytes(parseHex(seed.txoutproof, 'p', { prefix: 'optional' }), rng)).slice(2),
        });
      return JSON.stringify({ ...seed, branch: hexBytesMutation(seed.branch as string[], rng) });
    },
    async run(input, i) {
      const k = i % seeds.length;
      if (!expected.has(k)) expected.set(k, await KINDS['btc-merkle']!.handler(seeds[k], cliCtx));
      const out = await KINDS['btc-merkle']!.handler(jsonParse(input), cliCtx);
      const want = expected.get(k)!;
      // a mutated header is another block, and the output names it: only other claims about the same block lie
      return { accepted: true, changed: blockOf(out) === blockOf(want) && claimsOf(out) !== claimsOf(want) };
    },
  };
}

/** Block `n`'s msgpack, mutated, as one well-framed success chunk (an empty mutation stays one byte). */
function reframedMutation(ctx: FuzzContext, n: number, rng: CaseRng): Uint8Array {
  let payload = mutateBytes(encodeSignedBlockMsgpack(ctx.blocks[n]!), rng);
  if (payload.length === 0) payload = Uint8Array.of(0xc0);
  return encodeResponseChunk(RESULT.success, payload);
}

/** blocks_by_range responses (several chunks and an error chunk), through ResponseDecoder, chunkToBlock and verifyResponse. */
function p2pResponse(ctx: FuzzContext): FuzzFormat {
  const ns = seedBlocks(ctx);
  const seeds = [
    concatBytes(...ns.map((n) => encodeBlockChunk(ctx.blocks[n]!))),
    concatBytes(encodeBlockChunk(ctx.blocks[ns[0]!]!), encodeErrorChunk(RESULT.serverError, 'no more blocks')),
  ];
  const known = new Set(ctx.hashes);
  return {
    name: 'p2p-blocks-by-range-response',
    committed:
      'the signing root of every block in the response (a response with fewer blocks is an honest partial answer)',
    path: 'protocol/p2p/rpc.ts ResponseDecoder (push in pieces, end) and chunkToBlock, then verifyResponse({ msgpack })',
    seeds: seeds.length,
    seed: (i) => ({ bytes: seeds[i]!, split: 4096 }),
    // a third of the cases mutate a block's msgpack and frame it again with valid checksums (so they reach
    // chunkToBlock and the verifier: a mutated frame almost never passes its CRC-32C); the rest mutate the wire
    mutate: (i, rng) =>
      rng.int(3) === 0
        ? { bytes: reframedMutation(ctx, ns[i % ns.length]!, rng), split: 1 + rng.int(4096) }
        : { bytes: mutateBytes(seeds[i % seeds.length]!, rng), split: 1 + rng.int(4096) },
    run(input) {
      const { bytes, split } = input as { bytes: Uint8Array; split: number };
      const decoder = new ResponseDecoder({ maxChunks: 8 });
      const chunks = [];
      for (let o = 0; o < bytes.length; o += split) chunks.push(...decoder.push(bytes.subarray(o, o + split)));
      decoder.end();
      let changed = false;
      let verified = 0;
      for (const chunk of chunks) {
        const b = chunkToBlock(chunk);
        if (!('block' in b)) continue;
        const r = verifyResponse({ source: 'fuzz', msgpack: chunk.payload }, ctx.verifier, true);
        checkVerifyResult(r);
        if (!r.ok) continue;
        verified++;
        if (!known.has(r.summary.hash)) changed = true;
      }
      return { accepted: verified > 0, changed };
    },
  };
}

/** blocks_by_range requests (the server side). */
function p2pRequest(_ctx: FuzzContext): FuzzFormat {
  const seeds = [
    encodeBlocksByRangeRequest({ startHeight: 1n, count: 64n }),
    encodeBlocksByRangeRequest({ startHeight: 123_456_789n, count: 1024n }),
  ];
  return {
    name: 'p2p-blocks-by-range-request',
    committed: 'nothing: any well-formed request is a valid request (so "accepted" is not a finding here)',
    path: 'protocol/p2p/rpc.ts decodeBlocksByRangeRequest (node/network/blocks-by-range.ts)',
    seeds: seeds.length,
    seed: (i) => seeds[i]!,
    mutate: (i, rng) => mutateBytes(seeds[i % seeds.length]!, rng),
    run(input) {
      decodeBlocksByRangeRequest(input as Uint8Array);
      return { accepted: true, changed: false };
    },
  };
}

/** Gossip (a proposer's block, an approval, a QueuePow), through decodeGossip and the node's candidate pool. */
function gossip(ctx: FuzzContext): FuzzFormat {
  const n = ctx.blocks.length - 1;
  const root = signingRoot(ctx.blocks[n]!.message);
  const proposerOnly: SignedConsensusBlock = {
    message: ctx.blocks[n]!.message,
    signature: aggregateApprovals([signApproval(ctx.proposerKeys[0]!, root, 0)]),
  };
  const approval = { blockHash: toHex(root), signature: signApproval(ctx.proposerKeys[1]!, root, 1) };
  const pow = ctx.blocks.find((b) => b.message.auxpowHeader)!.message.auxpowHeader!;
  const seeds = [
    encodeGossip({ type: 'ConsensusBlock', block: proposerOnly }),
    encodeGossip({ type: 'ApproveBlock', approval }),
    encodeGossip({ type: 'QueuePow', header: pow }),
  ];
  return {
    name: 'gossip',
    committed:
      "a block's signing root; an approval's (block hash, authority index, signature); QueuePow: nothing (a light node ignores it)",
    path: 'protocol/p2p/gossip.ts decodeGossip, then the node validator (node/network/p2p-wiring.ts followGossip: CandidatePool offerBlock / offerApproval)',
    seeds: seeds.length,
    seed: (i) => seeds[i]!,
    mutate(i, rng) {
      const seed = seeds[i % seeds.length]!;
      return rng.chance(90)
        ? { topic: seed.topic, data: mutateBytes(seed.data, rng) }
        : { topic: rng.pick(['consensusblock', 'approveblock', seed.topic, `${seed.topic}x`, '']), data: seed.data };
    },
    run(input) {
      const { topic, data } = input as { topic: string; data: Uint8Array };
      const m = decodeGossip(topic, data);
      // the node ignores the other topics after decoding them (followGossip)
      if (m.type !== 'ConsensusBlock' && m.type !== 'ApproveBlock') return { accepted: true, changed: false };
      const pool = createCandidatePool({ authorities: ctx.authorities, backend: ctx.backend });
      if (m.type === 'ConsensusBlock') {
        const offer = pool.offerBlock(m.block, n - 1);
        if (offer.verdict !== 'accept') return NOT_CHECKED;
        return { accepted: true, changed: !equalBytes(signingRoot(m.block.message), root) };
      }
      pool.offerBlock(proposerOnly, n - 1);
      const offer = pool.offerApproval(m.approval, n - 1);
      if (offer.verdict !== 'accept') return NOT_CHECKED;
      return { accepted: true, changed: canon(m.approval) !== canon(approval) };
    },
  };
}

/** Chain spec files (the real testnet/full-node/dev chain.json of the vectors, and the devnet's). */
function chainSpec(ctx: FuzzContext): FuzzFormat {
  const specs = ctx.vectors('alys-real.json').chain_specs;
  const seeds = [
    specs.testnet_chain_json.spec,
    specs.full_node_chain_json.spec,
    specs.dev_chain_json.spec,
    chainSpecToJson(ctx.spec),
  ];
  return {
    name: 'chain-spec',
    committed: 'nothing: an operator chooses the file (so "accepted" is not a finding here); typed errors only',
    path: 'protocol/chainspec.ts parseChainSpecJson (config/nodejs/network.ts reads chain.json with it)',
    seeds: seeds.length,
    seed: (i) => JSON.stringify(seeds[i]),
    mutate: (i, rng) => mutateJsonText(seeds[i % seeds.length], rng),
    run(input) {
      parseChainSpecJson(input as string);
      return { accepted: true, changed: false };
    },
  };
}

/** TOML config files, through the file layer and resolveConfig. */
function configFile(_ctx: FuzzContext): FuzzFormat {
  const seeds = [
    [
      'network = "testnet"',
      'rpc = ["https://a.example", "https://b.example"]',
      'evm-rpc = ["wss://evm.example"]',
      'metrics-port = 9100',
      'pass-through = ["eth_chainId"]',
      'storage = "level"',
      'data-dir = "data"',
      '[sync]',
      'batch-size = 128',
      'requestTimeoutMs = 2000',
      'parallelism = 4',
      '[p2p]',
      'listen = ["/ip4/0.0.0.0/tcp/9000"]',
      'bootstrap = []',
    ].join('\n'),
    'sync = { batch-size = 8, retries = 0 }\nmetrics-port = false\nlog-level = "debug"\n',
  ];
  return {
    name: 'config-file',
    committed: 'nothing: the operator writes the file (so "accepted" is not a finding here); typed errors only',
    path: 'config/nodejs/load.ts fileLayerFromText, config/load.ts resolveConfig (node runtime)',
    seeds: seeds.length,
    seed: (i) => seeds[i]!,
    mutate: (i, rng) => mutateText(seeds[i % seeds.length]!, rng),
    run(input) {
      const layer = fileLayerFromText(input as string, '/fuzz/alys-light.toml');
      resolveConfig({ runtime: 'node', layers: [nodeDefaultsLayer(), layer] });
      return { accepted: true, changed: false };
    },
  };
}

export const FORMATS: Record<string, (ctx: FuzzContext) => FuzzFormat> = {
  'consensus-block-json': consensusJson,
  'msgpack-block': msgpackBlock,
  'auxpow-alys': auxpowAlys,
  'auxpow-namecoin': auxpowNamecoin,
  'eth-getproof': ethGetProof,
  receipts,
  'bitcoin-headers': bitcoinHeaders,
  'bitcoin-merkle': bitcoinMerkle,
  'p2p-blocks-by-range-response': p2pResponse,
  'p2p-blocks-by-range-request': p2pRequest,
  gossip,
  'chain-spec': chainSpec,
  'config-file': configFile,
};
