/**
 * Input script verification for the regtest chain's mempool: the three spend types the devnet
 * uses, checked with Bitcoin's consensus rules (and Core's standardness rules where they are
 * cheap and matter for signatures: low-S, compressed keys, defined sighash types):
 *
 * - P2WPKH (BIP143): witness `<DER sig || hashtype> <33-byte key>`, hash160(key) = program,
 *   ECDSA over the BIP143 digest (digest from @scure/btc-signer `preimageWitnessV0`).
 * - P2TR key path (BIP341): witness `<64/65-byte sig>`, BIP340 Schnorr by the output key over the
 *   BIP341 digest (@scure/btc-signer `preimageWitnessV1`).
 * - P2TR script path (BIP341/342) for the federation multisig leaf only
 *   (`<x0> CHECKSIG <x1> CHECKSIGADD ... <k> GREATERTHANOREQUAL`): the control block must commit
 *   to the leaf and the output key (tweak from src/protocol/bridge), the leaf must be exactly what
 *   `createFederation` builds for its keys and threshold, and the n stack elements are evaluated
 *   as Tapscript does (empty = no signature, anything else must be a valid signature, at least k
 *   valid ones). SIGHASH_DEFAULT digests come from src/protocol's `taprootSighashes`, explicit
 *   hash types from btc-signer.
 *
 * Everything else (legacy P2PKH/P2SH, P2WSH, other tapscripts, annexes, unknown witness
 * versions) is refused with `bad-txns-nonstandard-inputs`. Note that Alys itself is stricter for
 * finalized peg-outs (exactly `threshold` signatures, checkPegoutSignatures); Bitcoin accepts more.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Transaction as BtcSignerTx } from '@scure/btc-signer';
import { concatBytes, equalBytes } from '../../protocol/bytes.js';
import type { Transaction, TxIn, TxOut } from '../../protocol/types.js';
import { encodeTransaction } from '../../protocol/bitcoin/tx.js';
import { createFederation, tapLeafHash, taprootTweak, TAPSCRIPT_LEAF_VERSION } from '../../protocol/bridge/taproot.js';
import { taprootSighashes } from '../../protocol/bridge/sighash.js';
import { TxRejectedError } from './errors.js';
import { classifyScript, p2pkhScript } from './script.js';

const SCRIPT_FAILED = 'mandatory-script-verify-flag-failed';
const NONSTANDARD = 'bad-txns-nonstandard-inputs';
/** BIP342: stack elements are at most 520 bytes. */
const MAX_ELEMENT_SIZE = 520;
const ANNEX_TAG = 0x50;

function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

function fail(input: number, what: string): never {
  throw new TxRejectedError(SCRIPT_FAILED, `input ${input}: ${what}`);
}

function refuse(input: number, what: string): never {
  throw new TxRejectedError(NONSTANDARD, `input ${input}: ${what}`);
}

/** Legacy/segwit v0 hash types Core's STRICTENC accepts: ALL, NONE, SINGLE, each optionally |ANYONECANPAY. */
function isDefinedHashType(ht: number): boolean {
  const base = ht & ~0x80;
  return base >= 1 && base <= 3;
}

/** Lazily built per-transaction sighash context (one btc-signer parse, one BIP341 digest set). */
class SighashContext {
  private signerTx: BtcSignerTx | undefined;
  private readonly scripts: Uint8Array[];
  private readonly amounts: bigint[];
  private readonly defaultScriptPath = new Map<string, Uint8Array[]>();

  constructor(
    private readonly tx: Transaction,
    private readonly prevouts: readonly TxOut[],
  ) {
    this.scripts = prevouts.map((p) => p.scriptPubkey);
    this.amounts = prevouts.map((p) => p.value);
  }

  private signer(): BtcSignerTx {
    // Only the unsigned fields matter for digests: parse the witness-stripped form.
    this.signerTx ??= BtcSignerTx.fromRaw(encodeTransaction(this.tx, { witness: false }), {
      allowUnknownOutputs: true,
      allowUnknownInputs: true,
      allowUnknownVersion: true,
      disableScriptCheck: true,
    });
    return this.signerTx;
  }

  segwitV0(index: number, scriptCode: Uint8Array, hashType: number): Uint8Array {
    return this.signer().preimageWitnessV0(index, scriptCode, hashType, this.prevouts[index]!.value);
  }

  taprootKeyPath(index: number, hashType: number): Uint8Array {
    return this.signer().preimageWitnessV1(index, this.scripts, hashType, this.amounts);
  }

