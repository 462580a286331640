/**
 * Shared setup for the fault tests: one small devnet (chain id 21212, so that the parent-chain-id
 * fault is possible) with transfers, a peg-in, a peg-out and two PoW blocks; raw HTTP access that
 * keeps partial bodies; a light-client import through ChainVerifier; and an independent "defects"
 * oracle that evaluates every rule of spec 4.9 / 4.3 / 4.5 on its own (no short-circuit), so a test
 * can assert that a faulted block breaks exactly one rule.
 */
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { createWalletClient, defineChain, encodeFunctionData, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createWallet } from '../../../src/devnet/bitcoin/index.js';
import { BRIDGE_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createDevnet, type Devnet } from '../../../src/devnet/devnet.js';
import {
  ChainVerifier,
  computePayloadBlockHash,
  decodeSignedBlockJson,
  encodeHeader,
  genesisBlock,
  nextWorkRequired,
  nobleBackend,
  parseChainSpecJson,
  prepareAuthorities,
  signingRoot,
  toHex,
  txid,
  type BlsBackend,
  type ChainSpec,
  type PreparedAuthorities,
  type SignedConsensusBlock,
} from '../../../src/protocol/index.js';
import { checkSlot } from '../../../src/protocol/verify.js';

export interface Fixture {
  devnet: Devnet;
  spec: ChainSpec;
  /** The spec's authorities for noble (the ChainVerifier's backend here: not the devnet's signer). */
  authorities: PreparedAuthorities;
  /** The same for the devnet's own (native) backend: the oracle's fast signature rule. */
  fast: { backend: BlsBackend; authorities: PreparedAuthorities };
  /** The trusted genesis, derived from the spec file and the EL genesis (spec 2.5). */
  genesis: SignedConsensusBlock;
  /** Heights of the PoW blocks (not genesis). */
  powHeights: number[];
}

/**
 * Blocks: 1 (transfer, peg-in mint), 2 (peg-out request), 3 (its proposal), 4, 5, 6 = PoW over 1..5
 * (finalizes the peg-out), 7 (transfer), 8, 9 = PoW over 6..8, 10.
 */
export async function createFaultFixture(seed = 'faults-fixture'): Promise<Fixture> {
  const devnet = await createDevnet({ seed, chainId: 21212, consensusPort: 0, evmPort: 0, esploraPort: 0, users: 3 });
  const user = devnet.users[1]!;
  const chain = defineChain({
    id: devnet.spec.chainId,
    name: 'alys-devnet',
    nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
    rpcUrls: { default: { http: [devnet.urls.evm] } },
  });
  const wallet = createWalletClient({
    account: privateKeyToAccount(user.privateKey),
    chain,
    transport: http(devnet.urls.evm),
  });

  await wallet.sendTransaction({ to: devnet.users[2]!.address, value: 1000n });
  const btcUser = createWallet(devnet.bitcoin, `${seed}/btc-user`);
  devnet.faucet.fund(btcUser.address, 100_000_000n);
  btcUser.pegIn(user.address, 50_000_000n, devnet.depositAddress);
  devnet.mineBitcoin(devnet.spec.requiredBtcTxnConfirmations);
  await devnet.produceNext(); // 1
  const dest = createWallet(devnet.bitcoin, `${seed}/btc-dest`);
  await wallet.sendTransaction({
    to: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB',
    value: 2_000_000n * 10_000_000_000n,
    data: encodeFunctionData({
      abi: BRIDGE_ARTIFACT.abi,
      functionName: 'requestPegOut',
      args: [toHex(new TextEncoder().encode(dest.address))],
    }),
    chain,
  });
  for (let i = 2; i <= 5; i++) await devnet.produceNext();
  if ((await devnet.mineAuxPow()) !== 'submitted') throw new Error('fixture: no merged-mining work');
  await devnet.produceNext(); // 6 = PoW
  devnet.mineBitcoin(1);
  await wallet.sendTransaction({ to: devnet.users[0]!.address, value: 777n });
  await devnet.produceNext(); // 7
  await devnet.produceNext(); // 8
  if ((await devnet.mineAuxPow()) !== 'submitted') throw new Error('fixture: no merged-mining work');
  await devnet.produceNext(); // 9 = PoW
  await devnet.produceNext(); // 10

  const spec = parseChainSpecJson(readFileSync(devnet.specFile, 'utf8'));
  const genesis = genesisBlock(spec, devnet.chain.genesis.signed.message.executionPayload);
  const powHeights = devnet.chain
    .range(1, devnet.chain.height)
    .filter((b) => b.signed.message.auxpowHeader)
    .map((b) => b.number);
  return {
    devnet,
    spec,
    authorities: prepareAuthorities(spec.authorities, nobleBackend),
    fast: { backend: devnet.bls, authorities: prepareAuthorities(spec.authorities, devnet.bls) },
    genesis,
    powHeights,
  };
}

