/**
 * Account state reads (balance, nonce, code, storage, `eth_getProof`).
 *
 * `eth_getProof` at the verified block (EIP-1898 `{ blockHash }`), decoded and verified against the
 * payload's stateRoot (protocol `verifyGetProofResponse`: account proof, every claimed field, every
 * storage proof). Code: the `eth_getCode` bytes must hash to the proven codeHash (`code.hash`).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { equalBytes, parseHex, toHex, type Hex } from '../../../protocol/bytes.js';
import { DecodeError } from '../../../protocol/errors.js';
import {
  decodeGetProofResponse,
  verifyGetProofResponse,
  type GetProofResponse,
  type VerifiedGetProof,
} from '../../../protocol/execution/index.js';
import { data as jsonData } from '../../../protocol/execution/json.js';
import type { ExecutionPayloadCapella } from '../../../protocol/types.js';
import type { EndpointHandle } from '../endpoints.js';
import { toQuantity } from '../../../protocol/execution/json.js';
import type { BlockRef, RpcProofJson, VerifiedAccount } from '../types.js';
import { checkRef, lower, payloadFor, type ReadContext } from './context.js';

function addressBytes(address: unknown, path = 'address'): Uint8Array {
  return parseHex(address, path, { prefix: 'required', length: 20 });
}

function slotBytes(slot: unknown, path: string): Uint8Array {
  let n: bigint;
  if (typeof slot === 'bigint') n = slot;
  else if (typeof slot === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(slot)) n = BigInt(slot);
  else throw new DecodeError(path, 'expected a bigint or 0x hex of at most 32 bytes');
  if (n < 0n || n >= 1n << 256n) throw new DecodeError(path, 'storage slot out of range');
  return parseHex(`0x${n.toString(16).padStart(64, '0')}`, path, { prefix: 'required', length: 32 });
}

/** The code `eth_getCode` returned, if it hashes to the proven codeHash. */
function checkedCode(ep: EndpointHandle, codeJson: unknown, addr: Uint8Array, codeHash: Uint8Array): Hex {
  const bytes = ep.check('eth_getCode', () => jsonData(codeJson, '$'));
  const hash = keccak_256(bytes);
  if (!equalBytes(hash, codeHash))
    throw ep.lie(
      'code.hash',
      `code of ${toHex(addr)} hashes to ${toHex(hash)}, the proven codeHash is ${toHex(codeHash)}`,
      'eth_getCode',
    );
  return toHex(bytes);
}

/** The verified proof as `eth_getProof` returns it (hash fields and values are the proven ones). */
function proofJson(addr: Uint8Array, response: GetProofResponse, verified: VerifiedGetProof): RpcProofJson {
  const { account, storage } = verified;
  return {
    address: toHex(addr),
    accountProof: response.accountProof.map(toHex),
    balance: toQuantity(account.balance),
    codeHash: toHex(account.codeHash),
    nonce: toQuantity(account.nonce),
    storageHash: toHex(account.storageHash),
    storageProof: response.storageProof.map((e, i) => ({
      key: toHex(e.key),
      value: toQuantity(storage[i]!.value),
      proof: e.proof.map(toHex),
    })),
  };
}

/** An account (and `slots`) proven against the state root of the verified block `ref`; with its code if asked. */
export async function proveAccount(
  ctx: ReadContext,
  address: Hex,
  slots: readonly (bigint | Hex)[],
  ref: BlockRef,
  withCode: boolean,
): Promise<VerifiedAccount & { code?: Hex }> {
  return proveAccountAt(ctx, await payloadFor(ctx, checkRef(ref)), address, slots, withCode);
}

/** A proven account with its slots, and its code when asked. */
export type ProvenAccountAt = VerifiedAccount & { code?: Hex };

