/**
 * The bridge on the regtest chain: wallet peg-ins are recognised by src/protocol's `parsePegIn`,
 * and peg-outs signed with src/protocol's `signPegout`/`finalizePegout` (federation of secret keys
 * 1,2,3, threshold 2) spending federation UTXOs are accepted and mined, while broken ones are
 * refused. `checkPegoutSignatures` (Alys's rule) is the independent oracle.
 */
import { describe, expect, it } from 'vitest';
import * as btc from '@scure/btc-signer';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, concatBytes, reverse } from '../../../src/protocol/bytes.js';
import { encodeTransaction } from '../../../src/protocol/bitcoin/tx.js';
import {
  checkPegoutProposal,
  checkPegoutSignatures,
  createFederation,
  federationAddress,
  finalizePegout,
  outpointKey,
  parsePegIn,
  PEGOUT_INPUT_SEQUENCE,
  signPegout,
  toDisplayHex,
  txid,
  VerificationError,
  type Federation,
  type Transaction,
  type TxOut,
} from '../../../src/protocol/index.js';
import {
  createWallet,
  REGTEST_NETWORK,
  TxRejectedError,
  type RegtestChain,
} from '../../../src/devnet/bitcoin/index.js';
import { chainWithFaucet, flipBit, p2wpkhOf, pubkeyOf, secretKey } from './helpers.js';

const federation = createFederation([1, 2, 3].map(pubkeyOf));
const FED_ADDRESS = federationAddress(federation, 'regtest');
const EVM = '0xF9A9aB6e9C1bd3F04b3c2d4Ab4a8b6Ff1e2d3c4B';
const aux = (i: number) => new Uint8Array(32).fill(i + 1);

function refusedWith(chain: RegtestChain, tx: Transaction, reason: string, detail: RegExp): void {
  try {
    chain.broadcast(tx);
  } catch (err) {
    expect(err).toBeInstanceOf(TxRejectedError);
    expect((err as TxRejectedError).reason).toBe(reason);
    expect((err as TxRejectedError).detail).toMatch(detail);
    return;
  }
  throw new Error('the transaction was accepted');
}

/** A chain where the federation holds two peg-in UTXOs (3,000,000 and 4,000,000 sats). */
function pegged(fed: Federation = federation) {
  const { chain, faucet } = chainWithFaucet();
  const alice = createWallet(chain, 'alice');
  faucet.fund(alice.address, 5_000_000n);
  faucet.fund(alice.address, 5_000_000n);
  const address = federationAddress(fed, 'regtest');
  const p1 = alice.pegIn(EVM, 3_000_000n, address);
  const p2 = alice.pegIn(EVM, 4_000_000n, address);
  chain.mine(1);
  return { chain, faucet, alice, p1, p2 };
}

/** Alys's proposal shape: federation UTXOs in (sequence 0xfffffffd), peg-out(s), change to the federation. */
function proposal(
  chain: RegtestChain,
  fed: Federation,
  payTo: Uint8Array,
  amount: bigint,
  fee = 2_000n,
): { tx: Transaction; prevouts: TxOut[] } {
  const utxos = chain.utxos(fed.scriptPubkey);
  const total = utxos.reduce((a, u) => a + u.output.value, 0n);
  const tx: Transaction = {
    version: 2,
    lockTime: 0,
    inputs: utxos.map((u) => ({
      prevTxid: u.txid,
      prevVout: u.vout,
      scriptSig: new Uint8Array(0),
      sequence: PEGOUT_INPUT_SEQUENCE,
      witness: [],
    })),
    outputs: [
      { value: amount - fee, scriptPubkey: payTo },
      { value: total - amount, scriptPubkey: fed.scriptPubkey },
    ],
  };
  return { tx, prevouts: utxos.map((u) => u.output) };
}

