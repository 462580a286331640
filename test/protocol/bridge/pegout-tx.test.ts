/**
 * Peg-out proposals and finalised peg-outs (alys-protocol.md 6.4). The federation of secret keys
 * 1,2,3 (Alys's own `test_bitcoin_signer` setup) signs a proposal; every part of the result is
 * then mutated and each mutation must be rejected with the right check. The BIP-341 digest is
 * cross-checked against @scure/btc-signer's independent `preimageWitnessV1`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as btc from '@scure/btc-signer';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, reverse } from '../../../src/protocol/bytes.js';
import { DecodeError, VerificationError } from '../../../src/protocol/errors.js';
import type { Transaction, TxOut } from '../../../src/protocol/types.js';
import { decodeTransaction, encodeTransaction, txid } from '../../../src/protocol/bitcoin/tx.js';
import { createFederation, p2trScriptPubkey } from '../../../src/protocol/bridge/taproot.js';
import { taprootSighash, taprootSighashes } from '../../../src/protocol/bridge/sighash.js';
import {
  checkFinalizedPegout,
  checkMemberSignatures,
  checkPegoutProposal,
  checkPegoutSignatures,
  finalizePegout,
  outpointKey,
  PEGOUT_INPUT_SEQUENCE,
  signPegout,
  signPegoutInput,
  type MemberSignatures,
} from '../../../src/protocol/bridge/pegout-tx.js';
import { cloneTx, pubkeyOf, secretKey, txArb } from './helpers.js';
import { expectCheck } from '../../helpers/expect.js';

const federation = createFederation([1, 2, 3].map(pubkeyOf));
const n = federation.pubkeys.length;
const aux = (seed: number) => () => new Uint8Array(32).fill(seed);

/** A proposal in Alys's shape: 2 federation UTXOs in, 2 peg-outs + change out. */
function makeProposal(): { proposal: Transaction; prevouts: TxOut[]; required: TxOut[] } {
  const prevouts: TxOut[] = [
    { value: 6_000_000n, scriptPubkey: federation.scriptPubkey },
    { value: 9_000_000n, scriptPubkey: federation.scriptPubkey },
  ];
  const required: TxOut[] = [
    { value: 5_000_000n, scriptPubkey: p2trScriptPubkey(new Uint8Array(32).fill(0x42)) },
    { value: 4_000_000n, scriptPubkey: Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(0x24)) },
  ];
  const proposal: Transaction = {
    version: 2,
    lockTime: 0,
    inputs: [0, 1].map((i) => ({
      prevTxid: new Uint8Array(32).fill(0x10 + i),
      prevVout: i,
      scriptSig: new Uint8Array(0),
      sequence: PEGOUT_INPUT_SEQUENCE,
      witness: [],
    })),
    outputs: [
      { value: 5_000_000n - 350n, scriptPubkey: required[0]!.scriptPubkey },
      { value: 4_000_000n - 350n, scriptPubkey: required[1]!.scriptPubkey },
      { value: 5_999_300n, scriptPubkey: federation.scriptPubkey },
    ],
  };
  return { proposal, prevouts, required };
}

function signWith(keys: number[], tx: Transaction, prevouts: TxOut[]): MemberSignatures[] {
  return keys.map((k) => signPegout(tx, prevouts, federation, secretKey(k), aux(k)));
}

// ---------------------------------------------------------------- sighash