/** The decoded and verified answers to one account's eth_getProof (and eth_getCode), pinned on `ep`. */
function verifiedAccount(
  ep: EndpointHandle,
  payload: ExecutionPayloadCapella,
  addr: Uint8Array,
  keys: Uint8Array[],
  proof: unknown,
  codeJson: unknown,
  withCode: boolean,
): ProvenAccountAt {
  if (proof === null) throw ep.missing('eth_getProof', `no proof for block ${payload.blockHash}`);
  // Parallel requests: name the method explicitly (lastMethod may be eth_getCode).
  const response = ep.check('eth_getProof', () => decodeGetProofResponse(proof));
  const verified = ep.check('eth_getProof', () =>
    verifyGetProofResponse(payload.stateRoot, response, { address: addr, storageKeys: keys }),
  );
  const { account, storage } = verified;
  const code = withCode ? checkedCode(ep, codeJson, addr, account.codeHash) : undefined;
  return {
    blockHash: lower(payload.blockHash),
    blockNumber: payload.blockNumber,
    exists: account.exists,
    nonce: account.nonce,
    balance: account.balance,
    storageHash: toHex(account.storageHash),
    codeHash: toHex(account.codeHash),
    storage: storage.map((s) => ({ slot: toHex(s.key), value: s.value })),
    proof: proofJson(addr, response, verified),
    ...(code === undefined ? {} : { code }),
  };
}

/** As {@link proveAccount}, at a payload already resolved (the verified calls prove many accounts at one block). */
export async function proveAccountAt(
  ctx: ReadContext,
  payload: ExecutionPayloadCapella,
  address: Hex,
  slots: readonly (bigint | Hex)[],
  withCode: boolean,
): Promise<ProvenAccountAt> {
  const addr = addressBytes(address);
  const keys = slots.map((s, i) => slotBytes(s, `slots[${i}]`));
  const at = { blockHash: lower(payload.blockHash) };
  return ctx.pool.run(`eth_getProof(${toHex(addr)}) at block ${payload.blockNumber}`, async (ep) => {
    const [proof, codeJson] = await Promise.all([
      ep.request('eth_getProof', [toHex(addr), keys.map(toHex), at]),
      withCode ? ep.request('eth_getCode', [toHex(addr), at]) : undefined,
    ]);
    return verifiedAccount(ep, payload, addr, keys, proof, codeJson, withCode);
  });
}

/** One account to prove with {@link proveAccountsAt}. */
export interface AccountQuery {
  address: Hex;
  slots: readonly (bigint | Hex)[];
  withCode: boolean;
}

/**
 * Several accounts (with slots and code) at one payload, all asked of an endpoint in ONE JSON-RPC batch
 * (EndpointHandle.batch; separate requests where the endpoint refuses batches) and each verified as by
 * {@link proveAccountAt}. One bad answer fails the endpoint's attempt and the next endpoint is asked for all.
 */
export async function proveAccountsAt(
  ctx: ReadContext,
  payload: ExecutionPayloadCapella,
  queries: readonly AccountQuery[],
): Promise<ProvenAccountAt[]> {
  const asked = queries.map((q) => ({
    addr: addressBytes(q.address),
    keys: q.slots.map((s, i) => slotBytes(s, `slots[${i}]`)),
    withCode: q.withCode,
  }));
  const at = { blockHash: lower(payload.blockHash) };
  const calls = asked.flatMap(({ addr, keys, withCode }) => [
    { method: 'eth_getProof', params: [toHex(addr), keys.map(toHex), at] },
    ...(withCode ? [{ method: 'eth_getCode', params: [toHex(addr), at] }] : []),
  ]);
  return ctx.pool.run(`eth_getProof of ${asked.length} accounts at block ${payload.blockNumber}`, async (ep) => {
    const results = await ep.batch(calls);
    let next = 0;
    return asked.map(({ addr, keys, withCode }) => {
      const proof = results[next++];
      const codeJson = withCode ? results[next++] : undefined;
      return verifiedAccount(ep, payload, addr, keys, proof, codeJson, withCode);
    });
  });
}
