/**
 * The native crypto and the shared Common behind the engine's speed: they must give exactly what
 * noble (ethereumjs's defaults) gives, and a block built with them must be the block stock ethereumjs
 * builds and validates.
 */
import { createBlock } from '@ethereumjs/block';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { MerkleStateManager } from '@ethereumjs/statemanager';
import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx';
import { Account, Address } from '@ethereumjs/util';
import { createVM, runBlock } from '@ethereumjs/vm';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDevnetCommon, createEngine, ecrecover, ecsign, keccak256 } from '../../../src/devnet/evm/index.js';
import { attrs, devKeys, LOAD_TOKEN_ADDRESS, prefund, signTx, tokenMint } from './helpers.js';

describe('native crypto', () => {
  it('keccak256 equals noble on any input, with a buffer of its own', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        const h = keccak256(data);
        expect(Buffer.from(h).equals(Buffer.from(keccak_256(data)))).toBe(true);
        expect(h.byteOffset).toBe(0);
        expect(h.buffer.byteLength).toBe(32);
      }),
      { numRuns: 300 },
    );
  });

  it('ecsign equals noble (RFC 6979, low s, recovered format) and ecrecover inverts it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (msg, seed) => {
          const key = keccak_256(seed);
          const native = ecsign(msg, key);
          const noble = secp256k1.sign(msg, key, { prehash: false, format: 'recovered' });
          expect(Buffer.from(native).equals(Buffer.from(noble))).toBe(true);
          const pub = secp256k1.getPublicKey(key, false).subarray(1);
          const r = native.subarray(1, 33);
          const s = native.subarray(33);
          expect(Buffer.from(ecrecover(msg, BigInt(native[0]!), r, s)).equals(Buffer.from(pub))).toBe(true);
          expect(Buffer.from(ecrecover(msg, 27n + BigInt(native[0]!), r, s)).equals(Buffer.from(pub))).toBe(true);
          expect(
            Buffer.from(ecrecover(msg, 121212n * 2n + 35n + BigInt(native[0]!), r, s, 121212n)).equals(
              Buffer.from(pub),
            ),
          ).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
    const msg = new Uint8Array(32).fill(1);
    expect(() => ecrecover(msg, 2n, new Uint8Array(32).fill(1), new Uint8Array(32).fill(1))).toThrow();
    expect(() => ecrecover(msg, 0n, new Uint8Array(32), new Uint8Array(32).fill(1))).toThrow();
    expect(() => ecrecover(msg, 0n, new Uint8Array(32).fill(0xff), new Uint8Array(32).fill(1))).toThrow();
  });

  it('the shared Common refuses a hardfork switch and applies params once', () => {
    const common = createDevnetCommon(121212n);
    expect(common.copy()).toBe(common);
    expect(common.hardfork()).toBe(Hardfork.Shanghai);
    expect(common.isActivatedEIP(4895)).toBe(true);
    expect(common.isActivatedEIP(4844)).toBe(false);
    expect(() => common.setHardfork(Hardfork.Cancun)).toThrow(/fixed at shanghai/);
    common.setHardfork(Hardfork.Shanghai);
  });
});

