/**
 * Mempool acceptance: wallet payments confirm and balances add up; double spends, bad
 * signatures, overspends, immature coinbase spends and unsupported scripts are refused with
 * Core's reject reasons, and a refused transaction changes nothing (the exported chain, which
 * holds blocks, UTXO set and mempool, is byte-identical before and after).
 */
import { describe, expect, it } from 'vitest';
import * as btc from '@scure/btc-signer';
import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, reverse } from '../../../src/protocol/bytes.js';
import {
  decodeTransaction,
  encodeTransaction,
  toDisplayHex,
  txid,
  type Transaction,
} from '../../../src/protocol/index.js';
import {
  createWallet,
  scriptToAddress,
  TxRejectedError,
  type RegtestChain,
} from '../../../src/devnet/bitcoin/index.js';
import { chainWithFaucet, flipBit, p2wpkhOf, pubkeyOf, secretKey, signP2wpkhInput, unsignedTx } from './helpers.js';

const fingerprint = (chain: RegtestChain): string => bytesToHex(sha256(chain.exportChain()));

/** Expect `fn` to be refused with `reason`, and the chain to be unchanged afterwards. */
function expectRefused(
  chain: RegtestChain,
  fn: () => unknown,
  reason: string | RegExp,
  detail?: RegExp,
): TxRejectedError {
  const before = fingerprint(chain);
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TxRejectedError);
  const err = caught as TxRejectedError;
  if (typeof reason === 'string') expect(err.reason).toBe(reason);
  else expect(err.reason).toMatch(reason);
  if (detail) expect(err.detail).toMatch(detail);
  expect(fingerprint(chain)).toBe(before);
  return err;
}

/** A chain where secret key 7 owns two confirmed P2WPKH outputs of 1,000,000 and 2,000,000 sats. */
function setup() {
  const { chain, faucet } = chainWithFaucet();
  const address = scriptToAddress(p2wpkhOf(7))!;
  const a = faucet.send(address, 1_000_000n);
  const b = faucet.send(address, 2_000_000n);
  chain.mine(1);
  const coinA = { txid: a.txid, vout: 0, output: { value: 1_000_000n, scriptPubkey: p2wpkhOf(7) } };
  const coinB = { txid: b.txid, vout: 0, output: { value: 2_000_000n, scriptPubkey: p2wpkhOf(7) } };
  return { chain, faucet, coinA, coinB };
}

function pay(
  coin: { txid: Uint8Array; vout: number; output: { value: bigint; scriptPubkey: Uint8Array } },
  to: Uint8Array,
  value: bigint,
  k = 7,
): Transaction {
  const tx = unsignedTx([{ txid: coin.txid, vout: coin.vout }], [{ value, scriptPubkey: to }]);
  return signP2wpkhInput(tx, 0, coin.output, k);
}