describe('BIP-341 script-path sighash', () => {
  function btcSignerDigest(tx: Transaction, prevouts: TxOut[], index: number): Uint8Array {
    const t = new btc.Transaction({
      version: tx.version,
      lockTime: tx.lockTime,
      allowUnknownOutputs: true,
      allowUnknownInputs: true,
      disableScriptCheck: true,
    });
    for (const i of tx.inputs) t.addInput({ txid: reverse(i.prevTxid), index: i.prevVout, sequence: i.sequence });
    for (const o of tx.outputs) t.addOutput({ script: o.scriptPubkey, amount: o.value }, true);
    return t.preimageWitnessV1(
      index,
      prevouts.map((p) => p.scriptPubkey),
      btc.SigHash.DEFAULT,
      prevouts.map((p) => p.value),
      -1,
      federation.script,
      0xc0,
    );
  }

  it('equals @scure/btc-signer preimageWitnessV1 on random transactions and prevouts', () => {
    const arb = txArb
      .map((tx) => ({
        ...tx,
        version: Math.abs(tx.version % 2) + 1,
        outputs: tx.outputs.length ? tx.outputs : [{ value: 1n, scriptPubkey: Uint8Array.of(0x51) }],
      }))
      .chain((tx) =>
        fc.tuple(
          fc.constant(tx),
          fc.array(
            fc.record({
              value: fc.bigInt({ min: 0n, max: 2n ** 63n }),
              scriptPubkey: fc.uint8Array({ maxLength: 40 }),
            }),
            {
              minLength: tx.inputs.length,
              maxLength: tx.inputs.length,
            },
          ),
        ),
      );
    fc.assert(
      fc.property(arb, ([tx, prevouts]) => {
        const ours = taprootSighashes(tx, prevouts, federation.script);
        ours.forEach((digest, i) => {
          expect(bytesToHex(digest)).toBe(bytesToHex(btcSignerDigest(tx, prevouts, i)));
        });
      }),
      { numRuns: 100 },
    );
  });

  it('taprootSighash picks one input; bad index or prevout count is a DecodeError', () => {
    const { proposal, prevouts } = makeProposal();
    expect(taprootSighash(proposal, 1, prevouts, federation.script)).toEqual(
      taprootSighashes(proposal, prevouts, federation.script)[1],
    );
    expect(() => taprootSighash(proposal, 2, prevouts, federation.script)).toThrow(DecodeError);
    expect(() => taprootSighashes(proposal, prevouts.slice(1), federation.script)).toThrow(DecodeError);
  });
});

// ---------------------------------------------------------------- proposal check

