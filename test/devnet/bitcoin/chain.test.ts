/**
 * The regtest chain's blocks, checked against independent computations: src/protocol's header
 * chain verifier (linkage, bits, PoW, MTP, versions) with Bitcoin regtest parameters, merkle roots
 * recomputed from the transactions, BIP34 heights decoded as script numbers here, BIP141 witness
 * commitments recomputed from wtxids, and the subsidy schedule.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, equalBytes } from '../../../src/protocol/bytes.js';
import {
  BITCOIN_REGTEST,
  checkProofOfWorkCore,
  encodeHeader,
  encodeTransaction,
  headerHash,
  tipFromCheckpoint,
  toDisplayHex,
  txid,
  txMerkleRoot,
  usesWitnessSerialization,
  verifyHeaderChain,
  wtxid,
} from '../../../src/protocol/index.js';
import {
  createBitcoinChain,
  createWallet,
  decodeBlock,
  REGTEST_BITS,
  type RegtestChain,
} from '../../../src/devnet/bitcoin/index.js';
import { chainWithFaucet, newChain, steppingClock } from './helpers.js';

const sha256d = (b: Uint8Array): Uint8Array => sha256(sha256(b));

/** The first push of a coinbase scriptSig read as a CScriptNum (independent of the encoder). */
function bip34Height(scriptSig: Uint8Array): number {
  const op = scriptSig[0]!;
  if (op === 0x00) return 0;
  if (op >= 0x51 && op <= 0x60) return op - 0x50;
  if (op < 1 || op > 8) throw new Error(`not a height push: ${op}`);
  const data = scriptSig.subarray(1, 1 + op);
  let n = 0;
  for (let i = data.length - 1; i >= 0; i--) n = n * 256 + (i === data.length - 1 ? data[i]! & 0x7f : data[i]!);
  // minimal encoding: the top byte is non-zero unless it only carries the sign bit
  const top = data[data.length - 1]!;
  if (top === 0 && (data.length === 1 || (data[data.length - 2]! & 0x80) === 0))
    throw new Error('non-minimal height push');
  if (top & 0x80) throw new Error('negative height');
  return n;
}

/** Check every block of the chain field by field; returns the number checked. */
function checkAllBlocks(chain: RegtestChain): number {
  const tip = chain.tipHeight();
  let prevHash: Uint8Array = new Uint8Array(32);
  let prevTime = -1;
  for (let h = 0; h <= tip; h++) {
    const b = chain.block(h)!;
    expect(b.height).toBe(h);
    expect(equalBytes(b.header.prevBlockhash, prevHash)).toBe(true);
    expect(equalBytes(headerHash(encodeHeader(b.header)), b.hash)).toBe(true);
    expect(b.header.bits).toBe(0x207fffff);
    expect(checkProofOfWorkCore(b.hash, b.header.bits, BITCOIN_REGTEST.powLimit)).toBe(true);
    expect(b.header.time).toBeGreaterThan(prevTime);
    expect(equalBytes(txMerkleRoot(b.transactions.map(txid)), b.header.merkleRoot)).toBe(true);
    const coinbase = b.transactions[0]!;
    expect(coinbase.inputs).toHaveLength(1);
    expect(coinbase.inputs[0]!.prevVout).toBe(0xffffffff);
    expect(bytesToHex(coinbase.inputs[0]!.prevTxid)).toBe('00'.repeat(32));
    expect(bip34Height(coinbase.inputs[0]!.scriptSig)).toBe(h);
    expect(coinbase.inputs[0]!.scriptSig.length).toBeGreaterThanOrEqual(2);
    expect(coinbase.inputs[0]!.scriptSig.length).toBeLessThanOrEqual(100);
    // the raw block decodes to the same transactions
    const raw = chain.rawBlock(b.hash)!;
    const decoded = decodeBlock(raw);
    expect(decoded.transactions.map((t) => bytesToHex(encodeTransaction(t)))).toEqual(
      b.transactions.map((t) => bytesToHex(encodeTransaction(t))),
    );
    expect(bytesToHex(raw.subarray(0, 80))).toBe(bytesToHex(encodeHeader(b.header)));
    expect(chain.confirmations(b.hash)).toBe(tip - h + 1);
    expect(chain.blockByHash(b.hash)!.height).toBe(h);
    prevHash = b.hash;
    prevTime = b.header.time;
  }
  return tip + 1;
}

