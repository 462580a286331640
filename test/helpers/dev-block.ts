/**
 * A signed consensus block for the DEV chain spec (its one authority is BLS secret key 1), built at
 * test time: `alys-light verify block` and the edge Worker's `/verify/block` tests verify it.
 */
import {
  aggregateApprovals,
  computePayloadBlockHash,
  signApproval,
  signingRoot,
  type ConsensusBlock,
  type ExecutionPayloadCapella,
  type SignedConsensusBlock,
} from '../../src/protocol/index.js';

/** The DEV chain's authority key: the 32-byte big-endian integer 1. */
export const DEV_SK1 = new Uint8Array(32);
DEV_SK1[31] = 1;

/** Block 7 of a made-up DEV chain, signed by the DEV authority. */
export function devBlock(): SignedConsensusBlock {
  const payload: ExecutionPayloadCapella = {
    parentHash: `0x${'11'.repeat(32)}`,
    feeRecipient: '0x000000000000000000000000000000000000dead',
    stateRoot: `0x${'22'.repeat(32)}`,
    receiptsRoot: '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
    logsBloom: `0x${'00'.repeat(256)}`,
    prevRandao: `0x${'00'.repeat(32)}`,
    blockNumber: 7n,
    gasLimit: 30_000_000n,
    gasUsed: 0n,
    timestamp: 1_700_000_000n,
    extraData: '0x',
    baseFeePerGas: 7n,
    blockHash: '0x',
    transactions: [],
    withdrawals: [
      { index: 0n, validatorIndex: 0n, address: '0xf9a9b63f5b7f9336da0ce520c6bec64627027f5b', amount: 100_000n },
    ],
  };
  payload.blockHash = computePayloadBlockHash(payload);
  const message: ConsensusBlock = {
    parentHash: `0x${'33'.repeat(32)}`,
    slot: Number((1_700_000_000n * 1000n) / 4000n),
    auxpowHeader: null,
    executionPayload: payload,
    pegins: [],
    pegoutPaymentProposal: null,
    finalizedPegouts: [],
  };
  const root = signingRoot(message);
  return { message, signature: aggregateApprovals([signApproval(DEV_SK1, root, 0)]) };
}
