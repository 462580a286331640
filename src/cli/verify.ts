/**
 * `alys-light verify <kind> <file> [--chain dev|testnet|testnet-full|chain-dev|<spec.json>]`
 *
 * Reads one JSON input (a file, or `-` for stdin), verifies it, and prints one JSON line
 * `{"kind","valid","reason",...details}`. Exit code 0 valid, 1 invalid (a rule failed: `check`
 * names it), 2 unusable input (unreadable, not JSON, wrong shape: `path` names where).
 * Input forms per kind are listed in {@link KINDS} and in `alys-light verify --help`.
 */
import { readFileSync } from 'node:fs';
import {
  checkAuxPow,
  checkAuxPowProofOfWork,
  checkProofOfWork,
  equalBytes,
  targetFromCompact,
  blockHash,
  BITCOIN_MAINNET,
  BITCOIN_REGTEST,
  BITCOIN_TESTNET3,
  BITCOIN_TESTNET4,
  createBlsBackend,
  createFederationFromSpec,
  decodeAuxPow,
  decodeGetProofResponse,
  decodeHeader,
  decodeSignedBlockJson,
  decodeTransaction,
  DecodeError,
  federationAddress,
  fromDisplayHex,
  genesisBlock,
  getChainSpec,
  headerHash,
  parseChainSpecJson,
  parseHex,
  parsePegInRaw,
  prepareAuthorities,
  requiredApprovals,
  tipFromCheckpoint,
  toDisplayHex,
  toHex,
  txid,
  verifyBlockSelf,
  verifyGetProofResponse,
  verifyHeaderChain,
  verifyMerkleBranch,
  verifyRpcBlock,
  verifyTxOutProof,
  VerificationError,
  EMPTY_AGGREGATE_APPROVAL,
  type AuxPowVariant,
  type BitcoinNetwork,
  type BitcoinNetworkParams,
  type BlsBackend,
  type ChainSpec,
  type ChainSpecName,
} from '../protocol/index.js';

export interface VerifyResult {
  line: Record<string, unknown>;
  exitCode: 0 | 1 | 2;
}

interface Ctx {
  spec: ChainSpec;
  chainGiven: boolean;
  bls: () => Promise<BlsBackend>;
}

type Details = Record<string, unknown>;
type Handler = (input: unknown, ctx: Ctx) => Promise<Details>;

// ---------------------------------------------------------------- input helpers

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(path, 'expected a JSON object');
  return v as Record<string, unknown>;
}

/** Accept a bare value or a JSON-RPC response `{ result: ... }`. */
function unwrapRpc(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'result' in v && ('id' in v || 'jsonrpc' in v)) {
    const r = v as { result: unknown; error?: unknown };
    if (r.error) throw new DecodeError('$.error', `the input is a JSON-RPC error response: ${JSON.stringify(r.error)}`);
    return r.result;
  }
  return v;
}

/** A string out of `names` (never used as a key unchecked: a nested array or `__proto__` is not a name). */
function oneOf<const T extends string>(v: unknown, names: readonly T[], path: string): T {
  if (typeof v !== 'string' || !(names as readonly string[]).includes(v))
    throw new DecodeError(path, `expected one of ${names.join(', ')}`);
  return v as T;
}

const PEGIN_NETWORKS: readonly BitcoinNetwork[] = ['regtest', 'testnet', 'signet', 'mainnet'];

function u32(v: unknown, path: string): number {
  if (typeof v === 'string' && /^(0x)?[0-9a-fA-F]{1,8}$/.test(v)) return Number.parseInt(v.replace(/^0x/, ''), 16);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new DecodeError(path, 'expected a u32 (number, or hex string for bits)');
  return v;
}

function int(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new DecodeError(path, 'expected a non-negative integer');
  return v;
}

const NETWORKS: Record<string, BitcoinNetworkParams> = {
  mainnet: BITCOIN_MAINNET,
  testnet: BITCOIN_TESTNET3,
  testnet4: BITCOIN_TESTNET4,
  regtest: BITCOIN_REGTEST,
};

// ---------------------------------------------------------------- kinds

