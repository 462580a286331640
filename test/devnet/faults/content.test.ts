/**
 * Block-level and AuxPoW faults: the adversarial endpoint serves re-signed blocks that break exactly
 * one rule (checked rule by rule by an independent oracle), a light client importing through
 * ChainVerifier fails with that check at exactly the first faulted block, every block the fault does
 * not touch is byte-identical to the honest endpoint's, and the honest chain imports cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  createFaultView,
  FaultConfigError,
  serveFaultyConsensusRpc,
  type FaultName,
} from '../../../src/devnet/faults/index.js';
import {
  auxpowAggregateHash,
  ChainVerifier,
  checkAuxPow,
  decodeSignedBlockJson,
  fromHex,
  nobleBackend,
  VerificationError,
  type SignedConsensusBlock,
} from '../../../src/protocol/index.js';
import { createFaultFixture, defects, importChain, raw, rootOf, type Fixture } from './helpers.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await createFaultFixture();
}, 60_000);
afterAll(async () => {
  await fx?.devnet.stop();
});

async function servedAt(url: string, h: number): Promise<{ body: Buffer; block: SignedConsensusBlock }> {
  const r = await raw(url, 'getblockbyheight', h);
  expect(r.status).toBe(200);
  expect(r.error).toBeNull();
  return { body: r.body, block: decodeSignedBlockJson(JSON.parse(r.body.toString()).result) };
}

interface Case {
  fault: FaultName;
  /** The one rule the oracle must find broken. */
  rule: string;
  /** The ChainVerifier check. */
  check: string;
  message?: RegExp;
  /** Heights the fault touches on the fixture, computed from the fixture (not from the server). */
  eligible: (fx: Fixture) => number[];
}

const all = (f: Fixture) => Array.from({ length: f.devnet.chain.height }, (_, i) => i + 1);
const pow = (f: Fixture) => f.powHeights;
const powWithLongRange = (f: Fixture) =>
  f.powHeights.filter((h) => {
    const header = f.devnet.chain.at(h)!.signed.message.auxpowHeader!;
    return f.devnet.chain.get(header.rangeEnd)!.number > f.devnet.chain.get(header.rangeStart)!.number;
  });

const CASES: Case[] = [
  { fault: 'bad-signature', rule: 'approvals.signature', check: 'approvals.signature', eligible: all },
  { fault: 'too-few-approvals', rule: 'approvals.threshold', check: 'approvals.threshold', eligible: all },
  {
    fault: 'bits-beyond-n',
    rule: 'approvals.bits-beyond-authorities',
    check: 'approvals.bits-beyond-authorities',
    eligible: all,
  },
  { fault: 'wrong-parent', rule: 'block.parent-hash', check: 'block.parent-hash', eligible: all },
  { fault: 'payload-hash-mismatch', rule: 'payload.block-hash', check: 'payload.block-hash', eligible: all },
  { fault: 'auxpow-parent-chain-id', rule: 'auxpow.parent-chain-id', check: 'auxpow.parent-chain-id', eligible: pow },
  {
    fault: 'auxpow-chain-branch-too-long',
    rule: 'auxpow.chain-branch-too-long',
    check: 'auxpow.chain-branch-too-long',
    eligible: pow,
  },
  {
    fault: 'auxpow-chain-root',
    rule: 'auxpow.commitment',
    check: 'auxpow.commitment-missing',
    message: /output 2: it commits to/,
    eligible: pow,
  },
  {
    fault: 'auxpow-coinbase-branch',
    rule: 'auxpow.coinbase-merkle-root',
    check: 'auxpow.coinbase-merkle-root',
    eligible: pow,
  },
  {
    fault: 'auxpow-commitment-missing',
    rule: 'auxpow.commitment',
    check: 'auxpow.commitment-missing',
    message: /output 2: its scriptPubKey (is \d+ bytes, not 44|does not start with fabe6d6d)/,
    eligible: pow,
  },
  { fault: 'auxpow-merkle-size', rule: 'auxpow.merkle-size', check: 'auxpow.merkle-size', eligible: pow },
  { fault: 'auxpow-side-mask', rule: 'auxpow.chain-index', check: 'auxpow.chain-index', eligible: pow },
  { fault: 'auxpow-pow', rule: 'pow.parent-pow', check: 'pow.parent-pow', eligible: pow },
  {
    fault: 'auxpow-range-gap',
    rule: 'pow.range-continuity',
    check: 'pow.range-continuity',
    eligible: powWithLongRange,
  },
  {
    fault: 'auxpow-aggregate',
    rule: 'auxpow.commitment',
    check: 'auxpow.commitment-missing',
    message: /output 2: it commits to/,
    eligible: pow,
  },
];

