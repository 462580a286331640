/**
 * Chain-level faults (equivocation, withheld, reordered) and transport faults (slow, truncated,
 * malformed JSON), plus the fault server's honest behaviour for everything it does not fault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFaultyConsensusRpc } from '../../../src/devnet/faults/index.js';
import {
  DecodeError,
  decodeSignedBlockJson,
  nobleBackend,
  type VerificationError,
  verifyBlockSelf,
} from '../../../src/protocol/index.js';
import { createFaultFixture, defects, importChain, raw, rootOf, rpc, type Fixture } from './helpers.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await createFaultFixture();
}, 60_000);
afterAll(async () => {
  await fx?.devnet.stop();
});

const decode = (body: Buffer) => decodeSignedBlockJson(JSON.parse(body.toString()).result);

describe('chain-level faults', () => {
  it('equivocation: a second validly signed block at the same height; getblockbyhash serves both; the next block no longer links', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'equivocation', seed: 'chain', port: 0, from: 3 });
    try {
      const honest = fx.devnet.chain.at(3)!;
      const fork = decode((await raw(server.url, 'getblockbyheight', 3)).body);
      expect(defects(fx, 3, fork)).toEqual([]); // valid on its own
      expect(rootOf(fork)).not.toBe(honest.hash);
      expect(fork.message.parentHash).toBe(honest.signed.message.parentHash);
      expect(fork.message.executionPayload).toEqual(honest.signed.message.executionPayload);
      expect(Math.abs(fork.message.slot - honest.signed.message.slot)).toBe(1);
      // both blocks are reachable by hash and both carry a valid majority aggregate: equivocation evidence
      const a = decode((await raw(server.url, 'getblockbyhash', honest.hash.slice(2))).body);
      const b = decode((await raw(server.url, 'getblockbyhash', rootOf(fork).slice(2))).body);
      expect(rootOf(a)).toBe(honest.hash);
      expect(rootOf(b)).toBe(rootOf(fork));
      for (const block of [a, b]) {
        const v = verifyBlockSelf(block, { spec: fx.spec, authorities: fx.authorities, backend: nobleBackend });
        expect(v.number).toBe(3n);
        expect(v.signers).toEqual([0, 1, 2]);
      }
      // the head is an equivocating block too (every height from 3)
      const head = (await rpc(server.url, 'getheadblock', [])).body.result;
      expect(rootOf(decodeSignedBlockJson(head))).not.toBe(fx.devnet.chain.head.hash);
      // block 3' imports; block 4 (the same answer) still names block 3 as its parent
      const r = await importChain(server.url, fx);
      expect(r.failedAt).toBe(4);
      expect((r.error as VerificationError).check).toBe('block.parent-hash');
    } finally {
      await server.close();
    }
  });

  it('withheld: null below the head; by hash too; getheadblock still names the head', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'withheld', seed: 'chain', port: 0, from: 4 });
    try {
      for (let h = 1; h <= 3; h++) {
        const [f, o] = await Promise.all([
          raw(server.url, 'getblockbyheight', h),
          raw(fx.devnet.urls.consensus, 'getblockbyheight', h),
        ]);
        expect(f.body.equals(o.body)).toBe(true);
      }
      for (let h = 4; h <= 10; h++)
        expect(JSON.parse((await raw(server.url, 'getblockbyheight', h)).body.toString())).toEqual({
          result: null,
          error: null,
          id: 1,
        });
      expect((await rpc(server.url, 'getblockbyhash', fx.devnet.chain.at(5)!.hash.slice(2))).body.result).toBeNull();
      expect((await rpc(server.url, 'getheadblock', [])).body.result.message.execution_payload.block_number).toBe('10');
      const r = await importChain(server.url, fx);
      expect(r.failedAt).toBe(4);
      expect((r.error as Error).message).toMatch(/block 4 is missing below the head 10/);
    } finally {
      await server.close();
    }
  });

  it("reordered: getblockbyheight(h) answers an earlier height's block; by hash is honest", async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'reordered', seed: 'chain', port: 0 });
    try {
      for (let h = 1; h <= 10; h++) {
        const block = decode((await raw(server.url, 'getblockbyheight', h)).body);
        const n = Number(block.message.executionPayload.blockNumber);
        expect(n).toBeLessThan(h);
        expect(n).toBeGreaterThanOrEqual(Math.max(0, h - 3));
        expect(rootOf(block)).toBe(fx.devnet.chain.at(n)!.hash); // an honest block, just not this height's
        expect(server.plan(h)!.variant).toBe(`height-${n}`);
      }
      const byHash = decode((await raw(server.url, 'getblockbyhash', fx.devnet.chain.at(7)!.hash.slice(2))).body);
      expect(rootOf(byHash)).toBe(fx.devnet.chain.at(7)!.hash);
      const r = await importChain(server.url, fx);
      expect(r.failedAt).toBe(1);
      expect((r.error as VerificationError).check).toBe('block.parent-hash');
    } finally {
      await server.close();
    }
  });
});

/** The `slow` fault's delay: long enough that an undelayed loopback reply is far below it under load. */
const SLOW_MS = 1_000;