  taprootScriptPath(index: number, hashType: number, leafScript: Uint8Array): Uint8Array {
    if (hashType === 0) {
      const key = leafScript.join(',');
      let all = this.defaultScriptPath.get(key);
      if (!all) {
        all = taprootSighashes(this.tx, this.prevouts, leafScript);
        this.defaultScriptPath.set(key, all);
      }
      return all[index]!;
    }
    return this.signer().preimageWitnessV1(
      index,
      this.scripts,
      hashType,
      this.amounts,
      -1,
      leafScript,
      TAPSCRIPT_LEAF_VERSION,
    );
  }
}

/** BIP341 hash types: DEFAULT (only as a 64-byte signature), ALL, NONE, SINGLE, each |ANYONECANPAY. */
function schnorrHashType(sig: Uint8Array, tx: Transaction, index: number): number {
  if (sig.length === 64) return 0;
  if (sig.length !== 65)
    fail(index, `Invalid Schnorr signature size (${sig.length} bytes; expected 64, or 65 with a sighash byte)`);
  const ht = sig[64]!;
  if (ht === 0 || !isDefinedHashType(ht))
    fail(index, `Invalid Schnorr signature hash type 0x${ht.toString(16).padStart(2, '0')}`);
  if ((ht & 3) === 3 && index >= tx.outputs.length)
    fail(index, 'SIGHASH_SINGLE with no output at the same index has no BIP341 digest');
  return ht;
}

function verifyP2wpkh(ctx: SighashContext, tx: Transaction, index: number, program: Uint8Array): void {
  const witness = tx.inputs[index]!.witness;
  if (witness.length !== 2)
    fail(index, `Witness program hash mismatch (a P2WPKH spend has 2 witness elements, got ${witness.length})`);
  const [sig, pubkey] = witness as [Uint8Array, Uint8Array];
  if (pubkey.length !== 33 || (pubkey[0] !== 0x02 && pubkey[0] !== 0x03))
    refuse(index, 'Using non-compressed keys in segwit (P2WPKH needs a 33-byte compressed public key)');
  if (!equalBytes(hash160(pubkey), program))
    fail(index, 'Witness program hash mismatch (hash160 of the witness key is not the P2WPKH program)');
  if (sig.length < 9)
    fail(index, 'Signature must be zero for failed CHECK(MULTI)SIG operation (the signature is empty or too short)');
  const hashType = sig[sig.length - 1]!;
  if (!isDefinedHashType(hashType))
    refuse(index, `Signature hash type missing or not understood (0x${hashType.toString(16)})`);
  const digest = ctx.segwitV0(index, p2pkhScript(program), hashType);
  let ok = false;
  try {
    ok = secp256k1.verify(sig.subarray(0, -1), digest, pubkey, { prehash: false, format: 'der', lowS: true });
  } catch {
    fail(index, 'Non-canonical DER signature');
  }
  if (!ok)
    fail(
      index,
      'Signature must be zero for failed CHECK(MULTI)SIG operation (the ECDSA signature does not verify for the BIP143 digest)',
    );
}

function verifyTaprootKeyPath(ctx: SighashContext, tx: Transaction, index: number, outputKey: Uint8Array): void {
  const sig = tx.inputs[index]!.witness[0]!;
  const hashType = schnorrHashType(sig, tx, index);
  const digest = ctx.taprootKeyPath(index, hashType);
  if (!schnorr.verify(sig.subarray(0, 64), digest, outputKey))
    fail(index, 'Invalid Schnorr signature (key path: BIP340 verification by the output key fails)');
}

/** The keys and threshold of a federation multisig leaf, or null if `script` is not one. */
export function parseMultisigLeaf(script: Uint8Array): { xOnlyKeys: Uint8Array[]; threshold: number } | null {
  const xOnlyKeys: Uint8Array[] = [];
  let i = 0;
  while (i + 34 <= script.length && script[i] === 0x20) {
    const op = script[i + 33];
    if (op !== (xOnlyKeys.length === 0 ? 0xac : 0xba)) return null;
    xOnlyKeys.push(script.subarray(i + 1, i + 33));
    i += 34;
  }
  if (xOnlyKeys.length === 0 || script[script.length - 1] !== 0xa2) return null;
  const k = script.subarray(i, script.length - 1);
  let threshold: number;
  if (k.length === 1 && k[0]! >= 0x51 && k[0]! <= 0x60) threshold = k[0]! - 0x50;
  else if (k.length >= 2 && k.length <= 5 && k[0] === k.length - 1) {
    threshold = 0;
    for (let j = k.length - 1; j >= 1; j--) threshold = threshold * 256 + k[j]!;
  } else return null;
  // Canonical form only: rebuilding the leaf from its keys must give the same bytes.
  let rebuilt: Uint8Array;
  try {
    rebuilt = createFederation(
      xOnlyKeys.map((x) => concatBytes(Uint8Array.of(0x02), x)),
      threshold,
    ).script;
  } catch {
    return null;
  }
  return equalBytes(rebuilt, script) ? { xOnlyKeys, threshold } : null;
}

