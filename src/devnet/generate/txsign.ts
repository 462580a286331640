/**
 * Fast transaction signing for the generator (Node only): the transaction's RLP is assembled here and
 * signed with the engine's native crypto (libsecp256k1 `ecsign`, native keccak). ~25 µs per
 * transaction here, against ~1.7 ms for viem / noble and ~150 µs for ethereumjs transaction objects.
 *
 * Two forms, both what eth_sendRawTransaction accepts: EIP-1559 (type 2, empty access list) and
 * EIP-155 legacy. Tests check every byte against viem's serializer and signature recovery.
 */
import { RLP } from '@ethereumjs/rlp';
import { ecsign, keccak256 } from '../evm/crypto.js';

export interface TxRequest {
  nonce: bigint;
  /** 20 bytes */
  to: Uint8Array;
  value: bigint;
  data: Uint8Array;
  gasLimit: bigint;
}

/** Minimal big-endian bytes of a non-negative integer (empty for zero), as RLP integers are. */
export function uintBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new RangeError('negative integer');
  if (n === 0n) return new Uint8Array(0);
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Strip leading zero bytes (r and s are RLP integers). */
function trim(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

function concat(prefix: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = prefix;
  out.set(body, 1);
  return out;
}

/** A signed EIP-1559 transaction (raw bytes, 0x02 || rlp(...)). */
export function signEip1559(
  chainId: bigint,
  tx: TxRequest & { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  privateKey: Uint8Array,
): Uint8Array {
  const fields: (Uint8Array | never[])[] = [
    uintBytes(chainId),
    uintBytes(tx.nonce),
    uintBytes(tx.maxPriorityFeePerGas),
    uintBytes(tx.maxFeePerGas),
    uintBytes(tx.gasLimit),
    tx.to,
    uintBytes(tx.value),
    tx.data,
    [],
  ];
  const sig = ecsign(keccak256(concat(0x02, RLP.encode(fields))), privateKey);
  fields.push(uintBytes(BigInt(sig[0]!)), trim(sig.subarray(1, 33)), trim(sig.subarray(33, 65)));
  return concat(0x02, RLP.encode(fields));
}

/** A signed EIP-155 legacy transaction. */
export function signLegacy(chainId: bigint, tx: TxRequest & { gasPrice: bigint }, privateKey: Uint8Array): Uint8Array {
  const fields: Uint8Array[] = [
    uintBytes(tx.nonce),
    uintBytes(tx.gasPrice),
    uintBytes(tx.gasLimit),
    tx.to,
    uintBytes(tx.value),
    tx.data,
  ];
  const sig = ecsign(
    keccak256(RLP.encode([...fields, uintBytes(chainId), new Uint8Array(0), new Uint8Array(0)])),
    privateKey,
  );
  fields.push(uintBytes(chainId * 2n + 35n + BigInt(sig[0]!)), trim(sig.subarray(1, 33)), trim(sig.subarray(33, 65)));
  return RLP.encode(fields);
}
