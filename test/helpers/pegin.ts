/**
 * A peg-in transaction built at test time: `alys-light verify pegin` (test/cli/verify.test.ts) and the
 * edge Worker's `/verify/pegin` (test/workers/cases.ts) check it.
 */
import { encodeTransaction } from '../../src/protocol/index.js';

/** 25,000 sats to `scriptPubkey` (the federation's, for a valid peg-in) and an OP_RETURN naming the EVM address 0xabab…ab. */
export function peginTx(scriptPubkey: Uint8Array): Uint8Array {
  return encodeTransaction({
    version: 2,
    lockTime: 0,
    inputs: [
      {
        prevTxid: new Uint8Array(32).fill(9),
        prevVout: 1,
        scriptSig: new Uint8Array(),
        sequence: 0xfffffffd,
        witness: [new Uint8Array(64).fill(1)],
      },
    ],
    outputs: [
      { value: 25_000n, scriptPubkey },
      { value: 0n, scriptPubkey: Uint8Array.from([0x6a, 0x14, ...new Uint8Array(20).fill(0xab)]) },
    ],
  });
}
