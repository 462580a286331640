/**
 * The Alys data model (alys-protocol.md section 1), as TypeScript values.
 *
 * Representation rules, chosen so that canonical re-encoding is exact:
 * - Lighthouse / ethereum-types values (H256, H160, BLS keys and signatures, hex blobs) are
 *   lowercase `0x` hex strings ({@link Hex}); decoders normalise case and check lengths.
 * - Lighthouse quoted integers (block_number, gas_*, timestamp, base_fee_per_gas, withdrawal fields)
 *   are `bigint`.
 * - Plain u32/u64 JSON numbers of the consensus types (slot, bits, chain_id, height) are `number`,
 *   checked to be safe integers (a JSON number above 2^53 cannot be read exactly, so it is refused).
 * - rust-bitcoin hashes (Txid, BlockHash, TxMerkleNode) are 32-byte `Uint8Array`s in **internal**
 *   byte order (as hashed); JSON shows them reversed ("display order").
 */
import type { Hex } from './bytes.js';

export type { Hex };

// ---------------------------------------------------------------- Bitcoin (rust-bitcoin 0.30.2)

export interface TxIn {
  /** Previous output txid, internal byte order. */
  prevTxid: Uint8Array;
  prevVout: number;
  scriptSig: Uint8Array;
  sequence: number;
  witness: Uint8Array[];
}

export interface TxOut {
  /** Amount in satoshis (u64). */
  value: bigint;
  scriptPubkey: Uint8Array;
}

export interface Transaction {
  /** i32 */
  version: number;
  /** u32 consensus lock time */
  lockTime: number;
  inputs: TxIn[];
  outputs: TxOut[];
}

export interface BitcoinHeader {
  /** i32 */
  version: number;
  /** internal byte order */
  prevBlockhash: Uint8Array;
  /** internal byte order */
  merkleRoot: Uint8Array;
  time: number;
  bits: number;
  nonce: number;
}

export interface MerkleBranch {
  /** internal byte order */
  branchHash: Uint8Array[];
  branchSideMask: number;
}

export interface AuxPow {
  coinbaseTxn: Transaction;
  /** Parent block hash, internal byte order. Carried but ignored by every check. */
  blockHash: Uint8Array;
  coinbaseBranch: MerkleBranch;
  blockchainBranch: MerkleBranch;
  parentBlock: BitcoinHeader;
}

// ---------------------------------------------------------------- Alys consensus

export interface AuxPowHeader {
  rangeStart: Hex;
  rangeEnd: Hex;
  bits: number;
  chainId: number;
  /** Execution block number of the previous PoW block + 1 (0 only at genesis). */
  height: number;
  auxpow: AuxPow | null;
  /** EVM address, lowercase. */
  feeRecipient: Hex;
}

export interface Withdrawal {
  index: bigint;
  validatorIndex: bigint;
  address: Hex;
  /** Gwei */
  amount: bigint;
}

export interface ExecutionPayloadCapella {
  parentHash: Hex;
  feeRecipient: Hex;
  stateRoot: Hex;
  receiptsRoot: Hex;
  /** 256 bytes */
  logsBloom: Hex;
  prevRandao: Hex;
  blockNumber: bigint;
  gasLimit: bigint;
  gasUsed: bigint;
  /** seconds */
  timestamp: bigint;
  /** at most 32 bytes */
  extraData: Hex;
  baseFeePerGas: bigint;
  blockHash: Hex;
  /** raw EIP-2718 transactions */
  transactions: Hex[];
  /** at most 16 */
  withdrawals: Withdrawal[];
}

/** (bitcoin txid, bitcoin block hash), both internal byte order. */
export type PegInRef = readonly [txid: Uint8Array, blockHash: Uint8Array];

export interface ConsensusBlock {
  parentHash: Hex;
  slot: number;
  auxpowHeader: AuxPowHeader | null;
  executionPayload: ExecutionPayloadCapella;
  pegins: PegInRef[];
  pegoutPaymentProposal: Transaction | null;
  finalizedPegouts: Transaction[];
}

export interface AggregateApproval {
  /** SSZ BitList<15>: always 2 bytes, `0x....` (bit i = authority i, bit 15 = length delimiter). */
  aggregationBits: Hex;
  /** 96-byte compressed G2 point; all zeros = the empty aggregate. */
  aggregateSignature: Hex;
}

export interface SignedConsensusBlock {
  message: ConsensusBlock;
  signature: AggregateApproval;
}

export interface IndividualApproval {
  signature: Hex;
  authorityIndex: number;
}

export interface ApproveBlock {
  blockHash: Hex;
  signature: IndividualApproval;
}

// ---------------------------------------------------------------- Chain spec (app/src/spec.rs)

export interface RetargetParams {
  powNoRetargeting: boolean;
  /** never used by Alys */
  powLimit: number;
  /** never used by Alys */
  powLowerLimit: number;
  powTargetTimespan: number;
  powTargetSpacing: number;
  /** percent (u8) */
  maxPowAdjustment: number;
}

export interface ChainSpec {
  /** milliseconds */
  slotDuration: number;
  /** 48-byte BLS public keys, index = authority index */
  authorities: Hex[];
  /** EVM addresses (fee recipients), lowercase */
  federation: Hex[];
  /** 33-byte compressed secp256k1 keys, as hex without 0x */
  federationBitcoinPubkeys: string[];
  bits: number;
  chainId: number;
  maxBlocksWithoutPow: number;
  bitcoinStartHeight: number;
  retargetParams: RetargetParams;
  isValidator: boolean;
  executionTimeoutLength: number;
  requiredBtcTxnConfirmations: number;
  /**
   * The EL genesis block hash this chain starts from (a light-client trust root, not an Alys key:
   * Alys ignores it in a spec file). Absent: block 0 is accepted only once block 1's approvals
   * verify and block 1's parent_hash is block 0's root.
   */
  executionGenesisHash?: Hex;
}
