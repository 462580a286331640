/**
 * The FederationActor answers from the chain spec: the authorities at once, and the peg-in deposit
 * address from the taproot code it imports on the first such question (so the node's bundle does not
 * load noble's secp256k1 and schnorr before it is asked): the same address as the taproot module's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActorSystem, type ActorSystem } from '../../src/actors/index.js';
import { FederationActor } from '../../src/node/actors/federation.js';
import { requiredApprovals } from '../../src/protocol/approvals.js';
import { StorageActor } from '../../src/node/actors/storage.js';
import {
  decodeFederationRecord,
  encodeFederationRecord,
  FEDERATION_RECORD_KEY,
  FederationRecordError,
  MAX_FEDERATION_RECORD_BYTES,
} from '../../src/node/storage/federation-record.js';
import type { KvStore } from '../../src/node/storage/kv.js';
import { createMemoryStore } from '../../src/node/storage/memory.js';
import type { AuthoritySetChange } from '../../src/protocol/authority-schedule.js';
import { createFederation, createFederationFromSpec, federationAddress } from '../../src/protocol/bridge/taproot.js';
import { specFingerprint } from '../../src/protocol/spec-fingerprint.js';
import type { Hex } from '../../src/protocol/types.js';
import { TESTNET_CHAIN_SPEC, getChainSpec } from '../../src/protocol/chainspec.js';

describe('FederationActor', () => {
  let sys: ActorSystem;
  const spec = getChainSpec('testnet');

  beforeAll(async () => {
    sys = createActorSystem({
      name: 'federation-test',
      root: { strategy: 'one-for-one', children: [{ id: 'federation', actor: FederationActor, args: { spec } }] },
    });
    await sys.start();
  });
  afterAll(() => sys?.shutdown());

  it('gives the deposit address of the spec, for each network, as the taproot module computes it', async () => {
    const federation = sys.ref<typeof FederationActor>('/federation-test/federation');
    const expected = createFederationFromSpec(TESTNET_CHAIN_SPEC);
    for (const network of ['mainnet', 'testnet', 'regtest'] as const)
      expect(await federation.ask({ type: 'deposit-address', network })).toBe(federationAddress(expected, network));
    expect(await federation.ask({ type: 'authorities' })).toEqual({
      keys: [...spec.authorities],
      required: requiredApprovals(spec.authorities.length),
    });
  });
});

/**
 * The change list in the node's store: `apply-change` persists before it applies, a restart loads
 * it back (checked), and a damaged, foreign or malformed record is dropped with a typed error and a
 * `storage` event, never used. Real StorageActor over a real memory KvStore.
 */