describe('transport faults', () => {
  it('slow: the honest bytes, late; a client with a shorter timeout gives up', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, {
      fault: 'slow',
      seed: 'wire',
      port: 0,
      from: 9,
      delayMs: SLOW_MS,
    });
    try {
      const honest9 = await raw(fx.devnet.urls.consensus, 'getblockbyheight', 9);
      const timedOut = await raw(server.url, 'getblockbyheight', 9, { timeoutMs: 80 });
      expect(timedOut.error).toBe('timeout');
      await expect(
        fetch(server.url, {
          method: 'POST',
          body: JSON.stringify({ method: 'getblockbyheight', params: 9, id: 1 }),
          signal: AbortSignal.timeout(80),
        }),
      ).rejects.toThrow(/timeout|aborted/i);
      const late = await raw(server.url, 'getblockbyheight', 9);
      // the server holds the reply SLOW_MS (a lower bound, whatever the load; 10 ms for timer rounding)
      expect(late.ms).toBeGreaterThanOrEqual(SLOW_MS - 10);
      expect(late.body.equals(honest9.body)).toBe(true);
      const early = await raw(server.url, 'getblockbyheight', 8);
      // below `from` nothing is held: a loopback reply well under the 1 s the fault would add, even on a
      // loaded 2-core machine (the delay was 250 ms and this bound 240 ms, which a busy machine could miss)
      expect(early.ms).toBeLessThan(SLOW_MS);
      expect(await importChain(server.url, fx)).toEqual({ through: 10, failedAt: null, error: null });
    } finally {
      await server.close();
    }
  });

  it('truncated: a prefix of the honest body, then the connection closes', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'truncated', seed: 'wire', port: 0 });
    try {
      const framings = new Set<string>();
      for (let h = 1; h <= 10; h++) {
        const [f, o] = await Promise.all([
          raw(server.url, 'getblockbyheight', h),
          raw(fx.devnet.urls.consensus, 'getblockbyheight', h),
        ]);
        expect(f.status).toBe(200);
        expect(f.error, `height ${h}`).not.toBeNull();
        expect(f.body.length).toBeGreaterThan(0);
        expect(f.body.length).toBeLessThan(o.body.length);
        expect(o.body.subarray(0, f.body.length).equals(f.body)).toBe(true);
        const framing = server.plan(h)!.variant;
        framings.add(framing);
        if (framing === 'content-length') expect(Number(f.headers['content-length'])).toBe(o.body.length);
        else expect(f.headers['transfer-encoding']).toBe('chunked');
      }
      expect(framings).toEqual(new Set(['content-length', 'chunked']));
      await expect(
        fetch(server.url, {
          method: 'POST',
          body: JSON.stringify({ method: 'getblockbyheight', params: 2, id: 1 }),
        }).then((r) => r.text()),
      ).rejects.toThrow();
      // the head (10) is faulted too: its getheadblock reply is cut as well
      expect((await raw(server.url, 'getheadblock', [])).error).not.toBeNull();
      const r = await importChain(server.url, fx, { head: 10 });
      expect(r.failedAt).toBe(1);
      expect(r.error).toBeInstanceOf(TypeError); // fetch: the body stream terminated
    } finally {
      await server.close();
    }
  });

  it('malformed-json: not JSON (SyntaxError) or the wrong shapes (DecodeError), per the seeded variant', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'malformed-json', seed: 'wire', port: 0 });
    try {
      const seen = new Set<string>();
      for (let h = 1; h <= 10; h++) {
        const f = await raw(server.url, 'getblockbyheight', h);
        expect(f.error).toBeNull();
        expect(f.status).toBe(200);
        const variant = server.plan(h)!.variant;
        seen.add(variant.split(':')[0]!);
        if (variant.startsWith('not-json')) expect(() => JSON.parse(f.body.toString())).toThrow(SyntaxError);
        else expect(() => decodeSignedBlockJson(JSON.parse(f.body.toString()).result)).toThrow(DecodeError);
      }
      expect(seen).toEqual(new Set(['not-json', 'shape']));
      const r = await importChain(server.url, fx, { head: 10 });
      expect(r.failedAt).toBe(1);
      expect(r.error instanceof SyntaxError || r.error instanceof DecodeError).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('what a fault server does not fault', () => {
  it('answers every other request exactly like the honest endpoint', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, { fault: 'wrong-parent', seed: 'honest', port: 0 });
    try {
      const same: [string, unknown][] = [
        ['getdepositaddress', []],
        ['getqueuedpow', []],
        ['nope', []],
        ['getblockbyheight', '1'],
        ['getblockbyheight', 99],
        ['getblockbyheight', [1]],
        ['getblockbyhash', 5],
        ['createauxblock', ['nope']],
        ['submitauxblock', ['00'.repeat(32), 'zz']],
        ['getblockbyheight', 0], // genesis is never faulted by content faults
      ];
      for (const [method, params] of same) {
        const [f, o] = await Promise.all([
          raw(server.url, method, params, { id: 'x' }),
          raw(fx.devnet.urls.consensus, method, params, { id: 'x' }),
        ]);
        expect({ method, status: f.status, body: f.body.toString() }).toEqual({
          method,
          status: o.status,
          body: o.body.toString(),
        });
      }
      const noParams = await fetch(server.url, {
        method: 'POST',
        body: JSON.stringify({ method: 'getheadblock', id: 1 }),
      });
      expect(await noParams.json()).toEqual({
        result: null,
        error: { code: -32600, message: 'Invalid Request' },
        id: 1,
      });
      expect((await fetch(server.url)).status).toBe(405);
      await expect(fetch(server.url, { method: 'POST', body: '{not json' }).then((r) => r.text())).rejects.toThrow();
      await expect(
        fetch(server.url, {
          method: 'POST',
          body: JSON.stringify({ method: 'getblockbyhash', params: 'zz', id: 1 }),
        }).then((r) => r.text()),
      ).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it("getblockbyhash answers the adversary's view: the mutated block by its root, nothing for the replaced honest root", async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, {
      fault: 'payload-hash-mismatch',
      seed: 'honest',
      port: 0,
      from: 5,
    });
    try {
      const served5 = decode((await raw(server.url, 'getblockbyheight', 5)).body);
      expect(rootOf(served5)).not.toBe(fx.devnet.chain.at(5)!.hash);
      const byRoot = decode((await raw(server.url, 'getblockbyhash', rootOf(served5).slice(2))).body);
      expect(rootOf(byRoot)).toBe(rootOf(served5));
      expect((await rpc(server.url, 'getblockbyhash', fx.devnet.chain.at(5)!.hash.slice(2))).body.result).toBeNull();
      const four = decode((await raw(server.url, 'getblockbyhash', fx.devnet.chain.at(4)!.hash.slice(2))).body);
      expect(rootOf(four)).toBe(fx.devnet.chain.at(4)!.hash);
      expect((await rpc(server.url, 'getblockbyhash', 'ab'.repeat(32))).body).toEqual({
        result: null,
        error: null,
        id: 1,
      });
    } finally {
      await server.close();
    }
  });

  it('keeps serving while the devnet grows: new blocks are faulted as they appear', async () => {
    const server = await serveFaultyConsensusRpc(fx.devnet, {
      fault: 'too-few-approvals',
      seed: 'grow',
      port: 0,
      from: 11,
    });
    try {
      expect(server.affects(11)).toBe(false);
      expect((await rpc(server.url, 'getblockbyheight', 11)).body.result).toBeNull();
      await fx.devnet.produceNext();
      expect(server.affects(11)).toBe(true);
      const b = decode((await raw(server.url, 'getblockbyheight', 11)).body);
      expect(defects(fx, 11, b)).toEqual(['approvals.threshold']);
    } finally {
      await server.close();
    }
  });
});
