/**
 * Test support for the codec suites: fast-check arbitraries of the data model, and an independent
 * "oracle" that maps a model value to the JS tree rmp-serde would produce (per the spec table in
 * alys-protocol.md 1.1 / 2.1) so that @msgpack/msgpack can encode it. The oracle is written from the spec,
 * not from src/, so comparing its bytes with ours is a real cross-check.
 */
import fc from 'fast-check';
import { encode as referenceEncode } from '@msgpack/msgpack';
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js';
import type {
  AggregateApproval,
  ApproveBlock,
  AuxPow,
  AuxPowHeader,
  BitcoinHeader,
  ConsensusBlock,
  ExecutionPayloadCapella,
  Hex,
  IndividualApproval,
  MerkleBranch,
  SignedConsensusBlock,
  Transaction,
  TxIn,
  TxOut,
  Withdrawal,
} from '../../../src/protocol/types.js';
import type { PegoutSignatureEntry, PubsubMessage } from '../../../src/protocol/codec/msgpack.js';

export const hex = (b: Uint8Array): Hex => `0x${bytesToHex(b)}`;
export const zeros = (n: number): Hex => `0x${'00'.repeat(n)}`;

// ------------------------------------------------------------------------------------------ arbitraries

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const fixed = (n: number) => bytes(n, n);
const hexN = (n: number) => fixed(n).map(hex);
export const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
export const i32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
export const u64Safe = fc.maxSafeNat();
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
export const u256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });

export interface ArbOptions {
  /** keep TxOut values ≤ 2^53-1 (needed by the JSON form and the @msgpack/msgpack oracle) */
  safeValues?: boolean;
}

export const txIn = fc.record<TxIn>({
  prevTxid: fixed(32),
  prevVout: u32,
  scriptSig: bytes(0, 120),
  sequence: u32,
  witness: fc.array(bytes(0, 140), { maxLength: 4 }),
});

export const txOut = (o: ArbOptions = {}) =>
  fc.record<TxOut>({ value: o.safeValues ? u64Safe.map(BigInt) : u64, scriptPubkey: bytes(0, 80) });

export const transaction = (o: ArbOptions = {}) =>
  fc.record<Transaction>({
    version: i32,
    lockTime: u32,
    inputs: fc.array(txIn, { maxLength: 3 }),
    outputs: fc.array(txOut(o), { maxLength: 4 }),
  });

export const bitcoinHeader = fc.record<BitcoinHeader>({
  version: i32,
  prevBlockhash: fixed(32),
  merkleRoot: fixed(32),
  time: u32,
  bits: u32,
  nonce: u32,
});

export const merkleBranch = fc.record<MerkleBranch>({
  branchHash: fc.array(fixed(32), { maxLength: 18 }),
  branchSideMask: u32,
});

export const auxPow = (o: ArbOptions = {}) =>
  fc.record<AuxPow>({
    coinbaseTxn: transaction(o),
    blockHash: fixed(32),
    coinbaseBranch: merkleBranch,
    blockchainBranch: merkleBranch,
    parentBlock: bitcoinHeader,
  });

export const auxPowHeader = (o: ArbOptions = {}) =>
  fc.record<AuxPowHeader>({
    rangeStart: hexN(32),
    rangeEnd: hexN(32),
    bits: u32,
    chainId: u32,
    height: u64Safe,
    auxpow: fc.option(auxPow(o), { nil: null }),
    feeRecipient: hexN(20),
  });

export const withdrawal = fc.record<Withdrawal>({ index: u64, validatorIndex: u64, address: hexN(20), amount: u64 });

export const executionPayload = fc.record<ExecutionPayloadCapella>({
  parentHash: hexN(32),
  feeRecipient: hexN(20),
  stateRoot: hexN(32),
  receiptsRoot: hexN(32),
  logsBloom: hexN(256),
  prevRandao: hexN(32),
  blockNumber: u64,
  gasLimit: u64,
  gasUsed: u64,
  timestamp: u64,
  extraData: bytes(0, 32).map(hex),
  baseFeePerGas: u256,
  blockHash: hexN(32),
  transactions: fc.array(bytes(0, 300).map(hex), { maxLength: 5 }),
  withdrawals: fc.array(withdrawal, { maxLength: 16 }),
});