describe('checkPegoutProposal (Alys check_payment_proposal)', () => {
  const { proposal, required } = makeProposal();
  const spendable = new Set(proposal.inputs.map((i) => outpointKey(i.prevTxid, i.prevVout)));

  it('accepts the honest proposal (with change), and without change', () => {
    checkPegoutProposal(proposal, required, federation, spendable);
    checkPegoutProposal(
      { ...proposal, outputs: proposal.outputs.slice(0, 2) },
      required,
      federation.scriptPubkey,
      () => true,
    );
  });

  it('outpointKey is "<display txid>:<vout>"', () => {
    expect(
      outpointKey(
        Uint8Array.from({ length: 32 }, (_, i) => i),
        7,
      ),
    ).toBe(`${bytesToHex(reverse(Uint8Array.from({ length: 32 }, (_, i) => i)))}:7`);
  });

  it('no proposal: fine iff nothing is required', () => {
    checkPegoutProposal(null, [], federation, spendable);
    expectCheck(() => checkPegoutProposal(null, required, federation, spendable), 'pegout.missing-proposal');
  });

  it('quirk: nothing required but a proposal with only a change output (or no outputs) passes', () => {
    checkPegoutProposal({ ...proposal, outputs: [proposal.outputs[2]!] }, [], federation, spendable);
    checkPegoutProposal({ ...proposal, outputs: [] }, [], federation, spendable);
  });

  it('one extra output must be change to the federation', () => {
    const bad = cloneTx(proposal);
    bad.outputs[2]!.scriptPubkey = required[0]!.scriptPubkey;
    expectCheck(() => checkPegoutProposal(bad, required, federation, spendable), 'pegout.change-output');
  });

  it('any other output count is rejected', () => {
    expectCheck(
      () =>
        checkPegoutProposal({ ...proposal, outputs: proposal.outputs.slice(0, 1) }, required, federation, spendable),
      'pegout.output-count',
    );
    expectCheck(
      () =>
        checkPegoutProposal(
          { ...proposal, outputs: [...proposal.outputs, proposal.outputs[2]!] },
          required,
          federation,
          spendable,
        ),
      'pegout.output-count',
    );
  });

  it('each peg-out output: same script, value at most the request (less is fine: fees)', () => {
    for (let i = 0; i < required.length; i++) {
      const wrongScript = cloneTx(proposal);
      wrongScript.outputs[i]!.scriptPubkey = Uint8Array.of(0x51);
      expectCheck(() => checkPegoutProposal(wrongScript, required, federation, spendable), 'pegout.output');
      const tooMuch = cloneTx(proposal);
      tooMuch.outputs[i]!.value = required[i]!.value + 1n;
      expectCheck(() => checkPegoutProposal(tooMuch, required, federation, spendable), 'pegout.output');
      const exact = cloneTx(proposal);
      exact.outputs[i]!.value = required[i]!.value;
      checkPegoutProposal(exact, required, federation, spendable);
      const zero = cloneTx(proposal);
      zero.outputs[i]!.value = 0n;
      checkPegoutProposal(zero, required, federation, spendable);
    }
    const swapped = cloneTx(proposal);
    [swapped.outputs[0], swapped.outputs[1]] = [swapped.outputs[1]!, swapped.outputs[0]!];
    expectCheck(() => checkPegoutProposal(swapped, required, federation, spendable), 'pegout.output');
  });

  it('every input must be an unspent federation UTXO (set or predicate)', () => {
    const oneSpent = new Set([...spendable].slice(0, 1));
    expectCheck(() => checkPegoutProposal(proposal, required, federation, oneSpent), 'pegout.unspendable-input');
    expectCheck(
      () => checkPegoutProposal(proposal, required, federation, (_t, vout) => vout === 0),
      'pegout.unspendable-input',
    );
    const otherVout = cloneTx(proposal);
    otherVout.inputs[0]!.prevVout = 5;
    expectCheck(() => checkPegoutProposal(otherVout, required, federation, spendable), 'pegout.unspendable-input');
  });

  it('version 2 and lock time 0 (checked last, as in Alys)', () => {
    expectCheck(
      () => checkPegoutProposal({ ...proposal, version: 1 }, required, federation, spendable),
      'pegout.header',
    );
    expectCheck(
      () => checkPegoutProposal({ ...proposal, lockTime: 1 }, required, federation, spendable),
      'pegout.header',
    );
    expectCheck(
      () => checkPegoutProposal({ ...proposal, version: 1, outputs: [] }, required, federation, spendable),
      'pegout.output-count',
    );
  });
});

// ---------------------------------------------------------------- signing and finalisation