const verifyBlock: Handler = async (input, ctx) => {
  const block = decodeSignedBlockJson(unwrapRpc(input));
  const m = block.message;
  if (m.executionPayload.blockNumber === 0n) {
    // Genesis is never signed: every node derives it from the chain spec and EL block 0 (spec 2.5).
    const expected = genesisBlock(ctx.spec, m.executionPayload);
    const hash = blockHash(m);
    if (hash !== blockHash(expected.message))
      throw new VerificationError(
        'block.genesis',
        `block 0 is not the genesis this chain spec derives (chain id ${ctx.spec.chainId}, bits ${ctx.spec.bits})`,
      );
    if (
      block.signature.aggregationBits !== EMPTY_AGGREGATE_APPROVAL.aggregationBits ||
      block.signature.aggregateSignature !== EMPTY_AGGREGATE_APPROVAL.aggregateSignature
    )
      throw new VerificationError('block.genesis', 'genesis must carry the empty aggregate approval');
    return {
      hash,
      number: '0',
      genesis: true,
      note: 'genesis matches the chain spec; its EL hash comes from the EL genesis (pre-merge shaped)',
    };
  }
  const backend = await ctx.bls();
  const authorities = prepareAuthorities(ctx.spec.authorities, backend, '$.spec.authorities');
  const v = verifyBlockSelf(block, { spec: ctx.spec, authorities, backend });
  return {
    hash: v.hash,
    number: String(v.number),
    slot: m.slot,
    signers: v.signers,
    required: requiredApprovals(ctx.spec.authorities.length),
    authorities: ctx.spec.authorities.length,
    payloadHash: m.executionPayload.blockHash,
    auxpow: m.auxpowHeader
      ? 'present; not checked here (it needs the blocks of its range: the node checks it while syncing)'
      : 'none',
    bls: backend.name,
  };
};

const verifyAuxpow: Handler = async (raw, ctx) => {
  let auxHex: unknown,
    auxHashHex: unknown,
    chainId: number,
    bits: number | undefined,
    variant: AuxPowVariant = 'coinbase-output';
  if (Array.isArray(raw)) {
    // submitauxblock params: [aux hash (raw order), auxpow hex]
    [auxHashHex, auxHex] = raw;
    chainId = ctx.spec.chainId;
  } else {
    const o = obj(raw, '$');
    auxHex = o.auxpow;
    auxHashHex = o.auxHash ?? o.hash;
    chainId = o.chainId === undefined ? ctx.spec.chainId : u32(o.chainId, '$.chainId');
    if (o.bits !== undefined) bits = u32(o.bits, '$.bits');
    if (o.variant !== undefined) {
      if (o.variant !== 'coinbase-output' && o.variant !== 'script-sig')
        throw new DecodeError('$.variant', "expected 'coinbase-output' or 'script-sig'");
      variant = o.variant;
    }
  }
  const auxpow = decodeAuxPow(parseHex(auxHex, '$.auxpow', { prefix: 'optional' }));
  const auxHash = parseHex(auxHashHex, '$.auxHash', { prefix: 'optional', length: 32 });
  const result = checkAuxPow(
    auxpow,
    auxHash,
    chainId,
    ctx.chainGiven ? { variant, expectedChainId: ctx.spec.chainId } : { variant },
  );
  const details: Details = {
    chainId,
    variant,
    parentBlockHash: toDisplayHex(headerHash(auxpow.parentBlock)),
    chainMerkleRoot: toHex(result.chainMerkleRoot),
    merkleSize: result.merkleSize,
    merkleNonce: result.merkleNonce,
    ...(result.commitmentOutput !== undefined ? { commitmentOutput: result.commitmentOutput } : {}),
  };
  if (bits === undefined) return { ...details, pow: 'not checked (give "bits")' };
  if (!checkAuxPowProofOfWork(auxpow, bits))
    throw new VerificationError(
      'auxpow.pow',
      `the parent block hash ${details.parentBlockHash} does not meet target bits 0x${bits.toString(16)}`,
    );
  return { ...details, pow: true, bits };
};

