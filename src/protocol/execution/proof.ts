/**
 * EIP-1186 `eth_getProof`: account and storage proofs against a trusted state root.
 *
 * Account trie: key keccak256(address), value rlp([nonce, balance, storageRoot, codeHash]).
 * Storage trie: key keccak256(slot as 32 bytes big-endian), value rlp(minimal big-endian value); zero
 * values are not stored, so a proof of absence proves the value 0.
 *
 * A state root only becomes trustworthy through a verified block (Alys: BLS-approved payload ->
 * verifyPayloadBlockHash -> payload.stateRoot). Everything in the response is then checked against
 * what the proofs prove; a lying endpoint that changes any account field or storage value is caught.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { equalBytes, parseHex, toHex, type Hex } from '../bytes.js';
import { DecodeError, VerificationError } from '../errors.js';
import { readArray, readField, readObject } from '../json-fields.js';
import { address, data, paddedUint, parseQuantity } from './json.js';
import { decodeRlp, rlpToUint } from './rlp.js';
import { EMPTY_TRIE_ROOT, verifyMptProof } from './trie.js';

/** keccak256 of empty code: the code hash of every account without code. */
export const EMPTY_CODE_HASH: Uint8Array = keccak_256(new Uint8Array(0));

const ZERO_HASH = new Uint8Array(32);

/** The account a proof proves. An absent account is reported as `exists: false` with empty values. */
export interface ProvenAccount {
  exists: boolean;
  nonce: bigint;
  balance: bigint;
  storageHash: Uint8Array;
  codeHash: Uint8Array;
}

export interface StorageProofEntry {
  /** The slot, left-padded to 32 bytes. */
  key: Uint8Array;
  /** Claimed value. */
  value: bigint;
  proof: Uint8Array[];
}

/** A decoded `eth_getProof` result. Nothing in it is trusted until verifyGetProofResponse. */
export interface GetProofResponse {
  address: Uint8Array;
  accountProof: Uint8Array[];
  balance: bigint;
  codeHash: Uint8Array;
  nonce: bigint;
  storageHash: Uint8Array;
  storageProof: StorageProofEntry[];
}

function bytesOf(value: Uint8Array | Hex, name: string, length: number): Uint8Array {
  return typeof value === 'string'
    ? parseHex(value, name, { prefix: 'required', length })
    : checkLength(value, name, length);
}

function checkLength(value: Uint8Array, name: string, length: number): Uint8Array {
  if (value.length !== length) throw new DecodeError(name, `expected ${length} bytes, got ${value.length}`);
  return value;
}