export const consensusBlock = (o: ArbOptions = {}) =>
  fc.record<ConsensusBlock>({
    parentHash: hexN(32),
    slot: u64Safe,
    auxpowHeader: fc.option(auxPowHeader(o), { nil: null }),
    executionPayload,
    pegins: fc.array(fc.tuple(fixed(32), fixed(32)), { maxLength: 3 }),
    pegoutPaymentProposal: fc.option(transaction(o), { nil: null }),
    finalizedPegouts: fc.array(transaction(o), { maxLength: 2 }),
  });

/** A valid BitList<15>: any low byte, high byte with the delimiter bit 0x80 set. */
export const aggregationBits = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 127 }))
  .map(([lo, hi]) => hex(new Uint8Array([lo, 0x80 | hi])));

export const aggregateApproval = fc.record<AggregateApproval>({ aggregationBits, aggregateSignature: hexN(96) });

export const signedBlock = (o: ArbOptions = {}) =>
  fc.record<SignedConsensusBlock>({ message: consensusBlock(o), signature: aggregateApproval });

export const individualApproval = fc.record<IndividualApproval>({
  signature: hexN(96),
  authorityIndex: fc.integer({ min: 0, max: 255 }),
});
export const approveBlock = fc.record<ApproveBlock>({ blockHash: hexN(32), signature: individualApproval });

export const pegoutEntries = fc.uniqueArray(
  fc.record<PegoutSignatureEntry>({
    txid: fixed(32),
    pubkey: fc.tuple(fc.constantFrom(2, 3), fixed(32)).map(([p, x]) => concatBytes(new Uint8Array([p]), x)),
    signatures: fc.array(fixed(64), { maxLength: 3 }),
  }),
  { maxLength: 4, selector: (e) => bytesToHex(e.txid) },
);

export const pubsubMessage = (o: ArbOptions = {}): fc.Arbitrary<PubsubMessage> =>
  fc.oneof(
    signedBlock(o).map((block): PubsubMessage => ({ type: 'ConsensusBlock', block })),
    approveBlock.map((approval): PubsubMessage => ({ type: 'ApproveBlock', approval })),
    auxPowHeader(o).map((header): PubsubMessage => ({ type: 'QueuePow', header })),
    pegoutEntries.map((entries): PubsubMessage => ({ type: 'PegoutSignatures', entries })),
  );

// ------------------------------------------------------------------------------------------ fixed values

/** `ConsensusBlock::default()` (alys-protocol.md 2.4). */
export function defaultPayload(): ExecutionPayloadCapella {
  return {
    parentHash: zeros(32),
    feeRecipient: zeros(20),
    stateRoot: zeros(32),
    receiptsRoot: zeros(32),
    logsBloom: zeros(256),
    prevRandao: zeros(32),
    blockNumber: 0n,
    gasLimit: 0n,
    gasUsed: 0n,
    timestamp: 0n,
    extraData: '0x',
    baseFeePerGas: 0n,
    blockHash: zeros(32),
    transactions: [],
    withdrawals: [],
  };
}

export function defaultBlock(): ConsensusBlock {
  return {
    parentHash: zeros(32),
    slot: 0,
    auxpowHeader: null,
    executionPayload: defaultPayload(),
    pegins: [],
    pegoutPaymentProposal: null,
    finalizedPegouts: [],
  };
}

// ------------------------------------------------------------------------------------------ oracle

/**
 * A node of the oracle tree: the JS value @msgpack/msgpack should encode, annotated with the Rust field
 * path and the kind of leaf, so the mutation tests can replace any single leaf.
 */