describe('FederationActor: the stored change list', () => {
  const devSpec = getChainSpec('dev');
  const KEYS = [
    '0xa572cbea904d67468808c8eb50a9450c9721db309128012543902d0ac358a62ae28f75bb8f1c7c42c39a8c5529bf0f4e',
    '0x97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb',
  ] as Hex[];
  const change = (effectiveHeight: number): AuthoritySetChange => ({
    effectiveHeight,
    authorities: KEYS,
    federationBitcoinPubkeys: ['02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'],
    source: { kind: 'governance', digest: `0x${String(effectiveHeight).padStart(64, '0')}` },
  });

  const indexOf = (bytes: Uint8Array, text: string) => Buffer.from(bytes).indexOf(text);

  async function system(kv: KvStore, name: string) {
    const sys = createActorSystem({
      name,
      root: {
        strategy: 'one-for-one',
        children: [
          {
            id: 'storage',
            actor: StorageActor,
            args: {
              open: async () => ({ ...kv, close: async () => {} }),
              identity: { chainId: devSpec.chainId, spec: specFingerprint(devSpec), mode: 'full' },
            },
          },
          { id: 'federation', actor: FederationActor, args: { spec: devSpec, storage: `/${name}/storage` } },
        ],
      },
    });
    await sys.start();
    return { sys, federation: sys.ref<typeof FederationActor>(`/${name}/federation`) };
  }

  it('persists each change before applying it, and a restart resumes with the list', async () => {
    const kv = createMemoryStore();
    const a = await system(kv, 'fed-a');
    expect(await a.federation.ask({ type: 'apply-change', change: change(10) })).toEqual({
      changes: 1,
      lastHeight: 10,
    });
    await expect(a.federation.ask({ type: 'apply-change', change: change(10) })).rejects.toMatchObject({
      code: 'authority-schedule.height',
    });
    expect(await a.federation.ask({ type: 'apply-change', change: change(20) })).toEqual({
      changes: 2,
      lastHeight: 20,
    });
    expect(await kv.get(FEDERATION_RECORD_KEY)).toBeDefined();
    await a.sys.shutdown();

    const b = await system(kv, 'fed-b');
    expect(await b.federation.ask({ type: 'changes' })).toEqual({ changes: [change(10), change(20)], dropped: null });
    expect(await b.federation.ask({ type: 'set-at', height: 9 })).toMatchObject({ source: { kind: 'spec' }, from: 0 });
    const at15 = await b.federation.ask({ type: 'set-at', height: 15 });
    expect(at15).toMatchObject({ from: 10, until: 20, source: change(10).source, authorities: KEYS, required: 2 });
    expect(at15.bitcoinSource).toEqual(change(10).source);
    // the deposit address follows the Bitcoin keys in force
    expect(await b.federation.ask({ type: 'deposit-address', network: 'regtest', height: 9 })).toBe(
      federationAddress(createFederationFromSpec(devSpec), 'regtest'),
    );
    expect(await b.federation.ask({ type: 'deposit-address', network: 'regtest', height: 15 })).toBe(
      federationAddress(createFederation(change(10).federationBitcoinPubkeys!), 'regtest'),
    );
    await expect(b.federation.ask({ type: 'set-at', height: -1 })).rejects.toMatchObject({
      code: 'authority-schedule.height',
    });
    await b.sys.shutdown();
  });

  const damages: Array<[string, (bytes: Uint8Array) => Uint8Array]> = [
    // still valid JSON and a valid change (height 10 -> 30): only the checksum catches it
    ['a changed digit', (b) => b.map((x, i) => (i === indexOf(b, '"effectiveHeight":10') + 18 ? x ^ 2 : x))],
    ['a truncated record', (b) => b.slice(0, 20)],
    ['another spec', () => encodeFederationRecord(`0x${'11'.repeat(32)}`, [change(10)])],
    ['heights not increasing', () => encodeFederationRecord(specFingerprint(devSpec), [change(10), change(10)])],
    [
      'a key off the curve (checksum valid)',
      () =>
        encodeFederationRecord(specFingerprint(devSpec), [{ ...change(10), authorities: [`0x${'ab'.repeat(48)}`] }]),
    ],
  ];
  it.each(damages)('drops a stored record with %s (typed error), never uses it', async (_, damage) => {
    const kv = createMemoryStore();
    const good = encodeFederationRecord(specFingerprint(devSpec), [change(10)]);
    await kv.batch([{ type: 'put', key: FEDERATION_RECORD_KEY, value: damage(good) }]);
    const c = await system(kv, `fed-${Math.random().toString(36).slice(2, 8)}`);
    const { changes, dropped } = await c.federation.ask({ type: 'changes' });
    expect(changes).toEqual([]);
    expect(dropped?.code).toBe('federation.record-corrupt');
    expect(await kv.get(FEDERATION_RECORD_KEY)).toBeUndefined();
    expect((await c.federation.ask({ type: 'set-at', height: 10 })).source).toEqual({ kind: 'spec' });
    await c.sys.shutdown();
  });

  it('decodes what it encodes, and refuses an oversized record unread', () => {
    const spec = specFingerprint(devSpec);
    expect(decodeFederationRecord(encodeFederationRecord(spec, [change(3), change(4)]), spec)).toEqual([
      change(3),
      change(4),
    ]);
    expect(() => decodeFederationRecord(new Uint8Array(MAX_FEDERATION_RECORD_BYTES + 1), spec)).toThrow(
      FederationRecordError,
    );
  });
});