/** A storage slot as 32 bytes: from a bigint, 0x hex of up to 32 bytes (left-padded), or 32 raw bytes. */
export function storageSlotBytes(slot: bigint | Hex | Uint8Array, name = 'slot'): Uint8Array {
  if (slot instanceof Uint8Array) return checkLength(slot, name, 32);
  const n = typeof slot === 'bigint' ? slot : paddedUint(slot, name);
  if (n < 0n || n >= 1n << 256n) throw new DecodeError(name, 'storage slot out of range');
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 31; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Verify an account proof. Returns the proven account; for an absent account `exists` is false and the
 * values are those of the empty account (nonce 0, balance 0, empty storage root, empty code hash).
 * Throws VerificationError `getproof.account-proof` if the proof is invalid or the leaf is malformed.
 */
export function verifyAccountProof(
  stateRoot: Uint8Array | Hex,
  account: Uint8Array | Hex,
  proof: readonly Uint8Array[],
): ProvenAccount {
  const root = bytesOf(stateRoot, 'stateRoot', 32);
  const addr = bytesOf(account, 'address', 20);
  const leaf = verifyMptProof(root, keccak_256(addr), proof, 'getproof.account-proof');
  if (leaf === null)
    return {
      exists: false,
      nonce: 0n,
      balance: 0n,
      storageHash: EMPTY_TRIE_ROOT.slice(),
      codeHash: EMPTY_CODE_HASH.slice(),
    };
  try {
    const fields = decodeRlp(leaf, 'account');
    if (!Array.isArray(fields) || fields.length !== 4) throw new DecodeError('account', 'expected a list of 4 items');
    const [nonce, balance, storageHash, codeHash] = fields as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    if (!(storageHash instanceof Uint8Array) || storageHash.length !== 32)
      throw new DecodeError('account.storageRoot', 'expected 32 bytes');
    if (!(codeHash instanceof Uint8Array) || codeHash.length !== 32)
      throw new DecodeError('account.codeHash', 'expected 32 bytes');
    return {
      exists: true,
      nonce: rlpToUint(nonce, 'account.nonce', 8),
      balance: rlpToUint(balance, 'account.balance', 32),
      storageHash: storageHash.slice(),
      codeHash: codeHash.slice(),
    };
  } catch (e) {
    if (e instanceof DecodeError)
      throw new VerificationError('getproof.account-proof', `the proven account leaf is malformed (${e.message})`, {
        cause: e,
      });
    throw e;
  }
}

/**
 * Verify a storage proof against an account's storage root; returns the proven value (0 when absent).
 * Throws VerificationError `getproof.storage-proof`.
 */
export function verifyStorageProof(
  storageHash: Uint8Array | Hex,
  slot: bigint | Hex | Uint8Array,
  proof: readonly Uint8Array[],
): bigint {
  const root = bytesOf(storageHash, 'storageHash', 32);
  const leaf = verifyMptProof(root, keccak_256(storageSlotBytes(slot)), proof, 'getproof.storage-proof');
  if (leaf === null) return 0n;
  try {
    const value = rlpToUint(decodeRlp(leaf, 'storage'), 'storage.value', 32);
    if (value === 0n) throw new DecodeError('storage.value', 'zero is never stored in the storage trie');
    return value;
  } catch (e) {
    if (e instanceof DecodeError)
      throw new VerificationError('getproof.storage-proof', `the proven storage leaf is malformed (${e.message})`, {
        cause: e,
      });
    throw e;
  }
}

function proofNodes(value: unknown, path: string): Uint8Array[] {
  return readArray(value, path).map((n, i) => {
    const node = data(n, `${path}[${i}]`);
    if (node.length === 0) throw new DecodeError(`${path}[${i}]`, 'empty proof node');
    return node;
  });
}

/**
 * Strictly decode an `eth_getProof` result object (not the JSON-RPC envelope).
 * `nonce`/`balance` must be canonical QUANTITYs. Storage `key`s are accepted as 32-byte DATA or as a
 * QUANTITY (geth echoes short keys as QUANTITY, e.g. "0x0") and left-padded to 32 bytes; storage `value`s
 * may carry leading zeros (client differences; the value is checked against the proof anyway).
 */
export function decodeGetProofResponse(json: unknown, path = '$'): GetProofResponse {
  const o = readObject(json, path);
  return {
    address: address(readField(o, 'address', path), `${path}.address`),
    accountProof: proofNodes(readField(o, 'accountProof', path), `${path}.accountProof`),
    balance: parseQuantity(readField(o, 'balance', path), `${path}.balance`, 32),
    codeHash: data(readField(o, 'codeHash', path), `${path}.codeHash`, 32),
    nonce: parseQuantity(readField(o, 'nonce', path), `${path}.nonce`, 8),
    storageHash: data(readField(o, 'storageHash', path), `${path}.storageHash`, 32),
    storageProof: readArray(readField(o, 'storageProof', path), `${path}.storageProof`).map((entry, i) => {
      const p = `${path}.storageProof[${i}]`;
      const e = readObject(entry, p);
      return {
        key: storageSlotBytes(paddedUint(readField(e, 'key', p), `${p}.key`), `${p}.key`),
        value: paddedUint(readField(e, 'value', p), `${p}.value`),
        proof: proofNodes(readField(e, 'proof', p), `${p}.proof`),
      };
    }),
  };
}

export interface VerifiedGetProof {
  account: ProvenAccount;
  /** Proven storage values, in response order. */
  storage: { key: Uint8Array; value: bigint }[];
}

function mismatch(check: string, what: string, claimed: string, proven: string): never {
  throw new VerificationError(
    check,
    `eth_getProof response claims ${what} ${claimed}, but the proof proves ${proven}`,
    {
      details: 'the endpoint returned a value its own proof contradicts; do not use this response',
    },
  );
}

/**
 * Verify a decoded `eth_getProof` response against a trusted state root: the account proof, every
 * account field, and every storage entry (proof against the proven storage root, and claimed value ==
 * proven value). With `request`, also that the response answers it (same address; same storage keys in
 * the same order).
 *
 * Absent accounts: the response must claim nonce 0 and balance 0; for storageHash/codeHash both the empty
 * values and zero hashes are accepted (geth reports 0x00…00 for accounts that do not exist), and every
 * storage value must be 0 with an empty-trie proof.
 *
 * Checks: getproof.address, getproof.storage-keys, getproof.account-proof, getproof.nonce,
 * getproof.balance, getproof.storage-hash, getproof.code-hash, getproof.storage-proof, getproof.storage-value.
 */
export function verifyGetProofResponse(
  stateRoot: Uint8Array | Hex,
  response: GetProofResponse,
  request: { address?: Uint8Array | Hex; storageKeys?: readonly (bigint | Hex | Uint8Array)[] } = {},
): VerifiedGetProof {
  if (request.address !== undefined && !equalBytes(bytesOf(request.address, 'request.address', 20), response.address))
    throw new VerificationError(
      'getproof.address',
      `response is for ${toHex(response.address)}, not the requested account`,
    );
  if (request.storageKeys !== undefined) {
    const wanted = request.storageKeys.map((k, i) => storageSlotBytes(k, `request.storageKeys[${i}]`));
    if (
      wanted.length !== response.storageProof.length ||
      wanted.some((k, i) => !equalBytes(k, response.storageProof[i]!.key))
    )
      throw new VerificationError(
        'getproof.storage-keys',
        'response storage keys differ from the requested keys (or their order)',
      );
  }
  const account = verifyAccountProof(stateRoot, response.address, response.accountProof);
  if (response.nonce !== account.nonce)
    mismatch('getproof.nonce', 'nonce', String(response.nonce), String(account.nonce));
  if (response.balance !== account.balance)
    mismatch('getproof.balance', 'balance', String(response.balance), String(account.balance));
  const okHash = (claimed: Uint8Array, proven: Uint8Array) =>
    equalBytes(claimed, proven) || (!account.exists && equalBytes(claimed, ZERO_HASH));
  if (!okHash(response.storageHash, account.storageHash))
    mismatch('getproof.storage-hash', 'storageHash', toHex(response.storageHash), toHex(account.storageHash));
  if (!okHash(response.codeHash, account.codeHash))
    mismatch('getproof.code-hash', 'codeHash', toHex(response.codeHash), toHex(account.codeHash));
  const storage = response.storageProof.map((entry) => {
    const value = verifyStorageProof(account.storageHash, entry.key, entry.proof);
    if (value !== entry.value)
      mismatch('getproof.storage-value', `storage slot ${toHex(entry.key)} =`, String(entry.value), String(value));
    return { key: entry.key, value };
  });
  return { account, storage };
}