describe('peg-in', () => {
  it('is the federation output, OP_RETURN OP_PUSHBYTES_20 <address>, change; parsePegIn recognises it', () => {
    expect(FED_ADDRESS).toBe('bcrt1pyjrtzxpj7vzpjz6kvps5c2ajhkupt8qk22ncdpdz23wdl5j7dp8qexkr43'); // spec 6.1, keys 1,2,3
    const { chain, p1 } = pegged();
    const tx = chain.transaction(p1.txid)!.tx;
    expect(chain.transaction(p1.txid)!.block).toBeDefined();
    expect(tx.outputs).toHaveLength(3);
    expect(bytesToHex(tx.outputs[0]!.scriptPubkey)).toBe(bytesToHex(federation.scriptPubkey));
    expect(tx.outputs[0]!.value).toBe(3_000_000n);
    // what `bitcoin-cli createrawtransaction [...] '{"data":"f9a9..."}'` writes
    expect(bytesToHex(tx.outputs[1]!.scriptPubkey)).toBe('6a14' + EVM.slice(2).toLowerCase());
    expect(tx.outputs[1]!.value).toBe(0n);
    expect(parsePegIn(tx, federation)).toEqual({ amountSats: 3_000_000n, evmAddress: EVM.toLowerCase() });
    expect(
      chain
        .utxos(federation.scriptPubkey)
        .map((u) => u.output.value)
        .sort(),
    ).toEqual([3_000_000n, 4_000_000n]);
  });

  it('refuses an address Alys would not recognise (20 bytes of valid UTF-8), unless asked', () => {
    const { chain, faucet } = chainWithFaucet();
    const ascii = '0x' + '41'.repeat(20);
    expect(() => faucet.pegIn(ascii, 1_000_000n, FED_ADDRESS)).toThrow(/would not recognise/);
    const sent = faucet.pegIn(ascii, 1_000_000n, FED_ADDRESS, { allowUnrecognised: true });
    expect(parsePegIn(sent.tx, federation)).toBeNull();
    expect(() => faucet.pegIn('0x1234', 1_000_000n, FED_ADDRESS)).toThrow(/20-byte EVM address/);
    expect(() => faucet.pegIn(EVM, 1_000_000n, faucet.address)).toThrow(/not a taproot/);
    expect(chain.mempool()).toHaveLength(1);
  });
});

