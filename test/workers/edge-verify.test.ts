/**
 * The edge Worker's `POST /verify/<kind>` inside workerd: every kind with a valid input (200) and
 * mutated ones (422, the check named), each answer equal to the CLI's line for the same input (the
 * `bls` backend aside: the Worker uses the precompiled wasm, the CLI run here noble); unusable
 * requests (400: not JSON, unknown kind, over the body cap, wrong shape), wrong routes (404/405), and
 * the configuration read from the vars.
 */
import { SELF } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { chainSpecToJson, getChainSpec } from '../../src/protocol/index.js';
import { VERIFY_KINDS } from '../../src/protocol/verify-json.js';
import { MAX_BODY_BYTES } from '../../workers/edge/body.js';
import { edgeConfig, resolveEdgeConfig, startupConfig, warmEdgeConfig } from '../../workers/edge/config.js';
import { EdgeConfigError } from '../../workers/edge/errors.js';
import { createRouter } from '../../workers/edge/router.js';
import { verifyRoute } from '../../workers/edge/routes/verify.js';

const { cases, vectorsMissing } = inject('edgeCases');
const STATUS = { 0: 200, 1: 422, 2: 400 } as const;

function post(path: string, body: BodyInit | null, init: RequestInit = {}) {
  return SELF.fetch(`http://edge.test${path}`, { method: 'POST', body, ...init });
}

async function answer(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('POST /verify/<kind>: the same answers as alys-light verify', () => {
  if (vectorsMissing) it.skip(`vector cases skipped: ${vectorsMissing}`, () => {});

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const res = await post(`/verify/${c.kind}`, c.body);
    const body = await answer(res);
    expect(res.status).toBe(STATUS[c.cli.exitCode]);
    const { bls: workerBls, ...rest } = body;
    const { bls: cliBls, ...cliRest } = c.cli.line;
    expect(rest).toEqual(cliRest);
    if (cliBls !== undefined) expect(workerBls).toBe('wasm');
    if (c.check !== undefined) {
      expect(res.status).toBe(422);
      expect(body).toMatchObject({ valid: false, check: c.check });
    }
  });

  it('every kind has a valid input above, and one that is rejected', () => {
    for (const kind of Object.keys(VERIFY_KINDS)) {
      expect(
        cases.some((c) => c.kind === kind && c.cli.exitCode === 0),
        kind,
      ).toBe(true);
      if (!vectorsMissing)
        expect(
          cases.some((c) => c.kind === kind && c.check !== undefined),
          kind,
        ).toBe(true);
    }
  });
});

describe('unusable requests: 400 with the reason', () => {
  it('a body that is not JSON', async () => {
    const res = await post('/verify/block', '{not json');
    expect(res.status).toBe(400);
    expect(await answer(res)).toMatchObject({ kind: 'block', valid: false, code: 'edge.bad-json' });
  });

  it('a body that is not UTF-8', async () => {
    const res = await post('/verify/bls', new Uint8Array([0x22, 0xff, 0x22]));
    expect(res.status).toBe(400);
    expect(await answer(res)).toMatchObject({ code: 'edge.bad-json' });
  });

  it('an unknown kind, and names that are no kind (__proto__, toString)', async () => {
    for (const kind of ['nonsense', '__proto__', 'toString']) {
      const res = await post(`/verify/${kind}`, '{}');
      expect(res.status, kind).toBe(400);
      expect(await answer(res)).toMatchObject({ kind, valid: false, code: 'edge.unknown-kind' });
    }
  });

  it('JSON of the wrong shape names the path, as the CLI does', async () => {
    const res = await post('/verify/bls', JSON.stringify({ pubkey: '0x1234', message: '0x00', signature: '0x00' }));
    expect(res.status).toBe(400);
    expect(await answer(res)).toMatchObject({ valid: false, path: '$.pubkeys[0]' });
  });

  it('a body over the cap, declared or streamed without a length, is refused', async () => {
    const big = `"${'a'.repeat(MAX_BODY_BYTES)}"`;
    const declared = await post('/verify/block', big);
    expect(declared.status).toBe(400);
    expect(await answer(declared)).toMatchObject({ code: 'edge.body-too-large' });

    let sent = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 4 * MAX_BODY_BYTES) controller.close();
        else {
          sent += chunk.length;
          controller.enqueue(chunk);
        }
      },
    });
    const streamed = await post('/verify/block', stream);
    expect(streamed.status).toBe(400);
    expect(await answer(streamed)).toMatchObject({ code: 'edge.body-too-large' });
    expect(sent).toBeLessThan(4 * MAX_BODY_BYTES); // it stopped reading
  });

  it('a body just under the cap is read (and then judged on its content)', async () => {
    const res = await post('/verify/pegin', JSON.stringify(`${'0'.repeat(MAX_BODY_BYTES - 16)}`));
    expect(res.status).toBe(400);
    expect(await answer(res)).toMatchObject({ kind: 'pegin', code: 'decode' });
  });
});