export type LeafKind =
  | 'hash256' // "0x"+64 hex str
  | 'address'
  | 'hexfixed' // fixed-length 0x hex (bloom, BLS)
  | 'hexvar' // bounded 0x hex (extra_data, txs)
  | 'bits' // aggregation bits
  | 'quoted' // quoted u64
  | 'quoted256'
  | 'u8'
  | 'u32'
  | 'i32'
  | 'u64' // u64 kept as a JS number (≤ 2^53-1)
  | 'u64full' // u64 as bigint (TxOut.value)
  | 'bin32'
  | 'bin64'
  | 'bin' // any-length bin (scripts)
  | 'u8array' // witness element / pubkey: array of u8 ints
  | 'variant'; // enum variant name

export type ONode =
  | { t: 'leaf'; kind: LeafKind; path: string; value: unknown; len?: number }
  | { t: 'arr'; path: string; items: ONode[]; struct: boolean }
  | { t: 'nil'; path: string }
  | { t: 'map'; path: string; entries: [ONode, ONode][] };

const leaf = (kind: LeafKind, path: string, value: unknown, len?: number): ONode => ({
  t: 'leaf',
  kind,
  path,
  value,
  len,
});
const struct = (path: string, items: ONode[]): ONode => ({ t: 'arr', path, items, struct: true });
const list = (path: string, items: ONode[]): ONode => ({ t: 'arr', path, items, struct: false });

export function oTx(tx: Transaction, p: string): ONode {
  return struct(p, [
    leaf('i32', `${p}.version`, tx.version),
    leaf('u32', `${p}.lock_time`, tx.lockTime),
    list(
      `${p}.input`,
      tx.inputs.map((i, k) => {
        const q = `${p}.input[${k}]`;
        return struct(q, [
          struct(`${q}.previous_output`, [
            leaf('bin32', `${q}.previous_output.txid`, i.prevTxid),
            leaf('u32', `${q}.previous_output.vout`, i.prevVout),
          ]),
          leaf('bin', `${q}.script_sig`, i.scriptSig),
          leaf('u32', `${q}.sequence`, i.sequence),
          list(
            `${q}.witness`,
            i.witness.map((e, j) => leaf('u8array', `${q}.witness[${j}]`, e)),
          ),
        ]);
      }),
    ),
    list(
      `${p}.output`,
      tx.outputs.map((o, k) => {
        const q = `${p}.output[${k}]`;
        return struct(q, [
          leaf('u64full', `${q}.value`, Number(o.value)),
          leaf('bin', `${q}.script_pubkey`, o.scriptPubkey),
        ]);
      }),
    ),
  ]);
}

const oBranch = (b: MerkleBranch, p: string): ONode =>
  struct(p, [
    list(
      `${p}.branch_hash`,
      b.branchHash.map((h, i) => leaf('bin32', `${p}.branch_hash[${i}]`, h)),
    ),
    leaf('u32', `${p}.branch_side_mask`, b.branchSideMask),
  ]);

const oHeader = (h: BitcoinHeader, p: string): ONode =>
  struct(p, [
    leaf('i32', `${p}.version`, h.version),
    leaf('bin32', `${p}.prev_blockhash`, h.prevBlockhash),
    leaf('bin32', `${p}.merkle_root`, h.merkleRoot),
    leaf('u32', `${p}.time`, h.time),
    leaf('u32', `${p}.bits`, h.bits),
    leaf('u32', `${p}.nonce`, h.nonce),
  ]);

export function oAuxPowHeader(h: AuxPowHeader, p: string): ONode {
  return struct(p, [
    leaf('hash256', `${p}.range_start`, h.rangeStart),
    leaf('hash256', `${p}.range_end`, h.rangeEnd),
    leaf('u32', `${p}.bits`, h.bits),
    leaf('u32', `${p}.chain_id`, h.chainId),
    leaf('u64', `${p}.height`, h.height),
    h.auxpow === null
      ? { t: 'nil', path: `${p}.auxpow` }
      : struct(`${p}.auxpow`, [
          oTx(h.auxpow.coinbaseTxn, `${p}.auxpow.coinbase_txn`),
          leaf('bin32', `${p}.auxpow.block_hash`, h.auxpow.blockHash),
          oBranch(h.auxpow.coinbaseBranch, `${p}.auxpow.coinbase_branch`),
          oBranch(h.auxpow.blockchainBranch, `${p}.auxpow.blockchain_branch`),
          oHeader(h.auxpow.parentBlock, `${p}.auxpow.parent_block`),
        ]),
    leaf('address', `${p}.fee_recipient`, h.feeRecipient),
  ]);
}