describe('peg-out', () => {
  it('signed with signPegout/finalizePegout (keys 1,2 of 1,2,3) is accepted and mined', () => {
    const { chain } = pegged();
    const payTo = p2wpkhOf(5);
    const { tx, prevouts } = proposal(chain, federation, payTo, 2_500_000n);
    const spendable = new Set(chain.utxos(federation.scriptPubkey).map((u) => outpointKey(u.txid, u.vout)));
    checkPegoutProposal(tx, [{ value: 2_500_000n, scriptPubkey: payTo }], federation, spendable);
    const signed = finalizePegout(tx, federation, [
      signPegout(tx, prevouts, federation, secretKey(1), aux),
      signPegout(tx, prevouts, federation, secretKey(3), aux),
    ]);
    checkPegoutSignatures(signed, federation, prevouts); // Alys accepts it
    const id = chain.broadcast(signed);
    expect(toDisplayHex(id)).toBe(toDisplayHex(txid(tx)));
    const [block] = chain.mine(1);
    expect(block!.transactions.map((t) => toDisplayHex(txid(t)))).toContain(toDisplayHex(id));
    expect(chain.utxos(payTo)[0]!.output.value).toBe(2_498_000n);
    expect(chain.utxos(federation.scriptPubkey).map((u) => u.output.value)).toEqual([4_500_000n]);
  });

  it('with a bad signature, too few signatures, swapped slots or a wrong control block is refused', () => {
    const { chain } = pegged();
    const { tx, prevouts } = proposal(chain, federation, p2wpkhOf(5), 2_500_000n);
    const s1 = signPegout(tx, prevouts, federation, secretKey(1), aux);
    const s2 = signPegout(tx, prevouts, federation, secretKey(2), aux);
    const good = finalizePegout(tx, federation, [s1, s2]);
    // witness: [sig key2, sig key1, script, control] reversed key order -> [sig3?, sig2, sig1] with key 3 empty
    expect(good.inputs[0]!.witness.map((w) => w.length)).toEqual([0, 64, 64, federation.script.length, 33]);

    const badSig = finalizePegout(tx, federation, [
      s1,
      { ...s2, signatures: s2.signatures.map((s, i) => (i === 1 ? flipBit(s, 7) : s)) },
    ]);
    expect(() => checkPegoutSignatures(badSig, federation, prevouts)).toThrow(VerificationError);
    refusedWith(chain, badSig, 'mandatory-script-verify-flag-failed', /input 1: Invalid Schnorr signature/);

    const oneSig = structuredClone(good);
    for (const input of oneSig.inputs) input.witness[1] = new Uint8Array(0);
    refusedWith(chain, oneSig, 'mandatory-script-verify-flag-failed', /1 of the required 2 signatures/);

    const swapped = structuredClone(good);
    for (const input of swapped.inputs) [input.witness[1], input.witness[2]] = [input.witness[2]!, input.witness[1]!];
    refusedWith(chain, swapped, 'mandatory-script-verify-flag-failed', /Invalid Schnorr signature/);

    const wrongParity = structuredClone(good);
    for (const input of wrongParity.inputs)
      input.witness[4] = Uint8Array.from([input.witness[4]![0]! ^ 1, ...input.witness[4]!.subarray(1)]);
    refusedWith(chain, wrongParity, 'mandatory-script-verify-flag-failed', /Witness program hash mismatch/);

    const shortStack = structuredClone(good);
    for (const input of shortStack.inputs) input.witness.splice(0, 1);
    refusedWith(chain, shortStack, 'mandatory-script-verify-flag-failed', /exactly 3 stack elements/);

    const otherScript = structuredClone(good);
    const fed2 = createFederation([4, 5, 6].map(pubkeyOf));
    for (const input of otherScript.inputs) input.witness[3] = fed2.script;
    refusedWith(chain, otherScript, 'mandatory-script-verify-flag-failed', /Witness program hash mismatch/);

    expect(chain.mempool()).toEqual([]);
    chain.broadcast(good);
    expect(chain.mempool()).toHaveLength(1);
  });

  it('follows Bitcoin, not Alys, on extra signatures: all three keys is valid tapscript', () => {
    const { chain } = pegged();
    const { tx, prevouts } = proposal(chain, federation, p2wpkhOf(5), 2_500_000n);
    const sigs = [1, 2, 3].map((k) => signPegout(tx, prevouts, federation, secretKey(k), aux));
    const all = structuredClone(tx);
    all.inputs.forEach((input, i) => {
      input.witness = [
        sigs[2]!.signatures[i]!,
        sigs[1]!.signatures[i]!,
        sigs[0]!.signatures[i]!,
        federation.script,
        federation.controlBlock,
      ];
    });
    expect(() => checkPegoutSignatures(all, federation, prevouts)).toThrow(/witness-length|signature\(s\)/);
    chain.broadcast(all);
  });

  it('accepts explicit SIGHASH_ALL (65-byte) federation signatures made with btc-signer digests', () => {
    const { chain } = pegged();
    const { tx, prevouts } = proposal(chain, federation, p2wpkhOf(5), 2_500_000n);
    const signer = btc.Transaction.fromRaw(encodeLegacy(tx), { allowUnknownOutputs: true });
    const scripts = prevouts.map((p) => p.scriptPubkey);
    const amounts = prevouts.map((p) => p.value);
    const signed = structuredClone(tx);
    signed.inputs.forEach((input, i) => {
      const digest = signer.preimageWitnessV1(i, scripts, btc.SigHash.ALL, amounts, -1, federation.script, 0xc0);
      const sig = (k: number) =>
        concatBytes(schnorr.sign(digest, secretKey(k), aux(k)), Uint8Array.of(btc.SigHash.ALL));
      input.witness = [new Uint8Array(0), sig(2), sig(1), federation.script, federation.controlBlock];
    });
    chain.broadcast(signed);
    chain.mine(1);
    expect(chain.transaction(txid(signed))!.block).toBeDefined();
  });

  it('works for other federations too (4,5,6 and the 1-key DEV federation)', () => {
    for (const keys of [[4, 5, 6], [1]]) {
      const fed = createFederation(keys.map(pubkeyOf));
      const { chain } = pegged(fed);
      const { tx, prevouts } = proposal(chain, fed, p2wpkhOf(5), 1_000_000n);
      const members = keys.slice(0, fed.threshold).map((k) => signPegout(tx, prevouts, fed, secretKey(k), aux));
      chain.broadcast(finalizePegout(tx, fed, members));
      chain.mine(1);
      expect(chain.utxos(p2wpkhOf(5))[0]!.output.value).toBe(998_000n);
    }
  });

  it('refuses other tapscripts with a clear error', () => {
    const { chain, faucet } = chainWithFaucet();
    const xonly = schnorr.getPublicKey(secretKey(21));
    const tree = { script: btc.Script.encode([xonly, 'CHECKSIG']) };
    const payment = btc.p2tr(undefined, tree, REGTEST_NETWORK, true);
    const funded = faucet.send(payment.address!, 200_000n);
    chain.mine(1);
    const vout = funded.tx.outputs.findIndex((o) => bytesToHex(o.scriptPubkey) === bytesToHex(payment.script));
    const t = new btc.Transaction({ allowUnknownOutputs: true });
    t.addInput({
      txid: reverse(funded.txid),
      index: vout,
      witnessUtxo: { script: payment.script, amount: 200_000n },
      ...payment,
    });
    t.addOutput({ script: p2wpkhOf(5), amount: 190_000n });
    t.sign(secretKey(21));
    t.finalize();
    const raw = t.extract();
    try {
      chain.broadcast(raw);
      throw new Error('accepted');
    } catch (err) {
      expect((err as TxRejectedError).reason).toBe('bad-txns-nonstandard-inputs');
      expect((err as TxRejectedError).detail).toMatch(/unsupported tapscript/);
    }
  });
});

function encodeLegacy(tx: Transaction): Uint8Array {
  return encodeTransaction(tx, { witness: false });
}
