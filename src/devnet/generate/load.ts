/**
 * The generator's EVM load, deterministic from a seed: per block a mix of plain transfers (EIP-1559,
 * one in five EIP-155 legacy), LoadToken mints and transfers (storage writes and Transfer events; a
 * rare transfer above the sender's balance reverts with InsufficientBalance, as real traffic does)
 * and, now and then, a peg-out request to the bridge (burn + RequestPegOut event).
 *
 * Senders are the devnet's prefunded users; the generator tracks their nonces and token balances,
 * so every transaction is valid (the engine refuses a block with an invalid explicit transaction).
 * Recipients are the users plus a fixed pool of addresses derived from the seed, so the state stays
 * a few thousand accounts however long the chain is (realistic reuse, and cheap head-state proofs).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { BRIDGE_ADDRESS, MIN_PEGOUT_SATS } from '../../protocol/bridge/pegout.js';
import { WEI_PER_SAT } from '../../protocol/bridge/units.js';
import { LOAD_TOKEN_ADDRESS } from '../evm/genesis.js';
import { signEip1559, signLegacy, uintBytes } from './txsign.js';

/** xoshiro128** seeded from sha256(seed): a small fast deterministic PRNG. */
export class Rng {
  private s: Uint32Array;

  constructor(seed: string) {
    const h = sha256(new TextEncoder().encode(`alys-devnet-generate/${seed}`));
    this.s = new Uint32Array(h.buffer, h.byteOffset, 4).slice();
    if (this.s.every((x) => x === 0)) this.s[0] = 1;
  }

  /** uniform 32-bit unsigned */
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface LoadUser {
  privateKey: Uint8Array;
  /** 20 bytes */
  address: Uint8Array;
}

export interface LoadOptions {
  seed: string;
  chainId: bigint;
  users: readonly LoadUser[];
  /** Average transactions per block (each block has txPerBlock +- 4); 0: no load, only the peg-outs. */
  txPerBlock: number;
  /** Bitcoin addresses (UTF-8 text) peg-outs pay to. */
  pegoutAddresses: readonly string[];
  /** A peg-out request in about one block in this many (0 = none). Default 10. */
  pegoutEvery?: number;
  /** Recipient pool size besides the users. Default 1024. */
  recipients?: number;
  /** Percent of the transactions that are plain transfers (default 75; the rest are token calls). */
  transferPercent?: number;
}

export interface BlockLoad {
  transactions: Uint8Array[];
  /** Their senders, when the helper thread recovered them (PayloadAttributes.senders). */
  senders?: Uint8Array[];
  transfers: number;
  tokenCalls: number;
  pegouts: number;
}

/** Tally of what a generated chain contains. */
export interface LoadTally {
  transactions: number;
  transfers: number;
  tokenCalls: number;
  pegouts: number;
}

const MAX_FEE = 2_000_000_000n;
const TIP = 1_000_000n;
const TOKEN_GAS = 120_000n;
const PEGOUT_GAS = 100_000n;
const ERC20_MINT = Uint8Array.from([0x40, 0xc1, 0x0f, 0x19]); // mint(address,uint256)
const ERC20_TRANSFER = Uint8Array.from([0xa9, 0x05, 0x9c, 0xbb]); // transfer(address,uint256)
const PEGOUT_SELECTOR = Uint8Array.from([0x99, 0x11, 0xdc, 0x74]); // requestPegOut(bytes)

function hexBytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));
}

function word(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  const b = uintBytes(n);
  out.set(b, 32 - b.length);
  return out;
}

function callData(selector: Uint8Array, to: Uint8Array, amount: bigint): Uint8Array {
  const out = new Uint8Array(4 + 64);
  out.set(selector, 0);
  out.set(to, 4 + 12);
  out.set(word(amount), 36);
  return out;
}

/** ABI of requestPegOut(bytes): selector, offset 0x20, length, the bytes padded to 32. */
export function pegoutCallData(btcAddress: string): Uint8Array {
  const text = new TextEncoder().encode(btcAddress);
  const padded = Math.ceil(text.length / 32) * 32;
  const out = new Uint8Array(4 + 64 + padded);
  out.set(PEGOUT_SELECTOR, 0);
  out.set(word(32n), 4);
  out.set(word(BigInt(text.length)), 36);
  out.set(text, 68);
  return out;
}

export interface LoadGenerator {
  /** The transactions of the next block (call once per block, in order). */
  next(): BlockLoad;
  readonly tally: LoadTally;
}