const verifyEthBlock: Handler = async (raw) => {
  const o = unwrapRpc(raw);
  const rawTransactions =
    typeof o === 'object' && o !== null && 'rawTransactions' in o
      ? (o as { rawTransactions: unknown }).rawTransactions
      : undefined;
  if (rawTransactions !== undefined && !Array.isArray(rawTransactions))
    throw new DecodeError('$.rawTransactions', 'expected an array of hex strings');
  const block = rawTransactions ? { ...(o as object) } : o;
  if (rawTransactions) delete (block as { rawTransactions?: unknown }).rawTransactions;
  const v = verifyRpcBlock(block, rawTransactions ? { rawTransactions: rawTransactions as `0x${string}`[] } : {});
  return {
    hash: v.hash,
    number: String(v.header.number),
    transactions: v.transactionHashes.length,
    checked: v.checked,
  };
};

const verifyEthProof: Handler = async (raw) => {
  const o = obj(raw, '$');
  let stateRoot: `0x${string}`;
  let blockInfo: Details = {};
  if (o.block !== undefined) {
    const b = verifyRpcBlock(unwrapRpc(o.block), {}, '$.block');
    stateRoot = toHex(b.header.stateRoot);
    blockInfo = { block: b.hash, blockNumber: String(b.header.number) };
  } else stateRoot = toHex(parseHex(o.stateRoot, '$.stateRoot', { prefix: 'required', length: 32 }));
  const response = decodeGetProofResponse(unwrapRpc(o.proof), '$.proof');
  const v = verifyGetProofResponse(stateRoot, response);
  return {
    ...blockInfo,
    stateRoot,
    address: toHex(response.address),
    exists: v.account.exists,
    nonce: String(v.account.nonce),
    balance: String(v.account.balance),
    storage: v.storage.map((s) => ({ key: toHex(s.key), value: String(s.value) })),
  };
};

const verifyBtcHeaders: Handler = async (raw) => {
  const o = Array.isArray(raw) ? { headers: raw } : obj(raw, '$');
  if (!Array.isArray(o.headers) || o.headers.length === 0)
    throw new DecodeError('$.headers', 'expected a non-empty array of 80-byte header hex strings');
  const headers = o.headers.map((h, i) =>
    decodeHeader(parseHex(h, `$.headers[${i}]`, { prefix: 'optional', length: 80 }), `$.headers[${i}]`),
  );
  const network = oneOf(o.network ?? 'mainnet', Object.keys(NETWORKS), '$.network');
  const params = NETWORKS[network]!;
  if (o.height === undefined) {
    // No height, so no retarget schedule: check linkage and each header's PoW against its own bits.
    headers.forEach((h, i) => {
      if (i > 0 && !equalBytes(h.prevBlockhash, headerHash(headers[i - 1]!)))
        throw new VerificationError('bitcoin.header.link', `header ${i} does not extend header ${i - 1}`);
      if (!checkProofOfWork(h, targetFromCompact(h.bits)))
        throw new VerificationError(
          'bitcoin.header.pow',
          `header ${i} (${toDisplayHex(headerHash(h))}) does not meet its own bits 0x${h.bits.toString(16)}`,
        );
    });
    return {
      network,
      headers: headers.length,
      tip: toDisplayHex(headerHash(headers.at(-1)!)),
      retargets: 'not checked: give {"height": <height of the first header>, "headers": [...]} to check them',
    };
  }
  const height = int(o.height, '$.height');
  const periodStart =
    o.periodStart === undefined
      ? undefined
      : (() => {
          const p = obj(o.periodStart, '$.periodStart');
          return { time: int(p.time, '$.periodStart.time'), bits: u32(p.bits, '$.periodStart.bits') };
        })();
  const tip = tipFromCheckpoint({ height, header: headers[0]!, ...(periodStart ? { periodStart } : {}) }, params);
  const last = verifyHeaderChain(tip, headers.slice(1), params);
  return {
    network,
    from: height,
    to: last.height,
    headers: headers.length,
    tip: toDisplayHex(last.hash),
    checkpoint: 'the first header is trusted as the starting point',
  };
};

