/**
 * Verification of one JSON input by kind (block, auxpow, eth-block, eth-proof, btc-headers,
 * btc-merkle, bls, pegin): the pure core shared by `alys-light verify` (src/cli/verify.ts) and the
 * edge Worker's `POST /verify/<kind>` (workers/edge/). No I/O: the caller parses the JSON, picks the
 * chain spec and hands in a BLS backend.
 *
 * The answer is one JSON object `{"kind","valid","reason",...details}`: valid; invalid (a rule
 * failed, `check` names it); unusable (the input has the wrong shape, `path` names where).
 */
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
  headerHash,
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
  type PreparedAuthorities,
} from './index.js';

/** What a verification answers: the JSON line, and whether the input was valid, broke a rule, or was unusable. */
export interface VerifyOutcome {
  outcome: 'valid' | 'invalid' | 'unusable';
  line: Record<string, unknown>;
}

/** What a verification needs besides its input: the chain spec and a BLS backend (made on first use). */
export interface VerifyContext {
  spec: ChainSpec;
  /** The spec was chosen by the caller (not the DEV default): AuxPoW must then use the spec's chain id. */
  chainGiven: boolean;
  bls: () => Promise<BlsBackend>;
  /**
   * The spec's authority keys prepared with the backend `bls` gives (`prepareAuthorities(spec.authorities,
   * backend)`), when the caller keeps them between inputs (the edge Worker: once per isolate); absent,
   * they are prepared for each input.
   */
  authorities?: () => Promise<PreparedAuthorities>;
}

type Details = Record<string, unknown>;
export type VerifyHandler = (input: unknown, ctx: VerifyContext) => Promise<Details>;

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

const verifyBlock: VerifyHandler = async (input, ctx) => {
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
  const authorities = ctx.authorities
    ? await ctx.authorities()
    : prepareAuthorities(ctx.spec.authorities, backend, '$.spec.authorities');
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

const verifyAuxpow: VerifyHandler = async (raw, ctx) => {
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

const verifyEthBlock: VerifyHandler = async (raw) => {
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

const verifyEthProof: VerifyHandler = async (raw) => {
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

const verifyBtcHeaders: VerifyHandler = async (raw) => {
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

const verifyBtcMerkle: VerifyHandler = async (raw) => {
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

const verifyBls: VerifyHandler = async (raw, ctx) => {
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

const verifyPegin: VerifyHandler = async (raw, ctx) => {
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

/** Every kind with its handler and a one-line description of its input (shown by `alys-light verify --help`). */
export const VERIFY_KINDS: Record<string, { handler: VerifyHandler; input: string }> = {
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

/** The chain specs shipped with the library, by the names `--chain` and the Worker's `ALYS_CHAIN` accept. */
export const SHIPPED_CHAINS: readonly ChainSpecName[] = ['dev', 'testnet', 'testnet-full', 'chain-dev'];

export function isShippedChain(name: string): name is ChainSpecName {
  return (SHIPPED_CHAINS as readonly string[]).includes(name);
}

/** The line for an input that cannot be used (not JSON, wrong shape, unreadable): `path` and `code` when known. */
export function unusableLine(kind: string, e: unknown): Record<string, unknown> {
  const err = e as Error & { path?: string; code?: string };
  return {
    kind,
    valid: false,
    reason: `unusable input: ${String(err?.message ?? err).split('\n')[0]}`,
    ...(err?.path ? { path: err.path } : {}),
    ...(err?.code ? { code: err.code } : {}),
  };
}

/** A kind of {@link VERIFY_KINDS} (own keys only: `__proto__` or `toString` is no kind). */
export function isVerifyKind(kind: string): boolean {
  return Object.hasOwn(VERIFY_KINDS, kind);
}

/** The line for a kind that does not exist. */
export function unknownKindLine(kind: string): Record<string, unknown> {
  return {
    kind,
    valid: false,
    reason: `unknown kind ${JSON.stringify(kind)}; expected one of ${Object.keys(VERIFY_KINDS).join(', ')}`,
  };
}

/** Verify one parsed JSON input of `kind`; never throws. */
export async function verifyJson(kind: string, input: unknown, ctx: VerifyContext): Promise<VerifyOutcome> {
  const entry = isVerifyKind(kind) ? VERIFY_KINDS[kind] : undefined;
  if (!entry) return { outcome: 'unusable', line: unknownKindLine(kind) };
  try {
    const details = await entry.handler(input, ctx);
    return { outcome: 'valid', line: { kind, valid: true, reason: null, ...details } };
  } catch (e) {
    if (e instanceof VerificationError)
      return { outcome: 'invalid', line: { kind, valid: false, reason: e.shortMessage, check: e.check } };
    return { outcome: 'unusable', line: unusableLine(kind, e) };
  }
}