export function createLoad(opts: LoadOptions): LoadGenerator {
  if (opts.users.length < 2) throw new RangeError('the load needs at least 2 users');
  if (!Number.isInteger(opts.txPerBlock) || (opts.txPerBlock !== 0 && opts.txPerBlock < 4) || opts.txPerBlock > 1000)
    throw new RangeError(`txPerBlock must be 0 (peg-outs only) or 4..1000, got ${opts.txPerBlock}`);
  const rng = new Rng(`${opts.seed}/load`);
  const users = opts.users;
  const nonces = users.map(() => 0n);
  const tokens = users.map(() => 0n);
  const recipients: Uint8Array[] = [
    ...users.map((u) => u.address),
    ...Array.from({ length: opts.recipients ?? 1024 }, (_, i) =>
      sha256(new TextEncoder().encode(`${opts.seed}/recipient/${i}`)).slice(12),
    ),
  ];
  const token = hexBytes(LOAD_TOKEN_ADDRESS);
  const bridge = hexBytes(BRIDGE_ADDRESS);
  const pegoutData = opts.pegoutAddresses.map(pegoutCallData);
  const pegoutEvery = opts.pegoutEvery ?? 10;
  const transferPercent = opts.transferPercent ?? 75;
  const tally: LoadTally = { transactions: 0, transfers: 0, tokenCalls: 0, pegouts: 0 };
  let cursor = 0;

  function sign(
    u: number,
    to: Uint8Array,
    value: bigint,
    data: Uint8Array,
    gasLimit: bigint,
    legacy = false,
  ): Uint8Array {
    const nonce = nonces[u]!++;
    const key = users[u]!.privateKey;
    return legacy
      ? signLegacy(opts.chainId, { nonce, to, value, data, gasLimit, gasPrice: MAX_FEE }, key)
      : signEip1559(
          opts.chainId,
          { nonce, to, value, data, gasLimit, maxFeePerGas: MAX_FEE, maxPriorityFeePerGas: TIP },
          key,
        );
  }

  function next(): BlockLoad {
    const count = opts.txPerBlock === 0 ? 0 : opts.txPerBlock - 4 + rng.int(9);
    const out: BlockLoad = { transactions: [], transfers: 0, tokenCalls: 0, pegouts: 0 };
    if (pegoutEvery > 0 && pegoutData.length > 0 && rng.int(pegoutEvery) === 0) {
      const u = rng.int(users.length);
      const sats = MIN_PEGOUT_SATS + BigInt(rng.int(4_000_000));
      out.transactions.push(
        sign(
          u,
          bridge,
          sats * WEI_PER_SAT + BigInt(rng.int(1_000_000)),
          pegoutData[rng.int(pegoutData.length)]!,
          PEGOUT_GAS,
        ),
      );
      out.pegouts++;
    }
    while (out.transactions.length < count) {
      // senders in a rotating window so each block has many distinct senders
      const u = (cursor++ * 7 + rng.int(3)) % users.length;
      const r = rng.int(100);
      if (r < transferPercent) {
        const to = recipients[rng.int(recipients.length)]!;
        out.transactions.push(
          sign(u, to, 1_000n + BigInt(rng.int(1_000_000_000)), new Uint8Array(0), 21_000n, rng.int(5) === 0),
        );
        out.transfers++;
      } else if (r < transferPercent + (100 - transferPercent) / 2 || tokens[u]! < 1_000n) {
        const to = rng.int(4) === 0 ? recipients[rng.int(recipients.length)]! : users[u]!.address;
        const amount = 10n ** 18n + BigInt(rng.next());
        if (to === users[u]!.address) tokens[u]! += amount;
        out.transactions.push(sign(u, token, 0n, callData(ERC20_MINT, to, amount), TOKEN_GAS));
        out.tokenCalls++;
      } else {
        const toIndex = rng.int(recipients.length);
        const to = recipients[toIndex]!;
        // one in 300 asks for more than the sender has: the call reverts (InsufficientBalance)
        const amount = rng.int(300) === 0 ? tokens[u]! + 1n : 1n + BigInt(rng.int(1_000_000));
        if (amount <= tokens[u]!) {
          tokens[u]! -= amount;
          if (toIndex < users.length) tokens[toIndex]! += amount;
        }
        out.transactions.push(sign(u, token, 0n, callData(ERC20_TRANSFER, to, amount), TOKEN_GAS));
        out.tokenCalls++;
      }
    }
    tally.transactions += out.transactions.length;
    tally.transfers += out.transfers;
    tally.tokenCalls += out.tokenCalls;
    tally.pegouts += out.pegouts;
    return out;
  }

  return { next, tally };
}