describe('routes', () => {
  it('GET on a verify route is 405, an unknown path 404', async () => {
    const get = await SELF.fetch('http://edge.test/verify/block');
    expect(get.status).toBe(405);
    expect(await answer(get)).toMatchObject({ error: 'edge.method-not-allowed' });
    for (const path of ['/', '/verify', '/verify/', '/verify/block/extra', '/nope']) {
      const res = await post(path, '{}');
      expect(res.status, path).toBe(404);
      expect(await answer(res)).toMatchObject({ error: 'edge.not-found' });
    }
  });
});

describe('configuration from the vars', () => {
  it('is made once per isolate for the same vars', () => {
    const env = { ALYS_CHAIN: 'dev', ALYS_BLS: 'wasm' };
    expect(edgeConfig({ ...env })).toBe(edgeConfig({ ...env }));
    expect(edgeConfig({ ...env }).spec.chainId).toBe(121212);
  });

  it("the spec's authority keys are prepared once per configuration, with its backend", async () => {
    const config = resolveEdgeConfig({ ALYS_CHAIN: 'dev', ALYS_BLS: 'wasm' });
    const keys = await config.authorities();
    expect(await config.authorities()).toBe(keys);
    expect(keys).toMatchObject({ backend: 'wasm', count: config.spec.authorities.length });
  });

  it('made and warmed at startup for the Worker vars: backend and keys ready before any request', async () => {
    expect(startupConfig).toMatchObject({ chain: 'dev', blsName: 'wasm' });
    // an already settled promise wins the race against a resolved one listed after it; a pending one loses
    const pending = Symbol('pending');
    const settled = async (p: Promise<unknown>) =>
      (await Promise.race([p, pending])) === pending ? 'pending' : 'ready';
    expect(await settled(startupConfig!.bls())).toBe('ready');
    expect(await settled(startupConfig!.authorities())).toBe('ready');
    expect(await warmEdgeConfig({ ALYS_CHAIN: 'mainnet' })).toBeUndefined();
  });

  it('a shipped name, a spec JSON, or a typed error naming the var', () => {
    expect(resolveEdgeConfig({ ALYS_CHAIN: 'testnet' }).spec.chainId).toBe(727272);
    const custom = JSON.stringify({ ...chainSpecToJson(getChainSpec('dev')), chainId: 5 });
    expect(resolveEdgeConfig({ ALYS_CHAIN_SPEC: custom })).toMatchObject({ chain: 'custom', spec: { chainId: 5 } });
    const bad: [Record<string, string>, string][] = [
      [{}, 'ALYS_CHAIN'],
      [{ ALYS_CHAIN: 'mainnet' }, 'ALYS_CHAIN'],
      [{ ALYS_CHAIN: 'dev', ALYS_CHAIN_SPEC: '{}' }, 'ALYS_CHAIN'],
      [{ ALYS_CHAIN_SPEC: '{' }, 'ALYS_CHAIN_SPEC'],
      [{ ALYS_CHAIN: 'dev', ALYS_BLS: 'blst' }, 'ALYS_BLS'],
    ];
    for (const [env, key] of bad) {
      const err = (() => {
        try {
          resolveEdgeConfig(env);
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(env)).toBeInstanceOf(EdgeConfigError);
      expect(err).toMatchObject({ code: 'edge.config', key });
    }
  });

  it('unusable vars make the Worker answer 500 naming the var, not crash', async () => {
    const route = createRouter([verifyRoute]);
    const res = await route(new Request('http://edge.test/verify/bls', { method: 'POST', body: '{}' }), {
      ALYS_CHAIN: 'mainnet',
    });
    expect(res.status).toBe(500);
    expect(await answer(res)).toMatchObject({ error: 'edge.config', key: 'ALYS_CHAIN' });
  });
});