const verifyBtcMerkle: Handler = async (raw) => {
  const o = obj(raw, '$');
  if (o.txoutproof !== undefined) {
    const proof = verifyTxOutProof(parseHex(o.txoutproof, '$.txoutproof', { prefix: 'optional' }));
    if (o.header !== undefined) {
      const header = decodeHeader(parseHex(o.header, '$.header', { prefix: 'optional', length: 80 }), '$.header');
      if (toHex(headerHash(header)) !== toHex(proof.blockHash))
        throw new VerificationError('merkle.header', 'the proof is for a different block than the given header');
    }
    return {
      block: toDisplayHex(proof.blockHash),
      totalTransactions: proof.totalTransactions,
      matches: proof.matches.map((m) => ({ txid: toDisplayHex(m.txid), index: m.index })),
    };
  }
  const id =
    o.tx !== undefined
      ? txid(decodeTransaction(parseHex(o.tx, '$.tx', { prefix: 'optional' }), '$.tx'))
      : fromDisplayHex(o.txid as string, '$.txid');
  if (!Array.isArray(o.branch))
    throw new DecodeError('$.branch', 'expected an array of hashes (display order, as Electrum returns them)');
  const branch = o.branch.map((h, i) => fromDisplayHex(h as string, `$.branch[${i}]`));
  const index = int(o.index ?? o.pos, '$.index');
  let root: Uint8Array;
  let block: string | undefined;
  if (o.header !== undefined) {
    const header = decodeHeader(parseHex(o.header, '$.header', { prefix: 'optional', length: 80 }), '$.header');
    root = header.merkleRoot;
    block = toDisplayHex(headerHash(header));
  } else root = fromDisplayHex(o.merkleRoot as string, '$.merkleRoot');
  verifyMerkleBranch(
    id,
    branch,
    index,
    root,
    o.totalTransactions === undefined ? {} : { totalTransactions: int(o.totalTransactions, '$.totalTransactions') },
  );
  return { txid: toDisplayHex(id), index, ...(block ? { block } : {}), merkleRoot: toDisplayHex(root) };
};

const verifyBls: Handler = async (raw, ctx) => {
  const o = obj(raw, '$');
  const keys = o.pubkeys ?? (o.pubkey === undefined ? undefined : [o.pubkey]);
  if (!Array.isArray(keys) || keys.length === 0)
    throw new DecodeError('$.pubkeys', 'expected a non-empty array of 48-byte public keys');
  const pks = keys.map((k, i) => parseHex(k, `$.pubkeys[${i}]`, { prefix: 'optional', length: 48 }));
  const message = parseHex(o.message, '$.message', { prefix: 'optional' });
  const signature = parseHex(o.signature, '$.signature', { prefix: 'optional', length: 96 });
  const backend = await ctx.bls();
  const ok =
    pks.length === 1
      ? backend.verify(pks[0]!, message, signature)
      : backend.fastAggregateVerify(pks, message, signature);
  if (!ok)
    throw new VerificationError(
      'bls.signature',
      `the signature does not verify for ${pks.length} public key(s) (POP ciphersuite, min-pk)`,
    );
  return { pubkeys: pks.length, scheme: pks.length === 1 ? 'verify' : 'fast_aggregate_verify', bls: backend.name };
};

const verifyPegin: Handler = async (raw, ctx) => {
  const o = typeof raw === 'string' ? { tx: raw } : obj(raw, '$');
  const network = oneOf(o.network ?? 'regtest', PEGIN_NETWORKS, '$.network');
  const federation = createFederationFromSpec(ctx.spec);
  const info = parsePegInRaw(parseHex(o.tx, '$.tx', { prefix: 'optional' }), federation);
  const depositAddress = federationAddress(federation, network);
  if (!info)
    throw new VerificationError(
      'pegin.not-a-pegin',
      `the transaction pays no output to the federation (${depositAddress}) with an OP_RETURN EVM address`,
    );
  return {
    txid: toDisplayHex(info.txid),
    amountSats: String(info.amountSats),
    amountWei: String(info.amountSats * 10_000_000_000n),
    evmAddress: info.evmAddress,
    depositAddress,
  };
};

