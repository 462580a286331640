/**
 * Peg-out requests (alys-protocol.md 6.3): event topic and selector against alys-real.json and
 * viem; log decoding against viem's decodeEventLog; Bridge::filter_pegouts rules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeEventLog,
  encodeAbiParameters,
  encodeEventTopics,
  parseAbi,
  parseAbiItem,
  toEventSelector,
  toFunctionSelector,
  type AbiEvent,
  type Hex as ViemHex,
} from 'viem';
import { bech32, bech32m } from '@scure/base';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import { DecodeError, ProtocolError } from '../../../src/protocol/errors.js';
import type { Hex } from '../../../src/protocol/types.js';
import {
  BRIDGE_ADDRESS,
  decodeRequestPegOutLog,
  filterPegouts,
  MIN_PEGOUT_SATS,
  REQUEST_PEGOUT_EVENT_SIGNATURE,
  REQUEST_PEGOUT_SELECTOR,
  REQUEST_PEGOUT_TOPIC0,
  type EvmLog,
  type EvmReceipt,
} from '../../../src/protocol/bridge/pegout.js';
import { parseBitcoinAddress } from '../../../src/protocol/bridge/btcaddress.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';

const abi = parseAbi(['event RequestPegOut(address indexed _evmAddress, bytes _bitcoinAddress, uint256 _value)']);
const enc = new TextEncoder();
const toViemHex = (b: Uint8Array) => `0x${bytesToHex(b)}` as ViemHex;

function requestLog(evm: Hex, bitcoinAddress: string | Uint8Array, valueWei: bigint): EvmLog {
  const topics = encodeEventTopics({ abi, eventName: 'RequestPegOut', args: { _evmAddress: evm } }) as Hex[];
  const btcBytes = typeof bitcoinAddress === 'string' ? enc.encode(bitcoinAddress) : bitcoinAddress;
  const data = encodeAbiParameters([{ type: 'bytes' }, { type: 'uint256' }], [toViemHex(btcBytes), valueWei]) as Hex;
  return { topics, data };
}

const USER = '0x00000000000000000000000000000000000000aa' as Hex;
const P2TR = bech32m.encode('tb', [1, ...bech32.toWords(new Uint8Array(32).fill(7))], false);
const P2WPKH = bech32.encode('bc', [0, ...bech32.toWords(new Uint8Array(20).fill(9))], false);
const satsWei = (sats: bigint) => sats * 10n ** 10n;

describeVectors('RequestPegOut constants (alys-real.json bridge, genesis bytecode)', () => {
  const real = loadVectors('alys-real.json');
  it('topic0 and selector equal the vector and viem', () => {
    expect(REQUEST_PEGOUT_TOPIC0).toBe(real.bridge.topic0);
    expect(REQUEST_PEGOUT_SELECTOR).toBe(real.bridge.function_selector_requestPegOut_bytes);
    expect(toEventSelector(REQUEST_PEGOUT_EVENT_SIGNATURE)).toBe(REQUEST_PEGOUT_TOPIC0);
    expect(toEventSelector(parseAbiItem(`event ${real.bridge.event_signature}` as string) as AbiEvent)).toBe(
      REQUEST_PEGOUT_TOPIC0,
    );
    expect(toFunctionSelector('requestPegOut(bytes)')).toBe(REQUEST_PEGOUT_SELECTOR);
  });
  it('both occur in the bridge predeploy bytecode, which sits at BRIDGE_ADDRESS', () => {
    const alloc = real.evm_genesis.alloc as Record<string, { code: string }>;
    const [address, { code }] = Object.entries(alloc)[0]!;
    expect(address.toLowerCase()).toBe(BRIDGE_ADDRESS);
    expect(real.bridge.address.toLowerCase()).toBe(BRIDGE_ADDRESS);
    expect(code.toLowerCase()).toContain(REQUEST_PEGOUT_TOPIC0.slice(2));
    expect(code.toLowerCase()).toContain(REQUEST_PEGOUT_SELECTOR.slice(2));
  });
});

describe('decodeRequestPegOutLog', () => {
  it('property: agrees with viem decodeEventLog on well-formed logs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
        (a, btc, value) => {
          const evm = toViemHex(a) as Hex;
          const log = requestLog(evm, btc, value);
          const ours = decodeRequestPegOutLog(log)!;
          const viem = decodeEventLog({ abi, topics: log.topics as [ViemHex, ...ViemHex[]], data: log.data });
          expect(ours.evmAddress).toBe(viem.args._evmAddress.toLowerCase());
          expect(toViemHex(ours.bitcoinAddress)).toBe(viem.args._bitcoinAddress);
          expect(ours.valueWei).toBe(viem.args._value);
        },
      ),
      { numRuns: 200 },
    );
  });

  const base = requestLog(USER, P2TR, satsWei(MIN_PEGOUT_SATS));
  const words = (data: string) => data.slice(2).match(/.{64}/g)!;
  const join = (w: string[]) => `0x${w.join('')}` as Hex;

  it('ignores other events and wrong topic counts (ethers requires exactly one indexed topic)', () => {
    expect(
      decodeRequestPegOutLog({ topics: [`0x${'00'.repeat(32)}` as Hex, base.topics[1]!], data: base.data }),
    ).toBeNull();
    expect(decodeRequestPegOutLog({ topics: [], data: base.data })).toBeNull();
    expect(decodeRequestPegOutLog({ topics: [base.topics[0]!], data: base.data })).toBeNull();
    expect(decodeRequestPegOutLog({ topics: [...base.topics, base.topics[1]!], data: base.data })).toBeNull();
  });

  it('topic0 is matched case-insensitively', () => {
    expect(
      decodeRequestPegOutLog({
        topics: [base.topics[0]!.toUpperCase().replace('0X', '0x') as Hex, base.topics[1]!],
        data: base.data,
      }),
    ).not.toBeNull();
  });

  it('lenient like ethabi: dirty high bytes of the address topic, missing padding, trailing data', () => {
    const dirty = `0x${'ff'.repeat(12)}${base.topics[1]!.slice(26)}` as Hex;
    expect(decodeRequestPegOutLog({ topics: [base.topics[0]!, dirty], data: base.data })!.evmAddress).toBe(USER);
    const unpadded = base.data.slice(0, 2 + 64 * 3 + P2TR.length * 2) as Hex;
    expect(
      new TextDecoder().decode(decodeRequestPegOutLog({ topics: base.topics, data: unpadded })!.bitcoinAddress),
    ).toBe(P2TR);
    expect(decodeRequestPegOutLog({ topics: base.topics, data: `${base.data}deadbeef` as Hex })).not.toBeNull();
  });

  it('rejects like ethabi: offset/length words above 2^32, bytes past the end, too-short data', () => {
    const w = words(base.data);
    const bigOffset = [...w];
    bigOffset[0] = '01' + bigOffset[0]!.slice(2);
    expect(decodeRequestPegOutLog({ topics: base.topics, data: join(bigOffset) })).toBeNull();
    const bigLen = [...w];
    bigLen[2] = '00'.repeat(27) + '01' + bigLen[2]!.slice(56);
    expect(decodeRequestPegOutLog({ topics: base.topics, data: join(bigLen) })).toBeNull();
    const pastEnd = [...w];
    pastEnd[2] = (w.slice(3).join('').length / 2 + 1).toString(16).padStart(64, '0');
    expect(decodeRequestPegOutLog({ topics: base.topics, data: join(pastEnd) })).toBeNull();
    expect(decodeRequestPegOutLog({ topics: base.topics, data: join(w.slice(0, 1)) })).toBeNull();
    expect(decodeRequestPegOutLog({ topics: base.topics, data: '0x' })).toBeNull();
  });

  it('the bytes offset may point anywhere valid (ethabi follows it)', () => {
    const w = words(base.data);
    // move the bytes to after an extra zero word
    const moved = [w[0]!.slice(0, 62) + '60', w[1]!, '00'.repeat(32), ...w.slice(2)];
    expect(
      new TextDecoder().decode(decodeRequestPegOutLog({ topics: base.topics, data: join(moved) })!.bitcoinAddress),
    ).toBe(P2TR);
  });

  it('malformed JSON-RPC data is a DecodeError naming the field', () => {
    expect(() => decodeRequestPegOutLog({ topics: ['0x1234' as Hex], data: '0x' }, 'L')).toThrow(/L\.topics\[0\]/);
    expect(() => decodeRequestPegOutLog({ topics: base.topics, data: 'xyz' as Hex }, 'L')).toThrow(DecodeError);
    expect(() => decodeRequestPegOutLog({ topics: 'nope' as never, data: '0x' })).toThrow(DecodeError);
  });
});

describe('filterPegouts (Bridge::filter_pegouts)', () => {
  const scriptOf = (a: string) => parseBitcoinAddress(a)!.scriptPubkey;
  const receipt = (to: Hex | null | undefined, logs: EvmLog[]): EvmReceipt => ({ to, logs });

  it('keeps requests of at least 1_000_000 sats to a valid address, in receipt/log order', () => {
    const out = filterPegouts([
      receipt(BRIDGE_ADDRESS, [
        requestLog(USER, P2TR, satsWei(1_000_000n)),
        requestLog(USER, P2WPKH, satsWei(2_500_000n) + 9_999_999_999n),
      ]),
      receipt(('0x' + BRIDGE_ADDRESS.slice(2).toUpperCase()) as Hex, [requestLog(USER, P2WPKH, satsWei(3_000_000n))]),
    ]);
    expect(out).toEqual([
      { value: 1_000_000n, scriptPubkey: scriptOf(P2TR) },
      { value: 2_500_000n, scriptPubkey: scriptOf(P2WPKH) },
      { value: 3_000_000n, scriptPubkey: scriptOf(P2WPKH) },
    ]);
  });

  it('below 1_000_000 sats after flooring is ignored', () => {
    expect(filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, P2TR, satsWei(1_000_000n) - 1n)])])).toEqual([]);
    expect(filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, P2TR, 0n)])])).toEqual([]);
  });

  it('receipts to another address are skipped; contract creations (to = null) are not', () => {
    const log = requestLog(USER, P2TR, satsWei(2_000_000n));
    expect(filterPegouts([receipt(USER, [log])])).toEqual([]);
    expect(filterPegouts([receipt(null, [log])]).length).toBe(1);
    expect(filterPegouts([receipt(undefined, [log])]).length).toBe(1);
  });

  it('addresses of any network are accepted; non-UTF-8 or unparsable addresses are skipped', () => {
    const regtest = bech32m.encode('bcrt', [1, ...bech32.toWords(new Uint8Array(32).fill(1))], false);
    const v = satsWei(2_000_000n);
    expect(filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, regtest, v)])]).length).toBe(1);
    expect(
      filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, Uint8Array.of(0xff, ...enc.encode(P2TR)), v)])]),
    ).toEqual([]);
    expect(filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, P2TR + ' ', v)])])).toEqual([]);
    expect(filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, '', v)])])).toEqual([]);
    expect(filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, 'tb1' + P2TR.slice(3) + '\u00e9', v)])])).toEqual(
      [],
    );
  });

  it('the emitting contract of a log is not checked, other events are ignored', () => {
    const other: EvmLog = { topics: [`0x${'11'.repeat(32)}` as Hex], data: '0x' };
    const out = filterPegouts([
      receipt(BRIDGE_ADDRESS, [other, { ...requestLog(USER, P2TR, satsWei(1_000_000n)), address: USER } as EvmLog]),
    ]);
    expect(out.length).toBe(1);
  });

  it('a value whose sats exceed u64 throws (Alys panics in as_u64)', () => {
    expect(() => filterPegouts([receipt(BRIDGE_ADDRESS, [requestLog(USER, P2TR, (1n << 64n) * 10n ** 10n)])])).toThrow(
      ProtocolError,
    );
  });

  it('malformed receipts are DecodeErrors naming the path', () => {
    expect(() => filterPegouts([receipt('0x1234' as Hex, [])])).toThrow(/receipts\[0\]\.to/);
    expect(() => filterPegouts([{ to: null, logs: null as never }])).toThrow(/receipts\[0\]\.logs/);
  });
});