describe('wallet payments', () => {
  it('confirm after mining and the balances add up', () => {
    const { chain, faucet } = chainWithFaucet();
    const alice = createWallet(chain, 'alice');
    const bob = createWallet(chain, 'bob');
    const holdings = () => faucet.balance() + faucet.immatureBalance();
    const before = holdings();
    const sent = faucet.send(alice.address, 250_000n);
    expect(chain.transaction(sent.txid)!.block).toBeUndefined();
    expect(chain.mempool().map((e) => toDisplayHex(e.txid))).toEqual([toDisplayHex(sent.txid)]);
    expect(alice.balance()).toBe(0n); // confirmed coins only
    const [block] = chain.mine(1);
    expect(chain.transaction(sent.txid)!.block!.height).toBe(block!.height);
    expect(chain.mempool()).toEqual([]);
    expect(alice.balance()).toBe(250_000n);
    // the faucet paid amount + fee (mining one block matured one more of its coinbases, hence
    // mature + immature; the new block paid the chain's default script, not the faucet)
    expect(before - holdings()).toBe(250_000n + sent.fee);
    // 1..2 sat/vB
    expect(Number(sent.fee) / sent.vsize).toBeGreaterThanOrEqual(1);
    expect(Number(sent.fee) / sent.vsize).toBeLessThanOrEqual(2);
    expect(sent.vsize).toBe(
      Math.ceil((encodeTransaction(sent.tx, { witness: false }).length * 3 + sent.raw.length) / 4),
    );

    // alice pays bob from her P2WPKH coin, bob pays alice's P2TR address, alice spends that P2TR coin (key path)
    const s1 = alice.send(bob.address, 100_000n);
    chain.mine(1);
    expect(bob.balance()).toBe(100_000n);
    expect(alice.balance()).toBe(250_000n - 100_000n - s1.fee);
    const s2 = bob.send(alice.p2tr.address, 40_000n);
    chain.mine(1);
    expect(alice.utxos().some((u) => bytesToHex(u.output.scriptPubkey) === bytesToHex(alice.p2tr.scriptPubkey))).toBe(
      true,
    );
    const aliceBefore = alice.balance();
    const s3 = alice.send(bob.p2tr.address, aliceBefore - 1_000n, { feeRate: 1 });
    expect(s3.tx.inputs.some((i) => i.witness.length === 1 && i.witness[0]!.length === 64)).toBe(true); // a key-path input
    chain.mine(1);
    expect(alice.balance() + bob.balance()).toBe(250_000n - s1.fee - s2.fee - s3.fee);
  });

  it('a payment may spend an unconfirmed output; both are mined in order', () => {
    const { chain, coinA } = setup();
    const parent = pay(coinA, p2wpkhOf(8), 990_000n);
    const parentId = chain.broadcast(parent);
    const child = pay({ txid: parentId, vout: 0, output: parent.outputs[0]! }, p2wpkhOf(9), 980_000n, 8);
    chain.broadcast(child);
    const [block] = chain.mine(1);
    expect(block!.transactions.slice(1).map((t) => toDisplayHex(txid(t)))).toEqual([
      toDisplayHex(parentId),
      toDisplayHex(txid(child)),
    ]);
    expect(chain.utxos(p2wpkhOf(9))[0]!.output.value).toBe(980_000n);
  });

  it('OP_RETURN data and insufficient funds', () => {
    const { chain, faucet } = chainWithFaucet();
    const sent = faucet.send(createWallet(chain, 'z').address, 5_000n, { opReturn: new TextEncoder().encode('hello') });
    expect(bytesToHex(sent.tx.outputs[1]!.scriptPubkey)).toBe('6a05' + bytesToHex(new TextEncoder().encode('hello')));
    const poor = createWallet(chain, 'poor');
    expect(() => poor.send(faucet.address, 1_000n)).toThrow(/insufficient funds/);
    expect(() => faucet.send('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 1_000n)).toThrow(/mainnet address/);
    expect(() => faucet.send('nonsense', 1_000n)).toThrow(/not a Bitcoin address/);
    expect(() => faucet.send(poor.address, 0n)).toThrow(/positive/);
  });
});

describe('refusals change nothing', () => {
  it('double spends: in the mempool, and of an output spent in a block', () => {
    const { chain, coinA } = setup();
    const first = pay(coinA, p2wpkhOf(8), 990_000n);
    chain.broadcast(first);
    const second = pay(coinA, p2wpkhOf(9), 980_000n);
    expectRefused(chain, () => chain.broadcast(second), 'txn-mempool-conflict', /already spends/);
    chain.mine(1);
    const err = expectRefused(chain, () => chain.broadcast(second), 'bad-txns-inputs-missingorspent', /already spent/);
    expect(err.rpcCode).toBe(-25);
    // re-broadcasting a confirmed transaction
    expect(expectRefused(chain, () => chain.broadcast(first), 'Transaction already in block chain').rpcCode).toBe(-27);
  });

  it('an identical re-broadcast of a mempool transaction answers with its txid', () => {
    const { chain, coinA } = setup();
    const tx = pay(coinA, p2wpkhOf(8), 990_000n);
    const id = chain.broadcast(tx);
    expect(toDisplayHex(chain.broadcast(encodeTransaction(tx)))).toBe(toDisplayHex(id));
    expect(chain.mempool()).toHaveLength(1);
  });

  it('bad P2WPKH signatures: flipped bit, wrong key, transaction changed after signing, bad hash type', () => {
    const { chain, coinA } = setup();
    const good = pay(coinA, p2wpkhOf(8), 990_000n);
    const flipped = structuredClone(good);
    flipped.inputs[0]!.witness[0] = flipBit(good.inputs[0]!.witness[0]!, 40);
    expectRefused(chain, () => chain.broadcast(flipped), 'mandatory-script-verify-flag-failed', /input 0/);
    const wrongKey = pay(coinA, p2wpkhOf(8), 990_000n, 9);
    expectRefused(
      chain,
      () => chain.broadcast(wrongKey),
      'mandatory-script-verify-flag-failed',
      /Witness program hash mismatch/,
    );
    const changed = structuredClone(good);
    changed.outputs[0]!.value = 980_000n;
    expectRefused(chain, () => chain.broadcast(changed), 'mandatory-script-verify-flag-failed', /does not verify/);
    const oddType = signP2wpkhInput(
      unsignedTx([coinA], [{ value: 990_000n, scriptPubkey: p2wpkhOf(8) }]),
      0,
      coinA.output,
      7,
      0x05,
    );
    expectRefused(chain, () => chain.broadcast(oddType), 'bad-txns-nonstandard-inputs', /hash type/);
    const noWitness = structuredClone(good);
    noWitness.inputs[0]!.witness = [];
    expectRefused(chain, () => chain.broadcast(noWitness), 'mandatory-script-verify-flag-failed', /empty witness/);
    const withScriptSig = structuredClone(good);
    withScriptSig.inputs[0]!.scriptSig = Uint8Array.of(0x51);
    expectRefused(
      chain,
      () => chain.broadcast(withScriptSig),
      'mandatory-script-verify-flag-failed',
      /empty scriptSig/,
    );
    // the good one still goes through
    chain.broadcast(good);
  });

  it('bad P2TR key-path signatures', () => {
    // Two identical chains (same clock, same seeds): the wallet signs a key-path spend on the
    // first; the second, which holds the same coin, gets broken copies of it.
    const taprootSetup = () => {
      const { chain, faucet } = chainWithFaucet();
      const owner = createWallet(chain, 'taproot-owner');
      faucet.send(owner.p2tr.address, 300_000n);
      chain.mine(1);
      return { chain, owner, faucet };
    };
    const a = taprootSetup();
    const sent = a.owner.send(a.faucet.address, 100_000n);
    const tx = decodeTransaction(sent.raw);
    expect(tx.inputs).toHaveLength(1);
    expect(tx.inputs[0]!.witness.map((w) => w.length)).toEqual([64]);
    const { chain } = taprootSetup();
    const mutate = (f: (t: Transaction) => void): Transaction => {
      const t = structuredClone(tx);
      f(t);
      return t;
    };
    const broken = mutate((t) => (t.inputs[0]!.witness[0] = flipBit(tx.inputs[0]!.witness[0]!, 10)));
    expectRefused(
      chain,
      () => chain.broadcast(broken),
      'mandatory-script-verify-flag-failed',
      /Invalid Schnorr signature/,
    );
    const otherOutput = mutate((t) => (t.outputs[0]!.value -= 1n));
    expectRefused(
      chain,
      () => chain.broadcast(otherOutput),
      'mandatory-script-verify-flag-failed',
      /Invalid Schnorr signature/,
    );
    const badSize = mutate((t) => (t.inputs[0]!.witness[0] = tx.inputs[0]!.witness[0]!.subarray(0, 63)));
    expectRefused(chain, () => chain.broadcast(badSize), 'mandatory-script-verify-flag-failed', /signature size/);
    const explicitDefault = mutate(
      (t) => (t.inputs[0]!.witness[0] = Uint8Array.from([...tx.inputs[0]!.witness[0]!, 0x00])),
    );
    expectRefused(chain, () => chain.broadcast(explicitDefault), 'mandatory-script-verify-flag-failed', /hash type/);
    const annex = mutate((t) => t.inputs[0]!.witness.push(Uint8Array.of(0x50, 1)));
    expectRefused(chain, () => chain.broadcast(annex), 'bad-txns-nonstandard-inputs', /annex/);
    // the untouched transaction is accepted by the second chain too
    expect(toDisplayHex(chain.broadcast(tx))).toBe(toDisplayHex(sent.txid));
  });

  it('a valid BIP341 key-path signature made independently (btc-signer + noble, SIGHASH_ALL) is accepted', () => {
    const { chain, faucet } = chainWithFaucet();
    const internal = schnorr.getPublicKey(secretKey(11));
    const pay11 = btc.p2tr(internal, undefined, { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef });
    const funded = faucet.send(pay11.address!, 500_000n);
    chain.mine(1);
    const vout = funded.tx.outputs.findIndex((o) => bytesToHex(o.scriptPubkey) === bytesToHex(pay11.script));
    const t = new btc.Transaction();
    t.addInput({
      txid: reverse(funded.txid),
      index: vout,
      witnessUtxo: { script: pay11.script, amount: 500_000n },
      tapInternalKey: internal,
      sighashType: btc.SigHash.ALL,
    });
    t.addOutput({ script: p2wpkhOf(3), amount: 499_000n });
    t.sign(secretKey(11), [btc.SigHash.ALL]);
    t.finalize();
    const raw = t.extract();
    expect(decodeTransaction(raw).inputs[0]!.witness[0]!.length).toBe(65);
    expect(toDisplayHex(chain.broadcast(raw))).toBe(t.id);
  });

  it('overspends, fees below the relay minimum, duplicate inputs, unknown inputs, garbage', () => {
    const { chain, coinA, coinB } = setup();
    const over = pay(coinA, p2wpkhOf(8), 1_000_001n);
    expectRefused(
      chain,
      () => chain.broadcast(over),
      'bad-txns-in-belowout',
      /value in \(0\.01\) < value out \(0\.01000001\)/,
    );
    const free = pay(coinA, p2wpkhOf(8), 1_000_000n);
    expectRefused(chain, () => chain.broadcast(free), 'min relay fee not met', /^0 < \d+/);
    const dup = unsignedTx([coinA, coinA], [{ value: 1_000_000n, scriptPubkey: p2wpkhOf(8) }]);
    signP2wpkhInput(dup, 0, coinA.output, 7);
    signP2wpkhInput(dup, 1, coinA.output, 7);
    expectRefused(chain, () => chain.broadcast(dup), 'bad-txns-inputs-duplicate');
    const unknown = pay({ ...coinB, txid: new Uint8Array(32).fill(9) }, p2wpkhOf(8), 1_000n);
    expect(
      expectRefused(chain, () => chain.broadcast(unknown), 'bad-txns-inputs-missingorspent', /unknown transaction/)
        .rpcCode,
    ).toBe(-25);
    const badVout = pay({ ...coinB, vout: 5 }, p2wpkhOf(8), 1_000n);
    expectRefused(chain, () => chain.broadcast(badVout), 'bad-txns-inputs-missingorspent');
    expect(expectRefused(chain, () => chain.broadcast(Uint8Array.of(1, 2, 3)), 'TX decode failed').rpcCode).toBe(-22);
    const trailing = Uint8Array.from([...encodeTransaction(pay(coinA, p2wpkhOf(8), 990_000n)), 0]);
    expectRefused(chain, () => chain.broadcast(trailing), 'TX decode failed', /trailing/);
    expectRefused(chain, () => chain.broadcast({} as Transaction), 'TX decode failed');
    const noOutputs = pay(coinA, p2wpkhOf(8), 1n);
    noOutputs.outputs = [];
    expectRefused(chain, () => chain.broadcast(noOutputs), 'bad-txns-vout-empty');
    const tooMuch = pay(coinA, p2wpkhOf(8), 21_000_001n * 100_000_000n);
    expectRefused(chain, () => chain.broadcast(tooMuch), 'bad-txns-vout-toolarge');
  });

  it('immature coinbase spends, until the coinbase has 100 confirmations', () => {
    const { chain } = chainWithFaucet();
    const [block] = chain.mine(1, p2wpkhOf(7));
    const coinbase = block!.transactions[0]!;
    const coin = { txid: txid(coinbase), vout: 0, output: coinbase.outputs[0]! };
    const spend = pay(coin, p2wpkhOf(8), coin.output.value - 1_000n);
    expectRefused(
      chain,
      () => chain.broadcast(spend),
      'bad-txns-premature-spend-of-coinbase',
      /tried to spend coinbase at depth 1 .*mine 99 more/,
    );
    chain.mine(98);
    expectRefused(chain, () => chain.broadcast(spend), 'bad-txns-premature-spend-of-coinbase', /depth 99/);
    chain.mine(1);
    chain.broadcast(spend);
    expect(chain.mempool()).toHaveLength(1);
  });

  it('coinbase maturity is configurable', () => {
    const { chain } = chainWithFaucet({ coinbaseMaturity: 3 });
    const [block] = chain.mine(1, p2wpkhOf(7));
    const coinbase = block!.transactions[0]!;
    const spend = pay(
      { txid: txid(coinbase), vout: 0, output: coinbase.outputs[0]! },
      p2wpkhOf(8),
      coinbase.outputs[0]!.value - 1_000n,
    );
    chain.mine(1);
    expectRefused(chain, () => chain.broadcast(spend), 'bad-txns-premature-spend-of-coinbase', /depth 2/);
    chain.mine(1);
    chain.broadcast(spend);
  });

  it('unsupported script types (P2PKH) are refused clearly', () => {
    const { chain, faucet } = chainWithFaucet();
    const p2pkhAddress = btc.p2pkh(pubkeyOf(12), { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef })
      .address!;
    const funded = faucet.send(p2pkhAddress, 100_000n);
    chain.mine(1);
    const tx = unsignedTx([{ txid: funded.txid, vout: 0 }], [{ value: 90_000n, scriptPubkey: p2wpkhOf(1) }]);
    tx.inputs[0]!.scriptSig = Uint8Array.of(0x01, 0x01);
    expectRefused(
      chain,
      () => chain.broadcast(tx),
      'bad-txns-nonstandard-inputs',
      /p2pkh output; the devnet chain verifies only P2WPKH/,
    );
  });

  it('lock times: a height lock in the future is non-final; relative locks are enforced', () => {
    const { chain, coinA, coinB } = setup();
    const next = chain.tipHeight() + 1;
    const locked = signP2wpkhInput(
      unsignedTx([{ ...coinA, sequence: 0xfffffffe }], [{ value: 990_000n, scriptPubkey: p2wpkhOf(8) }], next),
      0,
      coinA.output,
      7,
    );
    expectRefused(chain, () => chain.broadcast(locked), 'non-final', new RegExp(`height ${next}`));
    const unlocked = signP2wpkhInput(
      unsignedTx([{ ...coinA, sequence: 0xfffffffe }], [{ value: 990_000n, scriptPubkey: p2wpkhOf(8) }], next - 1),
      0,
      coinA.output,
      7,
    );
    chain.broadcast(unlocked);
    const relative = signP2wpkhInput(
      unsignedTx([{ ...coinB, sequence: 5 }], [{ value: 1_990_000n, scriptPubkey: p2wpkhOf(8) }]),
      0,
      coinB.output,
      7,
    );
    expectRefused(chain, () => chain.broadcast(relative), 'non-BIP68-final', /5 blocks/);
    chain.mine(4);
    chain.broadcast(relative);
  });
});