export function oBlock(b: ConsensusBlock, p: string): ONode {
  const e = b.executionPayload;
  const q = `${p}.execution_payload`;
  return struct(p, [
    leaf('hash256', `${p}.parent_hash`, b.parentHash),
    leaf('u64', `${p}.slot`, b.slot),
    b.auxpowHeader === null
      ? { t: 'nil', path: `${p}.auxpow_header` }
      : oAuxPowHeader(b.auxpowHeader, `${p}.auxpow_header`),
    struct(q, [
      leaf('hash256', `${q}.parent_hash`, e.parentHash),
      leaf('address', `${q}.fee_recipient`, e.feeRecipient),
      leaf('hash256', `${q}.state_root`, e.stateRoot),
      leaf('hash256', `${q}.receipts_root`, e.receiptsRoot),
      leaf('hexfixed', `${q}.logs_bloom`, e.logsBloom, 256),
      leaf('hash256', `${q}.prev_randao`, e.prevRandao),
      leaf('quoted', `${q}.block_number`, e.blockNumber.toString()),
      leaf('quoted', `${q}.gas_limit`, e.gasLimit.toString()),
      leaf('quoted', `${q}.gas_used`, e.gasUsed.toString()),
      leaf('quoted', `${q}.timestamp`, e.timestamp.toString()),
      leaf('hexvar', `${q}.extra_data`, e.extraData, 32),
      leaf('quoted256', `${q}.base_fee_per_gas`, e.baseFeePerGas.toString()),
      leaf('hash256', `${q}.block_hash`, e.blockHash),
      list(
        `${q}.transactions`,
        e.transactions.map((t, i) => leaf('hexvar', `${q}.transactions[${i}]`, t)),
      ),
      list(
        `${q}.withdrawals`,
        e.withdrawals.map((w, i) => {
          const r = `${q}.withdrawals[${i}]`;
          return struct(r, [
            leaf('quoted', `${r}.index`, w.index.toString()),
            leaf('quoted', `${r}.validator_index`, w.validatorIndex.toString()),
            leaf('address', `${r}.address`, w.address),
            leaf('quoted', `${r}.amount`, w.amount.toString()),
          ]);
        }),
      ),
    ]),
    list(
      `${p}.pegins`,
      b.pegins.map(([t, h], i) =>
        list(`${p}.pegins[${i}]`, [leaf('bin32', `${p}.pegins[${i}][0]`, t), leaf('bin32', `${p}.pegins[${i}][1]`, h)]),
      ),
    ),
    b.pegoutPaymentProposal === null
      ? { t: 'nil', path: `${p}.pegout_payment_proposal` }
      : oTx(b.pegoutPaymentProposal, `${p}.pegout_payment_proposal`),
    list(
      `${p}.finalized_pegouts`,
      b.finalizedPegouts.map((t, i) => oTx(t, `${p}.finalized_pegouts[${i}]`)),
    ),
  ]);
}

export function oSigned(b: SignedConsensusBlock, p: string): ONode {
  return struct(p, [
    oBlock(b.message, `${p}.message`),
    struct(`${p}.signature`, [
      leaf('bits', `${p}.signature.aggregation_bits`, b.signature.aggregationBits),
      leaf('hexfixed', `${p}.signature.aggregate_signature`, b.signature.aggregateSignature, 96),
    ]),
  ]);
}

export function oApprove(a: ApproveBlock, p: string): ONode {
  return struct(p, [
    leaf('hash256', `${p}.block_hash`, a.blockHash),
    struct(`${p}.signature`, [
      leaf('hexfixed', `${p}.signature.signature`, a.signature.signature, 96),
      leaf('u8', `${p}.signature.authority_index`, a.signature.authorityIndex),
    ]),
  ]);
}