describe('genesis', () => {
  it('is our own regtest-like block: bits 0x207fffff, null parent, BIP34-style OP_0, unspendable output', () => {
    const chain = createBitcoinChain();
    const g = chain.block(0)!;
    expect(chain.tipHeight()).toBe(0);
    expect(g.header.version).toBe(1);
    expect(g.header.bits).toBe(REGTEST_BITS);
    expect(g.header.time).toBe(1_296_688_602);
    expect(bytesToHex(g.header.prevBlockhash)).toBe('00'.repeat(32));
    expect(checkProofOfWorkCore(g.hash, g.header.bits, BITCOIN_REGTEST.powLimit)).toBe(true);
    // not Bitcoin's regtest genesis
    expect(toDisplayHex(g.hash)).not.toBe('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206');
    const cb = g.transactions[0]!;
    expect(cb.inputs[0]!.scriptSig[0]).toBe(0x00);
    expect(new TextDecoder().decode(cb.inputs[0]!.scriptSig)).toContain('Alys Light devnet regtest genesis');
    expect(cb.outputs[0]!.value).toBe(5_000_000_000n);
    // like Bitcoin's, the genesis output is not spendable
    expect(chain.utxos(cb.outputs[0]!.scriptPubkey)).toEqual([]);
    // deterministic (a regression value: other parts may pin it)
    expect(toDisplayHex(g.hash)).toBe('12058a798a00ef9e72d4572e7fbc3569fbe595b1f08ea78da3c351d38d51abfb');
    expect(toDisplayHex(createBitcoinChain({ coinbaseTag: 'other' }).block(0)!.hash)).toBe(toDisplayHex(g.hash));
    expect(toDisplayHex(createBitcoinChain({ genesisTime: 1_700_000_000 }).block(0)!.hash)).not.toBe(
      toDisplayHex(g.hash),
    );
  });
});

