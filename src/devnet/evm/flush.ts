/**
 * The engine's state manager: ethereumjs's MerkleStateManager with its cache flush (where a block's
 * state changes reach the trie) done as two batch updates (engine/trie-batch.ts): all storage writes
 * of an account in one pass over its storage trie, then all accounts in one pass over the account
 * trie. Same tries, same nodes, same roots as ethereumjs's one-put-at-a-time flush (tested), ~4x
 * less time per block. Code writes (contract deployments) still take ethereumjs's own path.
 */
import { RLP } from '@ethereumjs/rlp';
import { MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager';
import { createAddressFromString } from '@ethereumjs/util';
import { bytesToHex, fromHex } from '../../protocol/bytes.js';
import { applyTrieBatch, type Keccak, type NodeMap, type TrieOp } from './trie-batch.js';

export class BatchFlushStateManager extends MerkleStateManager {
  constructor(
    opts: MerkleStateManagerOpts,
    private readonly nodes: NodeMap,
    private readonly keccak: Keccak,
  ) {
    super(opts);
  }

  override async flush(): Promise<void> {
    const caches = this._caches;
    // inside a trie checkpoint new nodes live in the checkpoint's scratch, not in `nodes`: ethereumjs's way
    if (caches?.storage === undefined || caches.account === undefined || this._trie.hasCheckpoints())
      return super.flush();
    // storage: group by account, one batch per storage trie, then the account's new storage root
    const byAccount = new Map<string, TrieOp[]>();
    for (const [addressHex, keyHex, value] of caches.storage.flush()) {
      const decoded = RLP.decode(value ?? new Uint8Array(0));
      const ops = byAccount.get(addressHex) ?? [];
      ops.push({
        key: this.keccak(fromHex(keyHex)),
        value: decoded instanceof Uint8Array && decoded.length > 0 ? RLP.encode(decoded) : null,
      });
      byAccount.set(addressHex, ops);
    }
    for (const [addressHex, ops] of byAccount) {
      const address = createAddressFromString(`0x${addressHex}`);
      const account = await this.getAccount(address);
      if (account === undefined) continue; // as ethereumjs: storage of a deleted account is dropped
      account.storageRoot = applyTrieBatch(this.nodes, account.storageRoot, ops, this.keccak);
      await this.putAccount(address, account);
      delete this._storageTries[addressHex];
      delete this._storageTries[bytesToHex(this.keccak(address.bytes))];
    }
    // accounts (including the storage roots just updated)
    const ops: TrieOp[] = [];
    for (const [addressHex, elem] of caches.account.flush())
      ops.push({ key: this.keccak(fromHex(addressHex)), value: elem.accountRLP ?? null });
    if (ops.length > 0) this._trie.root(applyTrieBatch(this.nodes, this._trie.root(), ops, this.keccak));
    // code (rare: deployments) and whatever it touched, through ethereumjs
    await super.flush();
  }
}