export function oPubsub(m: PubsubMessage, p: string): ONode {
  const body = (): ONode => {
    switch (m.type) {
      case 'ConsensusBlock':
        return oSigned(m.block, `${p}.ConsensusBlock`);
      case 'ApproveBlock':
        return oApprove(m.approval, `${p}.ApproveBlock`);
      case 'QueuePow':
        return oAuxPowHeader(m.header, `${p}.QueuePow`);
      case 'PegoutSignatures': {
        const q = `${p}.PegoutSignatures`;
        return {
          t: 'map',
          path: q,
          entries: m.entries.map((e, i): [ONode, ONode] => [
            leaf('bin32', `${q}[${i}].txid`, e.txid),
            struct(`${q}[${i}]`, [
              leaf('u8array', `${q}[${i}].pubkey`, e.pubkey, 33),
              list(
                `${q}[${i}].signatures`,
                e.signatures.map((s, k) => leaf('bin64', `${q}[${i}].signatures[${k}]`, s)),
              ),
            ]),
          ]),
        };
      }
    }
  };
  return { t: 'map', path: p, entries: [[leaf('variant', `${p}.<variant>`, m.type), body()]] };
}

/** Exact bytes to splice into an oracle tree (for values @msgpack/msgpack cannot express, e.g. 2^64). */
export class RawMsgpack {
  constructor(readonly bytes: Uint8Array) {}
}

/** Encode an oracle tree with @msgpack/msgpack (maps assembled by hand: their keys may be bin). */
export function oracleEncode(n: ONode): Uint8Array {
  switch (n.t) {
    case 'nil':
      return referenceEncode(null);
    case 'arr':
      return concatBytes(arrayHeader(n.items.length), ...n.items.map(oracleEncode));
    case 'map':
      return concatBytes(
        mapHeader(n.entries.length),
        ...n.entries.flatMap(([k, v]) => [oracleEncode(k), oracleEncode(v)]),
      );
    case 'leaf':
      if (n.value instanceof RawMsgpack) return n.value.bytes;
      if (n.kind === 'u8array' && n.value instanceof Uint8Array) return referenceEncode(Array.from(n.value));
      return referenceEncode(n.value);
  }
}

function arrayHeader(n: number): Uint8Array {
  // Use the reference encoder for the header too: encode an array of n nils and keep the header bytes.
  const full = referenceEncode(new Array(n).fill(null));
  return full.slice(0, full.length - n);
}
function mapHeader(n: number): Uint8Array {
  const obj: Record<string, null> = {};
  for (let i = 0; i < n; i++) obj[`k${i}`] = null;
  const full = referenceEncode(obj);
  let keysLen = 0;
  for (let i = 0; i < n; i++) keysLen += 1 + `k${i}`.length + 1;
  return full.slice(0, full.length - keysLen);
}

/** Visit every leaf of an oracle tree. */
export function leaves(n: ONode, out: Extract<ONode, { t: 'leaf' }>[] = []): Extract<ONode, { t: 'leaf' }>[] {
  if (n.t === 'leaf') out.push(n);
  else if (n.t === 'arr') for (const c of n.items) leaves(c, out);
  else if (n.t === 'map') for (const [k, v] of n.entries) leaves(k, out), leaves(v, out);
  return out;
}

/** Every struct array of a tree (for arity mutations). */
export function structs(n: ONode, out: Extract<ONode, { t: 'arr' }>[] = []): Extract<ONode, { t: 'arr' }>[] {
  if (n.t === 'arr') {
    if (n.struct) out.push(n);
    for (const c of n.items) structs(c, out);
  } else if (n.t === 'map') for (const [k, v] of n.entries) structs(k, out), structs(v, out);
  return out;
}

/** A copy of the tree with one node replaced (by identity). */
export function replace(n: ONode, target: ONode, by: ONode): ONode {
  if (n === target) return by;
  if (n.t === 'arr') return { ...n, items: n.items.map((c) => replace(c, target, by)) };
  if (n.t === 'map')
    return {
      ...n,
      entries: n.entries.map(([k, v]) => [replace(k, target, by), replace(v, target, by)] as [ONode, ONode]),
    };
  return n;
}