describe('devnet fast path vs stock ethereumjs', () => {
  it('blocks built by the engine pass stock ethereumjs runBlock (default Common, noble crypto, no caches)', async () => {
    const keys = devKeys(6, 3);
    const engine = await createEngine({ alloc: prefund(keys) });
    // stock setup: a plain Common (Shanghai, chain 121212), plain state manager, same genesis state
    const common = createCustomCommon({ chainId: 121212 }, Mainnet, { hardfork: Hardfork.Shanghai });
    const stateManager = new MerkleStateManager({ common });
    const vm = await createVM({ common, stateManager });
    const genesisAccounts = await engine.core.withState(engine.core.head(), async (state) => {
      const out: [Address, Account | undefined, Uint8Array][] = [];
      for (const a of [
        ...keys.map((k) => k.address),
        '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
        LOAD_TOKEN_ADDRESS,
      ]) {
        const addr = new Address(Buffer.from(a.slice(2), 'hex'));
        out.push([addr, await state.getAccount(addr), await state.getCode(addr)]);
      }
      return out;
    });
    await stateManager.checkpoint();
    for (const [addr, account, code] of genesisAccounts) {
      await stateManager.putAccount(addr, new Account(account!.nonce, account!.balance));
      if (code.length > 0) await stateManager.putCode(addr, code);
    }
    await stateManager.commit();
    expect(Buffer.from(await stateManager.getStateRoot()).toString('hex')).toBe(
      engine.genesisPayload().stateRoot.slice(2),
    );

    let parent = engine.genesisPayload();
    for (let b = 0; b < 5; b++) {
      const txs = keys.map((k, i) =>
        i % 2 === 0
          ? signTx(
              k,
              { nonce: BigInt(b), to: keys[(i + 1) % keys.length]!.address, value: 1000n },
              (b % 3) as 0 | 1 | 2,
            )
          : signTx(k, { nonce: BigInt(b), to: LOAD_TOKEN_ADDRESS, data: tokenMint(k.address, 5n), gasLimit: 100_000n }),
      );
      const built = await engine.buildPayload(
        attrs(parent.blockHash, parent.timestamp + 3n, {
          transactions: txs,
          withdrawals: [{ index: 0n, validatorIndex: 0n, address: keys[0]!.address, amount: 1234n }],
        }),
      );
      const p = built.payload;
      const rpcBlock = (
        (await engine.handleRpc({
          jsonrpc: '2.0',
          id: 1,
          method: 'eth_getBlockByHash',
          params: [p.blockHash, false],
        })) as { result: Record<string, string> }
      ).result;
      const block = createBlock(
        {
          header: {
            parentHash: Buffer.from(p.parentHash.slice(2), 'hex'),
            coinbase: new Address(Buffer.from(p.feeRecipient.slice(2), 'hex')),
            stateRoot: Buffer.from(p.stateRoot.slice(2), 'hex'),
            receiptTrie: Buffer.from(p.receiptsRoot.slice(2), 'hex'),
            logsBloom: Buffer.from(p.logsBloom.slice(2), 'hex'),
            number: p.blockNumber,
            gasLimit: p.gasLimit,
            gasUsed: p.gasUsed,
            timestamp: p.timestamp,
            extraData: Buffer.from(p.extraData.slice(2), 'hex'),
            mixHash: Buffer.from(p.prevRandao.slice(2), 'hex'),
            baseFeePerGas: p.baseFeePerGas,
            difficulty: 0n,
            transactionsTrie: Buffer.from(rpcBlock['transactionsRoot']!.slice(2), 'hex'),
            withdrawalsRoot: Buffer.from(rpcBlock['withdrawalsRoot']!.slice(2), 'hex'),
          },
          transactions: p.transactions.map((t) => createTxFromRLP(Buffer.from(t.slice(2), 'hex'), { common })),
          withdrawals: p.withdrawals,
        },
        { common, calcDifficultyFromHeader: undefined },
      );
      expect(Buffer.from(block.hash()).toString('hex')).toBe(p.blockHash.slice(2));
      expect(await block.transactionsTrieIsValid()).toBe(true);
      expect(await block.withdrawalsTrieIsValid()).toBe(true);
      // runBlock re-executes and checks gas used, receipts root, logs bloom and state root
      const result = await runBlock(vm, { block, skipHeaderValidation: true, skipHardForkValidation: true });
      expect(Buffer.from(result.stateRoot).toString('hex')).toBe(p.stateRoot.slice(2));
      expect(result.gasUsed).toBe(p.gasUsed);
      parent = p;
    }
    const sample = createFeeMarket1559Tx(
      { chainId: 121212n, nonce: 0n, gasLimit: 21_000n, maxFeePerGas: 1n },
      { common },
    ).sign(keys[0]!.key);
    expect(sample.getSenderAddress().toString()).toBe(keys[0]!.address);
  });
});