describe('fault fixture', () => {
  it('has transactions, a peg-in, a peg-out and two PoW blocks, and imports cleanly from the honest endpoint', async () => {
    expect(fx.devnet.chain.height).toBe(10);
    expect(fx.powHeights).toEqual([6, 9]);
    const blocks = fx.devnet.chain.range(1, 10).map((b) => b.signed.message);
    expect(blocks.reduce((n, m) => n + m.executionPayload.transactions.length, 0)).toBeGreaterThanOrEqual(3);
    expect(blocks.some((m) => m.pegins.length > 0)).toBe(true);
    expect(blocks.some((m) => m.pegoutPaymentProposal)).toBe(true);
    expect(blocks.some((m) => m.finalizedPegouts.length > 0)).toBe(true);
    for (let h = 1; h <= 10; h++) expect(defects(fx, h, fx.devnet.chain.at(h)!.signed)).toEqual([]);
    const honest = await importChain(fx.devnet.urls.consensus, fx);
    expect(honest).toEqual({ through: 10, failedAt: null, error: null });
  });
});

describe.each(CASES)('$fault', ({ fault, rule, check, message, eligible }) => {
  it(`breaks exactly ${rule} on every eligible block; the import fails with ${check} at the first one`, async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault, seed: 'content-test', port: 0 });
    try {
      const expected = eligible(fx);
      expect(expected.length).toBeGreaterThan(0);
      const affected: number[] = [];
      for (let h = 1; h <= fx.devnet.chain.height; h++) {
        const [faulty, honest] = await Promise.all([servedAt(server.url, h), servedAt(fx.devnet.urls.consensus, h)]);
        if (server.affects(h)) {
          affected.push(h);
          expect(defects(fx, h, faulty.block), `height ${h}: ${server.plan(h)?.detail}`).toEqual([rule]);
          // same height, same EL block number, a valid-looking block otherwise
          expect(faulty.block.message.executionPayload.blockNumber).toBe(BigInt(h));
        } else {
          expect(faulty.body.equals(honest.body), `height ${h} must be served honestly`).toBe(true);
        }
      }
      expect(affected).toEqual(expected);
      const imported = await importChain(server.url, fx);
      expect(imported.failedAt).toBe(expected[0]);
      expect(imported.error).toBeInstanceOf(VerificationError);
      expect((imported.error as VerificationError).check).toBe(check);
      if (message) expect((imported.error as Error).message).toMatch(message);
    } finally {
      await server.close();
    }
  });
});