describe('sign with keys 1,2,3, finalise, verify', () => {
  const { proposal, prevouts } = makeProposal();

  for (const signers of [
    [2, 3],
    [1, 3],
    [1, 2],
  ]) {
    it(`signers ${signers.join('+')}: witness = reverse-ordered sigs/empties, script, control block; verifies`, () => {
      const members = signWith(signers, proposal, prevouts);
      members.forEach((m) => {
        checkMemberSignatures(proposal, prevouts, federation, m);
      });
      const signed = finalizePegout(proposal, federation, members);
      expect(bytesToHex(txid(signed))).toBe(bytesToHex(txid(proposal)));
      signed.inputs.forEach((input, i) => {
        expect(input.witness.length).toBe(n + 2);
        for (let j = 0; j < n; j++) {
          const keyIndex = n - 1 - j; // witness position j ↔ pubkeys[n-1-j]
          const k = keyIndex + 1;
          if (signers.includes(k)) {
            expect(input.witness[j]!.length).toBe(64);
            expect(
              schnorr.verify(
                input.witness[j]!,
                taprootSighash(proposal, i, prevouts, federation.script),
                pubkeyOf(k).subarray(1),
              ),
            ).toBe(true);
          } else expect(input.witness[j]!.length).toBe(0);
        }
        expect(input.witness[n]).toEqual(federation.script);
        expect(input.witness[n + 1]).toEqual(federation.controlBlock);
      });
      checkFinalizedPegout(signed, proposal, federation, prevouts);
      // survives the consensus encoding round trip
      checkFinalizedPegout(decodeTransaction(encodeTransaction(signed)), proposal, federation, prevouts);
    });
  }

  it('signPegoutInput equals the per-input signature of signPegout for the same aux randomness', () => {
    const m = signPegout(proposal, prevouts, federation, secretKey(2), aux(9));
    expect(signPegoutInput(proposal, 1, prevouts, federation, secretKey(2), new Uint8Array(32).fill(9))).toEqual(
      m.signatures[1],
    );
    expect(m.pubkey).toEqual(pubkeyOf(2));
    expect(() => signPegoutInput(proposal, 2, prevouts, federation, secretKey(2))).toThrow(DecodeError);
    // default aux randomness still gives valid signatures
    checkMemberSignatures(proposal, prevouts, federation, signPegout(proposal, prevouts, federation, secretKey(3)));
  });

  it('finalizePegout needs exactly threshold distinct signers and a signature per input', () => {
    const [m1, m2, m3] = signWith([1, 2, 3], proposal, prevouts);
    expectCheck(() => finalizePegout(proposal, federation, [m1!]), 'pegout.signature-count');
    expectCheck(() => finalizePegout(proposal, federation, [m1!, m2!, m3!]), 'pegout.signature-count');
    expectCheck(() => finalizePegout(proposal, federation, [m1!, m1!]), 'pegout.signature-count');
    expectCheck(
      () => finalizePegout(proposal, federation, [m1!, { ...m2!, signatures: m2!.signatures.slice(0, 1) }]),
      'pegout.missing-signature',
    );
  });

  it('checkMemberSignatures rejects a wrong count, a bad signature, another signer', () => {
    const [m1, m2] = signWith([1, 2], proposal, prevouts);
    expectCheck(
      () => checkMemberSignatures(proposal, prevouts, federation, { ...m1!, signatures: m1!.signatures.slice(1) }),
      'pegout.signature-count',
    );
    expectCheck(
      () => checkMemberSignatures(proposal, prevouts, federation, { ...m1!, pubkey: m2!.pubkey }),
      'pegout.signature',
    );
    const flipped = m1!.signatures.map((s) => s.slice());
    flipped[1]![5]! ^= 1;
    expectCheck(
      () => checkMemberSignatures(proposal, prevouts, federation, { ...m1!, signatures: flipped }),
      'pegout.signature',
    );
  });
});