// ---------------------------------------------------------------- HTTP

export interface RawReply {
  status: number | null;
  contentType: string | null;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The connection failed before a complete response (aborted, truncated, reset). */
  error: string | null;
  ms: number;
}

/** POST one JSON-RPC request and keep whatever arrives, even a cut body. */
export function raw(
  url: string,
  method: string,
  params: unknown,
  opts: { id?: unknown; timeoutMs?: number } = {},
): Promise<RawReply> {
  const started = Date.now();
  const payload = JSON.stringify({ method, params, id: opts.id ?? 1 });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status: number | null = null;
    let contentType: string | null = null;
    let headers: Record<string, string | string[] | undefined> = {};
    let settled = false;
    const done = (error: string | null) => {
      if (settled) return;
      settled = true;
      resolve({ status, contentType, headers, body: Buffer.concat(chunks), error, ms: Date.now() - started });
    };
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        status = res.statusCode ?? null;
        contentType = (res.headers['content-type'] as string | undefined) ?? null;
        headers = res.headers;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(res.complete ? null : 'incomplete response'));
        res.on('aborted', () => done('aborted'));
        res.on('error', (e) => done(e.message || 'response error'));
        res.on('close', () => done(res.complete ? null : 'connection closed mid-body'));
      },
    );
    req.on('error', (e) => done(e.message || 'request error'));
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error('timeout')));
    req.end(payload);
  });
}

/** A complete JSON-RPC reply, parsed. */
export async function rpc(url: string, method: string, params: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ method, params, id: 1 }) });
  return { status: res.status, body: JSON.parse(await res.text()) };
}

export interface ImportResult {
  /** Highest height imported. */
  through: number;
  failedAt: number | null;
  error: unknown;
}

/**
 * Sync heights 1..head from `url` through ChainVerifier, as a light client would. The head comes
 * from the endpoint's getheadblock unless `head` is given (for endpoints whose head reply is faulted).
 */
export async function importChain(url: string, fx: Fixture, opts: { head?: number } = {}): Promise<ImportResult> {
  const verifier = new ChainVerifier({ spec: fx.spec, authorities: fx.authorities, backend: nobleBackend }, fx.genesis);
  const headNumber =
    opts.head ?? Number((await rpc(url, 'getheadblock', [])).body.result.message.execution_payload.block_number);
  for (let h = 1; h <= headNumber; h++) {
    try {
      const r = await rpc(url, 'getblockbyheight', h);
      if (r.body.result === null) throw new Error(`block ${h} is missing below the head ${headNumber}`);
      verifier.import(decodeSignedBlockJson(r.body.result));
    } catch (error) {
      return { through: h - 1, failedAt: h, error };
    }
  }
  return { through: headNumber, failedAt: null, error: null };
}

// ---------------------------------------------------------------- the defects oracle

const MAGIC = [0xfa, 0xbe, 0x6d, 0x6d];
const sha256d = (b: Uint8Array) => sha256(sha256(b));
const hexToBytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));
const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

function fold(leaf: Uint8Array, branch: readonly Uint8Array[], mask: number): Uint8Array {
  let h = leaf;
  branch.forEach((b, n) => {
    h = (mask >>> n) & 1 ? sha256d(cat(b, h)) : sha256d(cat(h, b));
  });
  return h;
}

function lcgIndex(nonce: number, chainId: number, height: number): number {
  const m = 2n ** BigInt(height);
  let r = (BigInt(nonce) * 1103515245n + 12345n) % m;
  r = ((r + BigInt(chainId)) * 1103515245n + 12345n) % m;
  return Number(r);
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 2 ** 24;
}

/**
 * Every rule a light client checks for block `h` (spec 4.9 steps 2-7), evaluated one by one against
 * the honest devnet chain as context; returns the names of the rules that fail.
 */
