/**
 * Execution-layer (EVM) verification for Alys Light: payload block hashes, JSON-RPC blocks, eth_getProof,
 * receipts, raw transactions (decoding, sender recovery), and the RLP / Merkle-Patricia primitives under them
 * (alys-protocol.md section 5).
 */
export {
  computePayloadBlockHash,
  verifyPayloadBlockHash,
  payloadToHeader,
  transactionsRoot,
  withdrawalsRoot,
  encodeWithdrawal,
  decodeEnginePayloadV2,
  decodeRpcWithdrawal,
} from './payload.js';
export {
  EMPTY_OMMERS_HASH,
  encodeExecutionHeader,
  hashExecutionHeader,
  computeRpcBlockHash,
  decodeRpcBlockHeader,
  type ExecutionBlockHeader,
  type RpcBlockHeader,
} from './header.js';
export {
  ALYS_GENESIS_DIFFICULTY,
  ALYS_GENESIS_NONCE,
  alysGenesisPayloadHash,
  verifyGenesisPayload,
} from './genesis.js';
export { verifyRpcBlock, type VerifyRpcBlockOptions, type VerifiedRpcBlock } from './block.js';
export {
  decodeRpcTransaction,
  encodeRpcTransaction,
  transactionHash,
  type RpcTransaction,
  type LegacyRpcTransaction,
  type AccessListRpcTransaction,
  type DynamicFeeRpcTransaction,
  type BlobRpcTransaction,
  type SetCodeRpcTransaction,
  type AccessListEntry,
  type SetCodeAuthorization,
} from './transactions.js';
export { recoverSender } from './sender.js';
export {
  decodeRawTransaction,
  effectiveGasPrice,
  createdContractAddress,
  type DecodedTransaction,
} from './raw-transaction.js';
export {
  EMPTY_CODE_HASH,
  verifyAccountProof,
  verifyStorageProof,
  decodeGetProofResponse,
  verifyGetProofResponse,
  storageSlotBytes,
  type ProvenAccount,
  type GetProofResponse,
  type StorageProofEntry,
  type VerifiedGetProof,
} from './proof.js';
export {
  encodeReceipt,
  decodeReceipt,
  receiptsRoot,
  logsBloom,
  bloomMayContain,
  bloomCoversLogs,
  decodeRpcReceipt,
  decodeRpcBlockReceipts,
  verifyBlockReceipts,
  receiptProof,
  verifyReceiptProof,
  type Log,
  type Receipt,
  type RpcLog,
  type RpcReceipt,
  type ReceiptsCommitment,
} from './receipts.js';
export {
  EMPTY_TRIE_ROOT,
  orderedTrieRoot,
  trieRoot,
  indexKey,
  verifyMptProof,
  MerklePatriciaTrie,
  hexPrefixEncode,
  hexPrefixDecode,
  bytesToNibbles,
} from './trie.js';
export {
  encodeBytes,
  encodeList,
  encodeUint,
  encodeRlp,
  decodeRlp,
  rlpToUint,
  uintToBytes,
  type RlpValue,
} from './rlp.js';
