/**
 * Test helpers for the execution suites: converters from vector formats into library inputs, written
 * independently of the code under test (the beacon payload converter follows the Lighthouse serde
 * rules of alys-protocol.md 1.6; the transaction converter starts from viem's own parser).
 */
import { expect } from 'vitest';
import { parseTransaction, keccak256, type Hex as ViemHex } from 'viem';
import { DecodeError } from '../../../src/protocol/errors.js';
import type { ExecutionPayloadCapella, Hex } from '../../../src/protocol/types.js';

/** QUANTITY string of a bigint (the library's formatter). */
export { toQuantity } from '../../../src/protocol/execution/json.js';

/** Beacon-API / Lighthouse ExecutionPayloadCapella JSON (snake_case, decimal strings) -> model. */
export function beaconPayload(p: any): ExecutionPayloadCapella {
  return {
    parentHash: p.parent_hash,
    feeRecipient: p.fee_recipient,
    stateRoot: p.state_root,
    receiptsRoot: p.receipts_root,
    logsBloom: p.logs_bloom,
    prevRandao: p.prev_randao,
    blockNumber: BigInt(p.block_number),
    gasLimit: BigInt(p.gas_limit),
    gasUsed: BigInt(p.gas_used),
    timestamp: BigInt(p.timestamp),
    extraData: p.extra_data,
    baseFeePerGas: BigInt(p.base_fee_per_gas),
    blockHash: p.block_hash,
    transactions: [...p.transactions],
    withdrawals: p.withdrawals.map((w: any) => ({
      index: BigInt(w.index),
      validatorIndex: BigInt(w.validator_index),
      address: w.address,
      amount: BigInt(w.amount),
    })),
  };
}

const qty = (v: bigint | number | undefined): string => `0x${BigInt(v ?? 0).toString(16)}`;

/**
 * A JSON-RPC transaction object for a raw transaction, built from viem's parser (an implementation
 * independent of ours). Position fields are filled from `at`; `from` is a dummy (never verified).
 */
export function rpcTxFromRaw(
  raw: Hex,
  at: { blockHash: Hex; blockNumber: bigint; index: number; baseFee?: bigint },
): Record<string, unknown> {
  const t: any = parseTransaction(raw as ViemHex);
  const typeByType: Record<string, number> = { legacy: 0, eip2930: 1, eip1559: 2, eip4844: 3, eip7702: 4 };
  const type = typeByType[t.type];
  if (type === undefined) throw new Error(`unexpected type ${t.type}`);
  const o: Record<string, unknown> = {
    blockHash: at.blockHash,
    blockNumber: qty(at.blockNumber),
    from: '0x' + '11'.repeat(20),
    gas: qty(t.gas),
    hash: keccak256(raw as ViemHex),
    input: t.data ?? '0x',
    nonce: qty(t.nonce),
    to: t.to ?? null,
    transactionIndex: qty(at.index),
    value: qty(t.value),
    type: qty(type),
    r: t.r,
    s: t.s,
  };
  if (type === 0) {
    o['gasPrice'] = qty(t.gasPrice);
    o['v'] = qty(t.v);
    if (t.v >= 35n) o['chainId'] = qty(t.chainId);
  } else {
    o['chainId'] = qty(t.chainId);
    o['accessList'] = t.accessList ?? [];
    o['v'] = qty(t.yParity);
    o['yParity'] = qty(t.yParity);
    if (type === 1) o['gasPrice'] = qty(t.gasPrice);
    else {
      o['maxFeePerGas'] = qty(t.maxFeePerGas);
      o['maxPriorityFeePerGas'] = qty(t.maxPriorityFeePerGas);
      if (at.baseFee !== undefined) {
        // viem omits zero fields, hence the defaults
        const maxFee: bigint = t.maxFeePerGas ?? 0n;
        const maxPriority: bigint = t.maxPriorityFeePerGas ?? 0n;
        o['gasPrice'] = qty(maxFee < at.baseFee + maxPriority ? maxFee : at.baseFee + maxPriority);
      }
    }
    if (type === 3) {
      o['maxFeePerBlobGas'] = qty(t.maxFeePerBlobGas);
      o['blobVersionedHashes'] = t.blobVersionedHashes;
    }
    if (type === 4)
      o['authorizationList'] = t.authorizationList.map((a: any) => ({
        chainId: qty(a.chainId),
        address: a.address,
        nonce: qty(a.nonce),
        yParity: qty(a.yParity),
        r: a.r,
        s: a.s,
      }));
  }
  return o;
}

export { expectCheck } from '../../helpers/expect.js';

/** Run `fn` and assert it throws a DecodeError whose path is `path`. */
export function expectDecodeError(fn: () => unknown, path: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected DecodeError at ${path}`).toBeInstanceOf(DecodeError);
  expect((thrown as DecodeError).path).toBe(path);
}

/** Deep copy of JSON data. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Flip the lowest bit of hex digit `digit` (0-based, after 0x) of a 0x hex string. */
export function flipHexDigit(hex: string, digit: number): Hex {
  const i = 2 + digit;
  const d = parseInt(hex[i]!, 16) ^ 1;
  return (hex.slice(0, i) + d.toString(16) + hex.slice(i + 1)) as Hex;
}