export function defects(fx: Fixture, h: number, block: SignedConsensusBlock): string[] {
  const out: string[] = [];
  const { chain } = fx.devnet;
  const m = block.message;
  const p = m.executionPayload;
  const parent = chain.at(h - 1)!;
  if (m.parentHash !== parent.hash) out.push('block.parent-hash');
  if (p.parentHash !== parent.signed.message.executionPayload.blockHash) out.push('block.payload-parent');
  if (p.blockNumber !== BigInt(h)) out.push('block.number');
  try {
    checkSlot(m, fx.spec);
  } catch {
    out.push('block.slot-in-future');
  }
  const n = fx.spec.authorities.length;
  const bits = hexToBytes(block.signature.aggregationBits);
  const mask = bits[0]! | ((bits[1]! & 0x7f) << 8);
  if (mask >> n !== 0) out.push('approvals.bits-beyond-authorities');
  const signers = [...Array(n).keys()].filter((i) => mask & (1 << i));
  if (signers.length < Math.ceil((2 * n) / 3)) out.push('approvals.threshold');
  const root = signingRoot(m);
  const { backend, authorities } = fx.fast;
  if (
    signers.length === 0 ||
    !backend.fastAggregateVerifyPrepared(
      signers.map((i) => authorities.keys[i]!),
      root,
      hexToBytes(block.signature.aggregateSignature),
    )
  )
    out.push('approvals.signature');
  if (computePayloadBlockHash(p) !== p.blockHash) out.push('payload.block-hash');

  const header = m.auxpowHeader;
  if (!header) {
    if (m.finalizedPegouts.length) out.push('finality.unexpected-finalized-pegouts');
    return out;
  }
  let last = chain.at(h - 1)!;
  while (!last.signed.message.auxpowHeader) last = chain.at(last.number - 1)!;
  const lastFinalized = last.number === 0 ? last : chain.get(last.signed.message.auxpowHeader!.rangeEnd)!;
  const start = chain.get(header.rangeStart);
  const end = chain.get(header.rangeEnd);
  if (!start || !end || start.number > end.number || end.number >= h) return [...out, 'pow.range'];
  if (start.signed.message.parentHash !== lastFinalized.hash) out.push('pow.range-continuity');
  const range = chain.range(start.number, end.number);
  if (range.filter((b) => b.signed.message.pegoutPaymentProposal).length !== m.finalizedPegouts.length)
    out.push('pow.finalized-pegouts-count');
  const aggregate = sha256d(cat(...range.map((b) => hexToBytes(b.hash))));
  const aux = header.auxpow!;
  const bitsRequired = nextWorkRequired(
    { blockNumber: last.number, bits: last.signed.message.auxpowHeader!.bits },
    h - 1,
    fx.spec.retargetParams,
  );
  const exp = bitsRequired >>> 24;
  const target = BigInt(bitsRequired & 0x7fffff) << BigInt(8 * (exp - 3));
  const parentHash = sha256d(encodeHeader(aux.parentBlock));
  if (BigInt(`0x${Buffer.from(parentHash).reverse().toString('hex')}`) > target) out.push('pow.parent-pow');
  if (header.chainId !== fx.spec.chainId) out.push('auxpow.chain-id');
  if (aux.parentBlock.version >>> 16 === header.chainId) out.push('auxpow.parent-chain-id');
  const branch = aux.blockchainBranch;
  if (branch.branchHash.length > 30) out.push('auxpow.chain-branch-too-long');
  const chainRoot = fold(aggregate, branch.branchHash, branch.branchSideMask);
  if (
    !eq(
      fold(txid(aux.coinbaseTxn), aux.coinbaseBranch.branchHash, aux.coinbaseBranch.branchSideMask),
      aux.parentBlock.merkleRoot,
    )
  )
    out.push('auxpow.coinbase-merkle-root');
  const shaped = [2, 3]
    .map((i) => aux.coinbaseTxn.outputs[i]?.scriptPubkey)
    .filter((s): s is Uint8Array => s !== undefined && s.length === 44 && MAGIC.every((b, i) => s[i] === b));
  const committed = shaped.find((s) => eq(s.subarray(4, 36), chainRoot));
  if (!committed) out.push('auxpow.commitment');
  const sizeNonce = committed ?? shaped[0];
  if (sizeNonce) {
    if (u32le(sizeNonce, 36) !== 2 ** branch.branchHash.length) out.push('auxpow.merkle-size');
    if (
      branch.branchHash.length <= 32 &&
      branch.branchSideMask !== lcgIndex(u32le(sizeNonce, 40), header.chainId, branch.branchHash.length)
    )
      out.push('auxpow.chain-index');
  }
  return out;
}

export const rootOf = (b: SignedConsensusBlock) => toHex(signingRoot(b.message));