describe('mined blocks', () => {
  it('link, meet their bits, have matching merkle roots and BIP34 heights (with transactions)', () => {
    const { chain, faucet } = chainWithFaucet();
    const alice = createWallet(chain, 'alice');
    for (let i = 0; i < 5; i++) {
      faucet.send(alice.address, 10_000n + BigInt(i));
      faucet.send(alice.p2tr.address, 20_000n + BigInt(i));
      chain.mine(1);
    }
    chain.mine(20);
    expect(checkAllBlocks(chain)).toBe(chain.tipHeight() + 1);
    // blocks with transactions exist
    expect(chain.block(chain.tipHeight() - 20)!.transactions.length).toBe(3);
  });

  it('verify as a header chain with src/protocol and Bitcoin regtest parameters', () => {
    const chain = newChain();
    chain.mine(300);
    const g = chain.block(0)!;
    const start = tipFromCheckpoint({ height: 0, header: g.header, chainWork: 0n }, BITCOIN_REGTEST);
    const headers = Array.from({ length: 300 }, (_, i) => encodeHeader(chain.block(i + 1)!.header));
    const end = verifyHeaderChain(start, headers, BITCOIN_REGTEST);
    expect(end.height).toBe(300);
    expect(equalBytes(end.hash, chain.tip().hash)).toBe(true);
  });

  it('take strictly increasing times from opts.now, even when the clock stalls or goes back', () => {
    const times = [1_700_000_000, 1_700_000_000, 1_699_000_000, 1_700_000_500];
    let i = 0;
    const chain = createBitcoinChain({ now: () => times[i++]! });
    chain.mine(4);
    expect([1, 2, 3, 4].map((h) => chain.block(h)!.header.time)).toEqual([
      1_700_000_000, 1_700_000_001, 1_700_000_002, 1_700_000_500,
    ]);
    const noClock = createBitcoinChain({ genesisTime: 1000 });
    noClock.mine(2);
    expect(noClock.block(2)!.header.time).toBe(2200);
  });

  it('pay subsidy + fees to the given script, halving every interval; commit to witnesses only when present', () => {
    const { chain, faucet } = chainWithFaucet({ halvingInterval: 150 });
    const payTo = createWallet(chain, 'miner-2').scriptPubkey;
    const [empty] = chain.mine(1, payTo);
    expect(empty!.transactions).toHaveLength(1);
    expect(empty!.transactions[0]!.outputs).toHaveLength(1); // no witness commitment without witness txs
    expect(usesWitnessSerialization(empty!.transactions[0]!)).toBe(false);
    const height = empty!.height;
    expect(empty!.transactions[0]!.outputs[0]!.value).toBe(5_000_000_000n >> BigInt(Math.floor(height / 150)));
    expect(bytesToHex(empty!.transactions[0]!.outputs[0]!.scriptPubkey)).toBe(bytesToHex(payTo));

    const a = faucet.send(createWallet(chain, 'x').address, 50_000n);
    const b = faucet.send(createWallet(chain, 'y').p2tr.address, 60_000n);
    const [full] = chain.mine(1, payTo);
    const cb = full!.transactions[0]!;
    expect(full!.transactions.slice(1).map((t) => toDisplayHex(txid(t)))).toEqual([
      toDisplayHex(a.txid),
      toDisplayHex(b.txid),
    ]);
    expect(cb.outputs[0]!.value).toBe((5_000_000_000n >> BigInt(Math.floor(full!.height / 150))) + a.fee + b.fee);
    // BIP141: coinbase witness = 32-byte reserved value, last output = OP_RETURN aa21a9ed || SHA256d(root || reserved)
    expect(cb.inputs[0]!.witness.map((w) => bytesToHex(w))).toEqual(['00'.repeat(32)]);
    const root = txMerkleRoot([new Uint8Array(32), ...full!.transactions.slice(1).map(wtxid)]);
    const commitment = sha256d(concatBytes(root, new Uint8Array(32)));
    expect(bytesToHex(cb.outputs[cb.outputs.length - 1]!.scriptPubkey)).toBe('6a24aa21a9ed' + bytesToHex(commitment));
    expect(cb.outputs[cb.outputs.length - 1]!.value).toBe(0n);
  });

  it('halve the subsidy at the configured interval', () => {
    const chain = newChain({ halvingInterval: 10 });
    chain.mine(35);
    const reward = (h: number) => chain.block(h)!.transactions[0]!.outputs[0]!.value;
    expect([reward(9), reward(10), reward(19), reward(20), reward(30)]).toEqual([
      5_000_000_000n,
      2_500_000_000n,
      2_500_000_000n,
      1_250_000_000n,
      625_000_000n,
    ]);
  });

  it('mine(0) mines nothing; bad arguments throw; lookups of unknown blocks are empty', () => {
    const chain = newChain();
    expect(chain.mine(0)).toEqual([]);
    expect(() => chain.mine(-1)).toThrow(/non-negative integer/);
    expect(() => chain.mine(1.5)).toThrow(/non-negative integer/);
    expect(chain.block(1)).toBeUndefined();
    expect(chain.block(-1)).toBeUndefined();
    expect(chain.block(Number.NaN)).toBeUndefined();
    expect(chain.blockByHash(new Uint8Array(32))).toBeUndefined();
    expect(chain.blockByHash(new Uint8Array(5))).toBeUndefined();
    expect(chain.confirmations(new Uint8Array(32))).toBe(0);
    expect(chain.transaction(new Uint8Array(32))).toBeUndefined();
    expect(() => createBitcoinChain({ coinbaseMaturity: -1 })).toThrow(/coinbaseMaturity/);
  });

  it('two chains with the same clock and actions are byte-identical', () => {
    const build = () => {
      const { chain, faucet } = chainWithFaucet({ now: steppingClock(1_700_000_000, 30) });
      faucet.send(createWallet(chain, 'bob').address, 12_345n);
      chain.mine(2);
      return chain.exportChain();
    };
    expect(bytesToHex(sha256(build()))).toBe(bytesToHex(sha256(build())));
  });
});
