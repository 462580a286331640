/**
 * The engine's contracts: where verified consensus data comes from (implemented by the chain side of
 * the node), and the JSON-RPC shapes the verified reads return.
 *
 * Everything here is platform-neutral (browsers, Workers, Node).
 */
import type { ExecutionPayloadCapella, Hex } from '../../protocol/types.js';

export type { ExecutionPayloadCapella, Hex };

/**
 * Which block a read is about. Tags follow Alys, not Ethereum: `latest` is the verified head,
 * `safe` and `finalized` both mean the last block covered by a verified AuxPoW range.
 */
export type BlockRef =
  | 'latest'
  | 'safe'
  | 'finalized'
  | 'earliest'
  | bigint /* EL block number */
  | `0x${string}` /* EL block hash (32 bytes) */;

export interface VerifiedPayloadSource {
  /** The execution payload of a verified consensus block ('latest' = verified head, 'safe'/'finalized' = the
   *  payload of the last block covered by a verified AuxPoW range, a number/EL hash = that block if verified);
   *  undefined when no verified block matches (not synced yet, or unknown). */
  payload(ref: BlockRef): Promise<ExecutionPayloadCapella | undefined>;
}

/** A log filter as the verified reads take it (the provider converts JSON-RPC filters to this). */
export interface LogFilter {
  /** One address or any of several; omitted or empty = any address. */
  address?: Hex | readonly Hex[] | undefined;
  /**
   * Topic conditions by position: null (or an empty list) matches anything; a hash must equal the
   * topic; a list matches any of its hashes. A log with fewer topics than conditions does not match.
   */
  topics?: readonly (Hex | readonly Hex[] | null)[] | undefined;
  /** Default 'latest'. Not with blockHash. */
  fromBlock?: BlockRef | undefined;
  /** Default 'latest'. A number beyond the verified head is clamped to it (as geth clamps to its head). */
  toBlock?: BlockRef | undefined;
  /** One block by EL hash (instead of a range). */
  blockHash?: Hex | undefined;
}

// ---------------------------------------------------------------- JSON-RPC result shapes (geth's)

/** A QUANTITY: `0x` + shortest hex. */
export type Quantity = `0x${string}`;

export interface RpcLogJson {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: Quantity;
  transactionHash: Hex;
  transactionIndex: Quantity;
  blockHash: Hex;
  logIndex: Quantity;
  removed: false;
}

export interface RpcReceiptJson {
  blockHash: Hex;
  blockNumber: Quantity;
  contractAddress: Hex | null;
  cumulativeGasUsed: Quantity;
  effectiveGasPrice: Quantity;
  from: Hex;
  gasUsed: Quantity;
  logs: RpcLogJson[];
  logsBloom: Hex;
  status: '0x0' | '0x1';
  to: Hex | null;
  transactionHash: Hex;
  transactionIndex: Quantity;
  type: Quantity;
}

export interface RpcAccessListJson {
  address: Hex;
  storageKeys: Hex[];
}

export interface RpcAuthorizationJson {
  chainId: Quantity;
  address: Hex;
  nonce: Quantity;
  yParity: Quantity;
  r: Quantity;
  s: Quantity;
}

/** A mined transaction (types 0-4). Optional keys are present exactly for the types that have them. */
export interface RpcTransactionJson {
  blockHash: Hex;
  blockNumber: Quantity;
  from: Hex;
  gas: Quantity;
  gasPrice: Quantity;
  hash: Hex;
  input: Hex;
  nonce: Quantity;
  to: Hex | null;
  transactionIndex: Quantity;
  value: Quantity;
  type: Quantity;
  v: Quantity;
  r: Quantity;
  s: Quantity;
  chainId?: Quantity;
  yParity?: Quantity;
  maxFeePerGas?: Quantity;
  maxPriorityFeePerGas?: Quantity;
  accessList?: RpcAccessListJson[];
  maxFeePerBlobGas?: Quantity;
  blobVersionedHashes?: Hex[];
  authorizationList?: RpcAuthorizationJson[];
}

export interface RpcWithdrawalJson {
  index: Quantity;
  validatorIndex: Quantity;
  address: Hex;
  amount: Quantity;
}

/**
 * A verified block. `totalDifficulty` is never included (no header commits to it); `size` is
 * recomputed from the verified header, transactions and withdrawals.
 */
export interface RpcBlockJson {
  baseFeePerGas?: Quantity;
  difficulty: Quantity;
  extraData: Hex;
  gasLimit: Quantity;
  gasUsed: Quantity;
  hash: Hex;
  logsBloom: Hex;
  miner: Hex;
  mixHash: Hex;
  nonce: Hex;
  number: Quantity;
  parentHash: Hex;
  receiptsRoot: Hex;
  sha3Uncles: Hex;
  size: Quantity;
  stateRoot: Hex;
  timestamp: Quantity;
  transactions: Hex[] | RpcTransactionJson[];
  transactionsRoot: Hex;
  uncles: Hex[];
  withdrawals?: RpcWithdrawalJson[];
  withdrawalsRoot?: Hex;
  blobGasUsed?: Quantity;
  excessBlobGas?: Quantity;
  parentBeaconBlockRoot?: Hex;
  requestsHash?: Hex;
}

export interface RpcProofJson {
  address: Hex;
  accountProof: Hex[];
  balance: Quantity;
  codeHash: Hex;
  nonce: Quantity;
  storageHash: Hex;
  storageProof: { key: Hex; value: Quantity; proof: Hex[] }[];
}

/** A verified account (and storage slots) at a verified block. */
export interface VerifiedAccount {
  /** The block whose state root the proof was checked against. */
  blockHash: Hex;
  blockNumber: bigint;
  exists: boolean;
  nonce: bigint;
  balance: bigint;
  storageHash: Hex;
  codeHash: Hex;
  /** Proven values of the requested slots, in request order (32-byte slot keys). */
  storage: { slot: Hex; value: bigint }[];
  /** The verified proof as JSON-RPC `eth_getProof` returns it (hash fields are the proven ones). */
  proof: RpcProofJson;
}

/** What `checkElBlock` established. */
export interface CheckedElBlock {
  /** The endpoint that served the matching block. */
  endpoint: string;
  hash: Hex;
  number: bigint;
}

/** Per-endpoint counters (for metrics and the node's endpoint scoring). */
export interface EndpointStats {
  url: string;
  /** Responses that passed verification. */
  verified: number;
  /** Responses that failed verification (lies, malformed data). */
  lies: number;
  /** Transport failures, JSON-RPC errors, missing data. */
  failures: number;
  /** ms timestamp (the reads' clock) of the last fault, if any. */
  lastFaultAt: number | undefined;
}