export const KINDS: Record<string, { handler: Handler; input: string }> = {
  block: {
    handler: verifyBlock,
    input: 'signed consensus block JSON (getblockbyheight result, or the whole JSON-RPC response)',
  },
  auxpow: {
    handler: verifyAuxpow,
    input:
      '{"auxpow": hex, "auxHash": hex (raw order), "chainId"?, "bits"?, "variant"?: "coinbase-output"|"script-sig"} or submitauxblock params [hash, hex]',
  },
  'eth-block': {
    handler: verifyEthBlock,
    input: 'eth_getBlockByNumber result (full txs or hashes; optional "rawTransactions")',
  },
  'eth-proof': {
    handler: verifyEthProof,
    input: '{"stateRoot": hex | "block": eth block JSON, "proof": eth_getProof result}',
  },
  'btc-headers': {
    handler: verifyBtcHeaders,
    input:
      '{"network"?: "mainnet"|"testnet"|"testnet4"|"regtest", "height": n, "headers": [hex...], "periodStart"?: {time, bits}} or a bare array (no retarget check)',
  },
  'btc-merkle': {
    handler: verifyBtcMerkle,
    input:
      '{"txoutproof": hex, "header"?} or {"tx": hex | "txid", "branch": [hex...], "index", "header": hex | "merkleRoot", "totalTransactions"?}',
  },
  bls: { handler: verifyBls, input: '{"pubkeys": [hex...] | "pubkey", "message": hex, "signature": hex}' },
  pegin: {
    handler: verifyPegin,
    input: '{"tx": raw tx hex, "network"?: "regtest"|"testnet"|"mainnet"} or a bare hex string',
  },
};

function resolveChain(chain: string | undefined): ChainSpec {
  if (chain === undefined) return getChainSpec('dev');
  if (['dev', 'testnet', 'testnet-full', 'chain-dev'].includes(chain)) return getChainSpec(chain as ChainSpecName);
  let text: string;
  try {
    text = readFileSync(chain, 'utf8');
  } catch (e) {
    throw new DecodeError(
      '--chain',
      `not a known chain (dev, testnet, testnet-full, chain-dev) and not a readable file: ${(e as Error).message}`,
    );
  }
  return parseChainSpecJson(text);
}

function readInput(file: string, stdin: () => string): unknown {
  let text: string;
  try {
    text = file === '-' ? stdin() : readFileSync(file, 'utf8');
  } catch (e) {
    throw new DecodeError('<file>', `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DecodeError('<file>', `${file} is not JSON: ${(e as Error).message}`);
  }
}

/** Run one verification; never throws. */
export async function runVerify(
  kind: string,
  file: string,
  opts: { chain?: string; bls?: string; stdin?: () => string } = {},
): Promise<VerifyResult> {
  const entry = KINDS[kind];
  if (!entry)
    return {
      exitCode: 2,
      line: {
        kind,
        valid: false,
        reason: `unknown kind ${JSON.stringify(kind)}; expected one of ${Object.keys(KINDS).join(', ')}`,
      },
    };
  try {
    const spec = resolveChain(opts.chain);
    const input = readInput(file, opts.stdin ?? (() => readFileSync(0, 'utf8')));
    let backend: Promise<BlsBackend> | undefined;
    const ctx: Ctx = {
      spec,
      chainGiven: opts.chain !== undefined,
      bls: () => (backend ??= createBlsBackend((opts.bls ?? 'auto') as 'auto')),
    };
    const details = await entry.handler(input, ctx);
    return { exitCode: 0, line: { kind, valid: true, reason: null, ...details } };
  } catch (e) {
    if (e instanceof VerificationError)
      return { exitCode: 1, line: { kind, valid: false, reason: e.shortMessage, check: e.check } };
    const err = e as Error & { path?: string; code?: string };
    return {
      exitCode: 2,
      line: {
        kind,
        valid: false,
        reason: `unusable input: ${err.message.split('\n')[0]}`,
        ...(err.path ? { path: err.path } : {}),
        ...(err.code ? { code: err.code } : {}),
      },
    };
  }
}