describe('checkFinalizedPegout: every mutation is rejected with the right check', () => {
  const { proposal, prevouts } = makeProposal();
  const signed = finalizePegout(proposal, federation, signWith([2, 3], proposal, prevouts));
  // witness = [sig(key3), sig(key2), <empty for key1>, script, control]
  const mutate = (f: (tx: Transaction) => void): Transaction => {
    const tx = cloneTx(signed);
    f(tx);
    return tx;
  };

  it('the untouched transaction passes', () => {
    checkFinalizedPegout(signed, proposal, federation, prevouts);
  });

  const txidCases: [string, (tx: Transaction) => void][] = [
    ['an output value', (tx) => (tx.outputs[2]!.value -= 1n)],
    ['an output script', (tx) => (tx.outputs[0]!.scriptPubkey = Uint8Array.of(0x51))],
    ['an input outpoint', (tx) => (tx.inputs[1]!.prevVout = 9)],
    ['an input sequence', (tx) => (tx.inputs[0]!.sequence = 0xffffffff)],
    ['a script_sig', (tx) => (tx.inputs[0]!.scriptSig = Uint8Array.of(0x51))],
    ['the version', (tx) => (tx.version = 1)],
    ['the lock time', (tx) => (tx.lockTime = 1)],
    ['an extra output', (tx) => tx.outputs.push({ value: 1n, scriptPubkey: federation.scriptPubkey })],
  ];
  for (const [name, f] of txidCases)
    it(`changed ${name} → pegout.finalized-txid`, () =>
      expectCheck(() => checkFinalizedPegout(mutate(f), proposal, federation, prevouts), 'pegout.finalized-txid'));

  const witnessCases: [string, (tx: Transaction) => void, string][] = [
    ['a witness element removed', (tx) => tx.inputs[0]!.witness.splice(2, 1), 'pegout.witness-length'],
    ['a witness element added', (tx) => tx.inputs[1]!.witness.push(new Uint8Array(0)), 'pegout.witness-length'],
    ['empty witness', (tx) => (tx.inputs[0]!.witness = []), 'pegout.witness-length'],
    [
      'one signature dropped (below threshold)',
      (tx) => (tx.inputs[1]!.witness[0] = new Uint8Array(0)),
      'pegout.witness-length',
    ],
    [
      'a third, valid signature added (more than threshold)',
      (tx) =>
        (tx.inputs[0]!.witness[2] = signPegoutInput(
          proposal,
          0,
          prevouts,
          federation,
          secretKey(1),
          new Uint8Array(32),
        )),
      'pegout.witness-length',
    ],
    ['a signature bit flipped', (tx) => (tx.inputs[0]!.witness[1]![10]! ^= 0x01), 'pegout.signature'],
    ['the s half of a signature flipped', (tx) => (tx.inputs[1]!.witness[0]![63]! ^= 0x80), 'pegout.signature'],
    [
      'two signatures swapped (key order)',
      (tx) => tx.inputs[0]!.witness.splice(0, 2, tx.inputs[0]!.witness[1]!, tx.inputs[0]!.witness[0]!),
      'pegout.signature',
    ],
    [
      'a signature moved to the empty slot',
      (tx) => {
        const w = tx.inputs[0]!.witness;
        [w[1], w[2]] = [w[2]!, w[1]!];
      },
      'pegout.signature',
    ],
    [
      'a sighash byte appended (65 bytes)',
      (tx) => (tx.inputs[0]!.witness[0] = Uint8Array.of(...tx.inputs[0]!.witness[0]!, 0x00)),
      'pegout.signature',
    ],
    [
      'a truncated signature',
      (tx) => (tx.inputs[0]!.witness[0] = tx.inputs[0]!.witness[0]!.subarray(0, 63)),
      'pegout.signature',
    ],
    [
      "input 0's signatures reused on input 1",
      (tx) => (tx.inputs[1]!.witness = tx.inputs[0]!.witness.map((e) => e.slice())),
      'pegout.signature',
    ],
    [
      'a signature by a non-member in a member slot',
      (tx) =>
        (tx.inputs[0]!.witness[0] = schnorr.sign(
          taprootSighash(proposal, 0, prevouts, federation.script),
          secretKey(4),
          new Uint8Array(32),
        )),
      'pegout.signature',
    ],
    ['the script changed', (tx) => (tx.inputs[0]!.witness[n]![1]! ^= 1), 'pegout.witness-script'],
    ['the control block parity flipped', (tx) => (tx.inputs[1]!.witness[n + 1]![0]! ^= 1), 'pegout.witness-script'],
    [
      'script and control block swapped',
      (tx) => tx.inputs[0]!.witness.splice(n, 2, tx.inputs[0]!.witness[n + 1]!, tx.inputs[0]!.witness[n]!),
      'pegout.witness-script',
    ],
  ];
  for (const [name, f, check] of witnessCases)
    it(`${name} → ${check}`, () =>
      expectCheck(() => checkFinalizedPegout(mutate(f), proposal, federation, prevouts), check));

  it('changed prevouts (amount or script) change the digest → pegout.signature', () => {
    const amount = prevouts.map((p, i) => (i === 1 ? { ...p, value: p.value + 1n } : p));
    expectCheck(() => checkPegoutSignatures(signed, federation, amount), 'pegout.signature');
    const script = prevouts.map((p, i) => (i === 0 ? { ...p, scriptPubkey: Uint8Array.of(0x51) } : p));
    expectCheck(() => checkPegoutSignatures(signed, federation, script), 'pegout.signature');
    expect(() => checkFinalizedPegout(signed, proposal, federation, prevouts.slice(1))).toThrow(DecodeError);
  });

  it('a different federation (keys 1,2,4) rejects it', () => {
    const other = createFederation([1, 2, 4].map(pubkeyOf));
    expect(() => checkFinalizedPegout(signed, proposal, other, prevouts)).toThrow(VerificationError);
  });
});