describe('fault specifics', () => {
  it('bad-signature keeps the message and its root; the parent-root variant is a valid aggregate over the parent root', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'bad-signature', seed: 'specifics', port: 0 });
    try {
      const variants = new Set<string>();
      for (let h = 1; h <= 10; h++) {
        const { block } = await servedAt(server.url, h);
        expect(rootOf(block)).toBe(fx.devnet.chain.at(h)!.hash);
        expect(block.signature.aggregationBits).toBe(fx.devnet.chain.at(h)!.signed.signature.aggregationBits);
        const variant = server.plan(h)!.variant;
        variants.add(variant);
        if (variant === 'parent-root') {
          const keys = fx.authorities.keys.slice(0, 3);
          expect(
            nobleBackend.fastAggregateVerifyPrepared(
              keys,
              fromHex(block.message.parentHash),
              fromHex(block.signature.aggregateSignature),
            ),
          ).toBe(true);
        }
      }
      expect(variants.size).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });

  it('payload-hash-mismatch changes exactly one payload field and keeps block_hash; wrong-parent changes only parent_hash', async () => {
    const payload = await serveFaultyConsensusRpc(fx.devnet, {
      fault: 'payload-hash-mismatch',
      seed: 'specifics',
      port: 0,
    });
    const parent = await serveFaultyConsensusRpc(fx.devnet, { fault: 'wrong-parent', seed: 'specifics', port: 0 });
    try {
      for (let h = 1; h <= 10; h++) {
        const honest = fx.devnet.chain.at(h)!.signed.message;
        const p = (await servedAt(payload.url, h)).block.message;
        const changed = Object.keys(honest.executionPayload).filter(
          (k) =>
            JSON.stringify((p.executionPayload as any)[k], (_, v) => (typeof v === 'bigint' ? v.toString() : v)) !==
            JSON.stringify((honest.executionPayload as any)[k], (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
        );
        expect(changed).toEqual([payload.plan(h)!.variant]);
        expect({ ...p, executionPayload: null }).toEqual({ ...honest, executionPayload: null });

        const w = (await servedAt(parent.url, h)).block.message;
        expect({ ...w, parentHash: null }).toEqual({ ...honest, parentHash: null });
        expect(w.parentHash).not.toBe(honest.parentHash);
        if (h >= 2) expect(fx.devnet.chain.get(w.parentHash)!.number).toBeLessThan(h - 1);
      }
    } finally {
      await payload.close();
      await parent.close();
    }
  });

  it('auxpow-aggregate serves a valid AuxPoW for another range; auxpow-range-gap one for the shortened range', async () => {
    const agg = await serveFaultyConsensusRpc(fx.devnet, { fault: 'auxpow-aggregate', seed: 'specifics', port: 0 });
    const gap = await serveFaultyConsensusRpc(fx.devnet, { fault: 'auxpow-range-gap', seed: 'specifics', port: 0 });
    try {
      const { chain } = fx.devnet;
      const aggregateOf = (a: number, b: number) => auxpowAggregateHash(chain.range(a, b).map((x) => fromHex(x.hash)));
      for (const h of fx.powHeights) {
        const header = (await servedAt(agg.url, h)).block.message.auxpowHeader!;
        const [s, e] = [chain.get(header.rangeStart)!.number, chain.get(header.rangeEnd)!.number];
        const valid: string[] = [];
        for (let a = 0; a < h; a++)
          for (let b = a; b < h; b++) {
            try {
              checkAuxPow(header.auxpow!, aggregateOf(a, b), header.chainId, {
                variant: 'coinbase-output',
                expectedChainId: fx.spec.chainId,
              });
              valid.push(`${a}..${b}`);
            } catch {
              // not this range
            }
          }
        expect(valid).toHaveLength(1);
        expect(valid[0]).not.toBe(`${s}..${e}`);
      }
      const h = fx.powHeights[0]!;
      const header = (await servedAt(gap.url, h)).block.message.auxpowHeader!;
      const [s, e] = [chain.get(header.rangeStart)!.number, chain.get(header.rangeEnd)!.number];
      expect(s).toBeGreaterThan(1);
      expect(e).toBe(5);
      expect(() =>
        checkAuxPow(header.auxpow!, aggregateOf(s, e), header.chainId, { variant: 'coinbase-output' }),
      ).not.toThrow();
    } finally {
      await agg.close();
      await gap.close();
    }
  });
});

