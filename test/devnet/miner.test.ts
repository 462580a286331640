/**
 * The devnet's merged miner over long runs: its default cadence keeps the AuxPoW target from
 * ratcheting up (spec 4.6: a ratio below 1 becomes 0.20, a 5x harder target per retarget), and its
 * grind yields to the event loop the block producer and RPC servers share.
 *
 * Regression: the miner tried every 5 slots against a spacing of 10 blocks; in a live devnet the
 * target grew 5x per aligned retarget until grinding took a whole core and the soak's devnet made 2
 * blocks a minute.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDevnet, type Devnet } from '../../src/devnet/devnet.js';
import { minerCadenceMs } from '../../src/devnet/consensus/mining.js';
import { buildAuxPow, buildAuxPowYielding } from '../../src/devnet/miner.js';
import { targetFromCompact } from '../../src/protocol/bitcoin/pow.js';

const devnets: Devnet[] = [];
afterAll(async () => {
  for (const d of devnets) await d.stop();
});

/**
 * Grow the chain by `blocks`, mining a PoW before every block i with i % every === phase (so the
 * head the miner sees is i - 1); the bits of every PoW, in order.
 */
async function powBits(seed: string, blocks: number, every: number, phase: number): Promise<number[]> {
  const devnet = await createDevnet({ noServers: true, users: 1, seed });
  devnets.push(devnet);
  const bits: number[] = [];
  for (let i = 1; i <= blocks; i++) {
    if (i > 1 && i % every === phase) expect(await devnet.mineAuxPow()).toBe('submitted');
    const r = await devnet.produceNext();
    if (!('block' in r)) throw new Error(`block ${i}: ${r.stalled}`);
    const header = r.block.signed.message.auxpowHeader;
    if (header) bits.push(header.bits);
  }
  return bits;
}

describe('minerCadenceMs', () => {
  const spec = (over: object) => ({
    slotDuration: 1000,
    retargetParams: {
      powNoRetargeting: false,
      powLimit: 0,
      powLowerLimit: 0,
      powTargetTimespan: 100,
      powTargetSpacing: 10,
      maxPowAdjustment: 20,
      ...over,
    },
  });
  it('is one slot more than the target spacing, or 5 slots without retargeting', () => {
    expect(minerCadenceMs(spec({}))).toBe(11_000);
    expect(minerCadenceMs(spec({ powTargetSpacing: 5 }))).toBe(6_000);
    expect(minerCadenceMs(spec({ powNoRetargeting: true }))).toBe(5_000);
  });
});

describe('the devnet target over many PoWs', () => {
  it('never gets harder than genesis at the default cadence, and does at 5 blocks (why the default moved)', async () => {
    const devnet = await createDevnet({ noServers: true, users: 1, seed: 'miner-cadence-spec' });
    devnets.push(devnet);
    const every = minerCadenceMs(devnet.spec) / devnet.spec.slotDuration;
    const genesisTarget = targetFromCompact(devnet.spec.bits);
    for (const phase of [0, 1]) {
      const atCadence = await powBits(`miner-cadence-${phase}`, 12 * every, every, phase);
      expect(atCadence.length).toBeGreaterThanOrEqual(10);
      for (const b of atCadence) expect(targetFromCompact(b) >= genesisTarget, b.toString(16)).toBe(true);
    }
    // the old cadence, when the miner's head is a multiple of the interval every other time: each
    // such retarget divides the target by 5
    const fast = await powBits('miner-cadence-fast', 30, 5, 1);
    expect(targetFromCompact(fast.at(-1)!) * 25n <= genesisTarget).toBe(true);
  }, 120_000);
});

describe('buildAuxPowYielding', () => {
  it('finds the same AuxPoW as the blocking grind, with macrotasks running between its slices', async () => {
    const aux = {
      hash: `0x${'11'.repeat(32)}`,
      chainId: 7,
      previousBlockHash: `0x${'22'.repeat(32)}`,
      coinbaseValue: 0,
      bits: 0x1f7fffff, // about 1 in 512 hashes
      target: targetFromCompact(0x1f7fffff),
      height: 1,
    } satisfies Parameters<typeof buildAuxPow>[0];
    const opts = { seed: 'yield', parentTxs: 3, parentVersion: 0x20000000, time: 1_700_000_000, height: 5 };
    const blocking = buildAuxPow(aux, opts);
    const slice = 16;
    // the header needed several slices: otherwise this test shows nothing
    expect(blocking.parentBlock.nonce).toBeGreaterThan(4 * slice);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const yielding = await buildAuxPowYielding(aux, opts, slice);
    clearInterval(ticker);
    expect(yielding).toEqual(blocking);
    expect(ticks).toBeGreaterThan(0);
  });
});
