/**
 * Wallet keys and addresses (cross-checked with src/protocol and @scure/btc-signer), fee rates,
 * change, and the script helpers Esplora uses (ASM checked against src/protocol's independent
 * rust-bitcoin ASM tokenizer `lastAsmPushData`, addresses against btc-signer's encoder).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as btc from '@scure/btc-signer';
import { bytesToHex, concatBytes } from '../../../src/protocol/bytes.js';
import {
  createFederation,
  lastAsmPushData,
  p2trAddress,
  parseBitcoinAddress,
  taprootTweak,
} from '../../../src/protocol/index.js';
import {
  createWallet,
  esploraScriptType,
  opReturnScript,
  P2WPKH_DUST,
  REGTEST_NETWORK,
  scriptToAddress,
  scriptToAsm,
} from '../../../src/devnet/bitcoin/index.js';
import { chainWithFaucet, hash160, newChain, pubkeyOf } from './helpers.js';

describe('wallet keys and addresses', () => {
  it('are deterministic per seed, bcrt1q / bcrt1p, and agree with src/protocol', () => {
    const chain = newChain();
    const a = createWallet(chain, 'alice');
    const a2 = createWallet(chain, new TextEncoder().encode('alice'));
    const b = createWallet(chain, 'bob');
    expect(a.address).toBe(a2.address);
    expect(a.p2tr.address).toBe(a2.p2tr.address);
    expect(a.address).not.toBe(b.address);
    expect(a.address).toMatch(/^bcrt1q[02-9ac-hj-np-z]{38}$/);
    expect(a.p2tr.address).toMatch(/^bcrt1p[02-9ac-hj-np-z]{58}$/);
    expect(bytesToHex(a.scriptPubkey)).toBe('0014' + bytesToHex(hash160(a.p2wpkh.publicKey)));
    // BIP86-style: output key = TapTweak(internal, no script tree)
    const { outputKey } = taprootTweak(a.p2tr.internalKey, new Uint8Array(0));
    expect(bytesToHex(a.p2tr.outputKey)).toBe(bytesToHex(outputKey));
    expect(p2trAddress(outputKey, 'regtest')).toBe(a.p2tr.address);
    expect(bytesToHex(parseBitcoinAddress(a.address)!.scriptPubkey)).toBe(bytesToHex(a.scriptPubkey));
    expect(bytesToHex(parseBitcoinAddress(a.p2tr.address)!.scriptPubkey)).toBe(bytesToHex(a.p2tr.scriptPubkey));
    expect(() => createWallet(chain, '')).toThrow(/non-empty/);
  });

  it('pays the requested fee rate (1..2 sat/vB) and returns change above dust only', () => {
    const { chain, faucet } = chainWithFaucet();
    const bob = createWallet(chain, 'bob');
    for (const feeRate of [1, 1.5, 2]) {
      const sent = faucet.send(bob.address, 10_000n, { feeRate });
      const rate = Number(sent.fee) / sent.vsize;
      expect(rate).toBeGreaterThanOrEqual(Math.max(1, feeRate - 0.02));
      expect(rate).toBeLessThanOrEqual(feeRate);
      expect(sent.tx.outputs).toHaveLength(2);
      expect(bytesToHex(sent.tx.outputs[1]!.scriptPubkey)).toBe(bytesToHex(faucet.scriptPubkey));
    }
    expect(() => faucet.send(bob.address, 1_000n, { feeRate: 0.5 })).toThrow(/feeRate/);
    chain.mine(1);
    // bob spends everything but a few sats: the change would be dust, so it goes to the fee
    const carol = createWallet(chain, 'carol');
    const all = bob.balance();
    const sent = bob.send(carol.address, all - 600n);
    expect(sent.tx.outputs).toHaveLength(1);
    expect(sent.fee).toBe(600n);
    expect(P2WPKH_DUST).toBe(294n);
  });
});

describe('script helpers', () => {
  it('OP_RETURN pushes are minimal, as Core writes them', () => {
    expect(bytesToHex(opReturnScript(new Uint8Array(0)))).toBe('6a00');
    expect(bytesToHex(opReturnScript(new Uint8Array(20).fill(0xab)))).toBe('6a14' + 'ab'.repeat(20));
    expect(bytesToHex(opReturnScript(new Uint8Array(80)))).toBe('6a4c50' + '00'.repeat(80));
  });

  it('ASM renders like rust-bitcoin', () => {
    const h = bytesToHex(hash160(pubkeyOf(1)));
    expect(scriptToAsm(Uint8Array.from(Buffer.from(`76a914${h}88ac`, 'hex')))).toBe(
      `OP_DUP OP_HASH160 OP_PUSHBYTES_20 ${h} OP_EQUALVERIFY OP_CHECKSIG`,
    );
    const fed = createFederation([1, 2, 3].map(pubkeyOf));
    const [x0, x1, x2] = fed.xOnlyPubkeys.map((k) => bytesToHex(k));
    expect(scriptToAsm(fed.script)).toBe(
      `OP_PUSHBYTES_32 ${x0} OP_CHECKSIG OP_PUSHBYTES_32 ${x1} OP_CHECKSIGADD OP_PUSHBYTES_32 ${x2} OP_CHECKSIGADD OP_PUSHNUM_2 OP_GREATERTHANOREQUAL`,
    );
    expect(scriptToAsm(Uint8Array.of(0x00, 0x4f, 0x50, 0x61, 0xb1, 0xb2, 0xbb, 0xfe, 0xff))).toBe(
      'OP_0 OP_PUSHNUM_NEG1 OP_RESERVED OP_NOP OP_CLTV OP_CSV OP_RETURN_187 OP_RETURN_254 OP_INVALIDOPCODE',
    );
    expect(scriptToAsm(Uint8Array.of(0x4c, 0x02, 0xaa, 0xbb))).toBe('OP_PUSHDATA1 aabb');
    expect(scriptToAsm(Uint8Array.of(0x05, 0x01))).toBe('OP_PUSHBYTES_5 <push past end>');
    expect(scriptToAsm(Uint8Array.of(0x51, 0x4d, 0x01))).toBe('OP_PUSHNUM_1<unexpected end>');
    expect(scriptToAsm(new Uint8Array(0))).toBe('');
  });

  it('the last ASM token agrees with src/protocol lastAsmPushData on random scripts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (script) => {
        const tokens = scriptToAsm(script).split(' ');
        const last = tokens[tokens.length - 1]!;
        const data = lastAsmPushData(script);
        if (/^([0-9a-f]{2})+$/.test(last)) expect(data && bytesToHex(data)).toBe(last);
        else expect(data).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('addresses and types agree with btc-signer', () => {
    const pk = pubkeyOf(5);
    const cases = [
      btc.p2wpkh(pk, REGTEST_NETWORK),
      btc.p2pkh(pk, REGTEST_NETWORK),
      btc.p2tr(pk.subarray(1), undefined, REGTEST_NETWORK),
      btc.p2wsh(btc.p2pk(pk), REGTEST_NETWORK),
      btc.p2sh(btc.p2pk(pk), REGTEST_NETWORK),
    ];
    const types = cases.map((c) => esploraScriptType(c.script));
    expect(types).toEqual(['v0_p2wpkh', 'p2pkh', 'v1_p2tr', 'v0_p2wsh', 'p2sh']);
    for (const c of cases) expect(scriptToAddress(c.script)).toBe(c.address);
    expect(scriptToAddress(opReturnScript(new Uint8Array(4)))).toBeUndefined();
    expect(esploraScriptType(opReturnScript(new Uint8Array(4)))).toBe('op_return');
    expect(esploraScriptType(new Uint8Array(0))).toBe('empty');
    expect(esploraScriptType(concatBytes(Uint8Array.of(0x21), pk, Uint8Array.of(0xac)))).toBe('p2pk');
    expect(esploraScriptType(Uint8Array.of(0x51))).toBe('unknown');
  });
});