function tapBranch(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [lo, hi] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  return schnorr.utils.taggedHash('TapBranch', lo, hi);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function verifyTaprootScriptPath(ctx: SighashContext, tx: Transaction, index: number, outputKey: Uint8Array): void {
  const witness = tx.inputs[index]!.witness;
  const control = witness[witness.length - 1]!;
  const script = witness[witness.length - 2]!;
  if (control.length < 33 || control.length > 33 + 128 * 32 || (control.length - 33) % 32 !== 0)
    fail(index, `Invalid Taproot control block size (${control.length} bytes)`);
  const leafVersion = control[0]! & 0xfe;
  if (leafVersion !== TAPSCRIPT_LEAF_VERSION)
    refuse(index, `unknown taproot leaf version 0x${leafVersion.toString(16)} (only tapscript 0xc0 is supported)`);
  const internalKey = control.subarray(1, 33);
  let root = tapLeafHash(script, leafVersion);
  for (let at = 33; at < control.length; at += 32) root = tapBranch(root, control.subarray(at, at + 32));
  let tweaked: { outputKey: Uint8Array; parity: 0 | 1 };
  try {
    tweaked = taprootTweak(internalKey, root);
  } catch {
    fail(index, 'Witness program hash mismatch (the control block internal key is not a valid x-only key)');
  }
  if (!equalBytes(tweaked.outputKey, outputKey) || tweaked.parity !== (control[0]! & 1))
    fail(index, 'Witness program hash mismatch (the control block and leaf script do not commit to the output key)');

  const leaf = parseMultisigLeaf(script);
  if (!leaf)
    refuse(
      index,
      'unsupported tapscript: the devnet chain only executes the federation multisig leaf (<x0> CHECKSIG <x1> CHECKSIGADD ... <k> GREATERTHANOREQUAL)',
    );
  const n = leaf.xOnlyKeys.length;
  const stack = witness.slice(0, -2);
  if (stack.length !== n)
    fail(
      index,
      `the ${leaf.threshold}-of-${n} federation leaf takes exactly ${n} stack elements (a signature or empty per key), got ${stack.length}`,
    );
  let valid = 0;
  for (let j = 0; j < n; j++) {
    const sig = stack[j]!;
    if (sig.length > MAX_ELEMENT_SIZE) fail(index, 'Push value size limit exceeded');
    if (sig.length === 0) continue;
    // The first key checked (key 0) pops the top of the stack, i.e. the last witness element.
    const key = leaf.xOnlyKeys[n - 1 - j]!;
    const hashType = schnorrHashType(sig, tx, index);
    const digest = ctx.taprootScriptPath(index, hashType, script);
    if (!schnorr.verify(sig.subarray(0, 64), digest, key))
      fail(index, `Invalid Schnorr signature (witness element ${j}, federation key ${n - 1 - j})`);
    valid++;
  }
  if (valid < leaf.threshold)
    fail(
      index,
      `Script evaluated without error but finished with a false/empty top stack element (${valid} of the required ${leaf.threshold} signatures)`,
    );
}

/**
 * Verify the spending conditions of every input of `tx` against the outputs it spends
 * (`prevouts[i]` for input i). Throws {@link TxRejectedError} naming the input and the rule.
 */
export function verifyInputScripts(tx: Transaction, prevouts: readonly TxOut[]): void {
  const ctx = new SighashContext(tx, prevouts);
  for (const [index, input] of tx.inputs.entries()) verifyInputScript(ctx, tx, input, index, prevouts[index]!);
}

/** The spending conditions of input `index` (`input`) against the output it spends. */
function verifyInputScript(ctx: SighashContext, tx: Transaction, input: TxIn, index: number, spent: TxOut): void {
  const c = classifyScript(spent.scriptPubkey);
  if (c.kind !== 'p2wpkh' && c.kind !== 'p2tr')
    refuse(
      index,
      `spends a ${c.kind === 'other' ? 'non-standard' : c.kind} output; the devnet chain verifies only P2WPKH, P2TR key-path and the federation's P2TR script-path spends`,
    );
  if (input.scriptSig.length !== 0)
    fail(index, 'Witness requires empty scriptSig (native segwit spends carry everything in the witness)');
  const witness = input.witness;
  if (witness.length === 0) fail(index, 'Witness program was passed an empty witness');
  if (c.kind === 'p2wpkh') verifyP2wpkh(ctx, tx, index, c.program);
  else {
    if (witness.length >= 2 && witness[witness.length - 1]![0] === ANNEX_TAG)
      refuse(index, 'taproot annexes are not supported');
    if (witness.length === 1) verifyTaprootKeyPath(ctx, tx, index, c.program);
    else verifyTaprootScriptPath(ctx, tx, index, c.program);
  }
}
