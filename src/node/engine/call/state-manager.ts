/**
 * An ethereumjs state manager (`StateManagerInterface`) for one verified call: the writes of the call
 * live in journaled in-memory layers (checkpoint / commit / revert, as ethereumjs's SimpleStateManager),
 * and every read that misses them goes to a {@link BlockState}, i.e. to a proof verified against the
 * block's stateRoot. Nothing is ever read unproven; nothing is written anywhere but these layers, which
 * are dropped with the call.
 *
 * Loaded only through the lazy import of the call path (it imports @ethereumjs/util).
 */
import type { StateManagerInterface } from '@ethereumjs/common';
import { Account, type Address, bigIntToUnpaddedBytes, bytesToHex, KECCAK256_NULL } from '@ethereumjs/util';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { equalBytes, fromHex, type Hex } from '../../../protocol/bytes.js';
import type { BlockState } from './state.js';

interface Layer {
  accounts: Map<Hex, Account | undefined>;
  code: Map<Hex, Uint8Array>;
  storage: Map<string, Uint8Array>;
  /** Accounts whose storage was cleared in this call (their proven slots no longer apply). */
  cleared: Set<Hex>;
}

const copyAccount = (a: Account) => new Account(a.nonce, a.balance, a.storageRoot, a.codeHash);

const addressHex = (address: Address) => address.toString().toLowerCase() as Hex;
const slotHex = (key: Uint8Array) => {
  const h = bytesToHex(key).slice(2).padStart(64, '0');
  return `0x${h}` as Hex;
};

export class VerifiedStateManager implements StateManagerInterface {
  private readonly layers: Layer[] = [{ accounts: new Map(), code: new Map(), storage: new Map(), cleared: new Set() }];

  /** Original values (SSTORE gas) are the values at the start of the call: the proven ones. */
  readonly originalStorageCache = {
    get: async (address: Address, key: Uint8Array): Promise<Uint8Array> =>
      bigIntToUnpaddedBytes(await this.state.storage(addressHex(address), slotHex(key))),
    clear: () => {},
  };

  constructor(private readonly state: BlockState) {}

  private get top(): Layer {
    return this.layers[this.layers.length - 1]!;
  }

  async getAccount(address: Address): Promise<Account | undefined> {
    const key = addressHex(address);
    const top = this.top;
    if (top.accounts.has(key)) {
      const a = top.accounts.get(key);
      return a === undefined ? undefined : copyAccount(a);
    }
    const proven = await this.state.account(key);
    if (!proven.exists) return undefined;
    return new Account(proven.nonce, proven.balance, fromHex(proven.storageHash), fromHex(proven.codeHash));
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    this.top.accounts.set(addressHex(address), account === undefined ? undefined : copyAccount(account));
  }

  async deleteAccount(address: Address): Promise<void> {
    const key = addressHex(address);
    this.top.accounts.set(key, undefined);
    this.top.code.set(key, new Uint8Array(0));
    await this.clearStorage(address);
  }

  async modifyAccountFields(
    address: Address,
    fields: Partial<Pick<Account, 'nonce' | 'balance' | 'storageRoot' | 'codeHash'>>,
  ): Promise<void> {
    const a = (await this.getAccount(address)) ?? new Account();
    if (fields.nonce !== undefined) a.nonce = fields.nonce;
    if (fields.balance !== undefined) a.balance = fields.balance;
    if (fields.storageRoot !== undefined) a.storageRoot = fields.storageRoot;
    if (fields.codeHash !== undefined) a.codeHash = fields.codeHash;
    await this.putAccount(address, a);
  }

  async putCode(address: Address, value: Uint8Array): Promise<void> {
    this.top.code.set(addressHex(address), value);
    await this.modifyAccountFields(address, { codeHash: keccak_256(value) });
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const key = addressHex(address);
    const own = this.top.code.get(key);
    if (own !== undefined) return own;
    const a = await this.getAccount(address);
    if (a === undefined || equalBytes(a.codeHash, KECCAK256_NULL)) return new Uint8Array(0);
    return this.state.code(key);
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length;
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    const a = addressHex(address);
    const s = slotHex(key);
    const top = this.top;
    const own = top.storage.get(`${a}_${s}`);
    if (own !== undefined) return own;
    if (top.cleared.has(a)) return new Uint8Array(0);
    return bigIntToUnpaddedBytes(await this.state.storage(a, s));
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    this.top.storage.set(`${addressHex(address)}_${slotHex(key)}`, value);
  }

  async clearStorage(address: Address): Promise<void> {
    const a = addressHex(address);
    const top = this.top;
    top.cleared.add(a);
    for (const k of [...top.storage.keys()]) if (k.startsWith(`${a}_`)) top.storage.delete(k);
  }

  async checkpoint(): Promise<void> {
    const t = this.top;
    this.layers.push({
      accounts: new Map(t.accounts),
      code: new Map(t.code),
      storage: new Map(t.storage),
      cleared: new Set(t.cleared),
    });
  }

  async commit(): Promise<void> {
    this.layers.splice(-2, 1);
  }

  async revert(): Promise<void> {
    this.layers.pop();
  }

  clearCaches(): void {}

  // A call never computes or switches state roots.
  async getStateRoot(): Promise<Uint8Array> {
    throw new Error('VerifiedStateManager: state roots are not computed for calls');
  }
  async setStateRoot(): Promise<void> {
    throw new Error('VerifiedStateManager: state roots are not computed for calls');
  }
  async hasStateRoot(): Promise<boolean> {
    return false;
  }
  shallowCopy(): StateManagerInterface {
    throw new Error('VerifiedStateManager: not copyable (one per call)');
  }
}