describe('every seeded variant', () => {
  const VARIANTS: Partial<Record<FaultName, string[]>> = {
    'bad-signature': ['parent-root', 'flipped-root', 'seeded-message'],
    'wrong-parent': ['descendant-2', 'ancestor-0'],
    'payload-hash-mismatch': [
      'stateRoot',
      'receiptsRoot',
      'logsBloom',
      'extraData',
      'feeRecipient',
      'prevRandao',
      'gasUsed',
      'gasLimit',
      'baseFeePerGas',
      'timestamp',
    ],
    'auxpow-chain-root': ['reversed', 'unfolded', 'seeded-root'],
    'auxpow-coinbase-branch': ['sibling', 'side-mask', 'coinbase-edit'],
    'auxpow-commitment-missing': ['op-return', 'bad-magic', 'short'],
    'auxpow-merkle-size': ['bigger', 'zero'],
    'auxpow-side-mask': ['slot-conflict', 'mask-only'],
    'auxpow-aggregate': ['shorter', 'longer'],
  };

  it('each variant of each seeded fault breaks exactly its rule, and ChainVerifier rejects it with its check', () => {
    const found = new Map<number, { fault: FaultName; variant: string; block: SignedConsensusBlock }[]>();
    for (const [fault, variants] of Object.entries(VARIANTS) as [FaultName, string[]][]) {
      const seen = new Set<string>();
      for (let s = 0; s < 60 && seen.size < variants.length; s++) {
        const view = createFaultView(fx.devnet, { fault, seed: `variants-${s}` });
        for (let h = 1; h <= 10; h++) {
          const plan = view.plan(h);
          if (!plan || seen.has(plan.variant) || !variants.includes(plan.variant)) continue;
          seen.add(plan.variant);
          found.set(h, [...(found.get(h) ?? []), { fault, variant: plan.variant, block: view.blockAt(h)! }]);
        }
      }
      expect([...seen].sort(), fault).toEqual([...variants].sort());
    }
    // one verifier walks the honest chain; at each height every candidate must fail (state is unchanged on error)
    const verifier = new ChainVerifier(
      { spec: fx.spec, authorities: fx.authorities, backend: nobleBackend },
      fx.genesis,
    );
    let tried = 0;
    for (let h = 1; h <= 10; h++) {
      for (const c of found.get(h) ?? []) {
        const { rule, check, message } = CASES.find((k) => k.fault === c.fault)!;
        expect(defects(fx, h, c.block), `${c.fault}/${c.variant}`).toEqual([rule]);
        let error: unknown = null;
        try {
          verifier.import(c.block);
        } catch (e) {
          error = e;
        }
        expect(error, `${c.fault}/${c.variant}`).toBeInstanceOf(VerificationError);
        expect((error as VerificationError).check, `${c.fault}/${c.variant}`).toBe(check);
        if (message) expect((error as Error).message).toMatch(message);
        tried++;
      }
      verifier.import(fx.devnet.chain.at(h)!.signed);
    }
    expect(tried).toBe(Object.values(VARIANTS).reduce((n, v) => n + v.length, 0));
  });
});

describe('which heights', () => {
  it('`from` moves the first faulted block', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'bad-signature', seed: 'from', port: 0, from: 4 });
    try {
      expect([1, 2, 3, 4, 5].map((h) => server.affects(h))).toEqual([false, false, false, true, true]);
      const r = await importChain(server.url, fx);
      expect(r.failedAt).toBe(4);
      expect((r.error as VerificationError).check).toBe('approvals.signature');
    } finally {
      await server.close();
    }
  });

  it('`density` faults the seeded subset the documented rule names', async () => {
    const seed = 'subset';
    const density = 0.5;
    // the rule of view.ts, recomputed here: u32(sha256("alys-devnet/fault/<seed>/<fault>/<h>/pick")) / 2^32 < density
    const expected = [...Array(10).keys()]
      .map((i) => i + 1)
      .filter((h) => {
        const d = sha256(new TextEncoder().encode(`alys-devnet/fault/${seed}/too-few-approvals/${h}/pick`));
        return new DataView(d.buffer).getUint32(0) / 2 ** 32 < density;
      });
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(10);
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'too-few-approvals', seed, port: 0, density });
    try {
      expect([...Array(10).keys()].map((i) => i + 1).filter((h) => server.affects(h))).toEqual(expected);
      const r = await importChain(server.url, fx);
      expect(r.failedAt).toBe(expected[0]);
      expect((r.error as VerificationError).check).toBe('approvals.threshold');
    } finally {
      await server.close();
    }
  });

  it('refuses impossible selections with a FaultConfigError', async () => {
    const bigChainId = { ...fx.devnet, spec: { ...fx.devnet.spec, chainId: 121212 } };
    await expect(
      serveFaultyConsensusRpc(bigChainId, { fault: 'auxpow-parent-chain-id', seed: 's', port: 0 }),
    ).rejects.toThrow(FaultConfigError);
    await expect(
      serveFaultyConsensusRpc(bigChainId, { fault: 'auxpow-parent-chain-id', seed: 's', port: 0 }),
    ).rejects.toThrow(/21212/);
    await expect(
      serveFaultyConsensusRpc(fx.devnet, { fault: 'nope' as FaultName, seed: 's', port: 0 }),
    ).rejects.toThrow(/bad-signature/);
    await expect(
      serveFaultyConsensusRpc(fx.devnet, { fault: 'withheld', seed: 's', port: 0, density: 0 }),
    ).rejects.toThrow(FaultConfigError);
    await expect(
      serveFaultyConsensusRpc(fx.devnet, { fault: 'withheld', seed: 's', port: 0, from: -1 }),
    ).rejects.toThrow(FaultConfigError);
  });
});
