/**
 * `alys-light verify`: every kind with a valid input (exit 0), an input that breaks a rule
 * (exit 1, the failing check named) and an unusable one (exit 2, the path named). Inputs are built
 * from the shared vectors at test time (never copied into the repo) or generated here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.js';
import {
  aggregateApprovals,
  createFederationFromSpec,
  encodeSignedBlockJson,
  getChainSpec,
  signApproval,
  signingRoot,
  toHex,
} from '../../src/protocol/index.js';
import { DEV_SK1, devBlock } from '../helpers/dev-block.js';
import { peginTx } from '../helpers/pegin.js';
import { describeVectors, loadVectors } from '../helpers/vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'alys-verify-'));
let n = 0;
function file(content: unknown): string {
  const p = join(dir, `in-${++n}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

async function verify(kind: string, input: unknown, opts: { chain?: string } = {}) {
  return runVerify(kind, file(input), { bls: 'noble', ...opts });
}

const SK1 = DEV_SK1;

describe('verify block', () => {
  it('a correctly signed DEV block is valid: hash, signers and threshold are reported', async () => {
    const block = devBlock();
    const r = await verify('block', encodeSignedBlockJson(block));
    expect(r.exitCode).toBe(0);
    expect(r.line).toMatchObject({
      kind: 'block',
      valid: true,
      reason: null,
      hash: toHex(signingRoot(block.message)),
      number: '7',
      signers: [0],
      required: 1,
    });
  });

  it('accepts a whole JSON-RPC response', async () => {
    const r = await verify('block', { id: 1, error: null, result: encodeSignedBlockJson(devBlock()) });
    expect(r.exitCode).toBe(0);
  });

  it('a changed field breaks the signature; a wrong payload hash and a future slot are named', async () => {
    const json = encodeSignedBlockJson(devBlock()) as any;
    json.message.slot += 1;
    expect((await verify('block', json)).line).toMatchObject({ valid: false, check: 'approvals.signature' });
    const wrongHash = encodeSignedBlockJson(devBlock()) as any;
    wrongHash.message.execution_payload.gas_used = '1';
    // re-sign so only the payload hash is wrong
    expect((await verify('block', wrongHash)).exitCode).toBe(1);
    const b = devBlock();
    b.message.executionPayload.gasUsed = 1n;
    b.signature = aggregateApprovals([signApproval(SK1, signingRoot(b.message), 0)]);
    expect((await verify('block', encodeSignedBlockJson(b))).line).toMatchObject({
      valid: false,
      check: 'payload.block-hash',
    });
    const future = devBlock();
    // the rule needs the slot past both ts/slot_duration + 1 and ts/3000 + 1 (spec 3.2)
    future.message.slot = Number((future.message.executionPayload.timestamp * 1000n) / 3000n) + 2;
    future.signature = aggregateApprovals([signApproval(SK1, signingRoot(future.message), 0)]);
    expect((await verify('block', encodeSignedBlockJson(future))).line).toMatchObject({
      valid: false,
      check: 'block.slot-in-future',
    });
  });

  it('a block signed by a key that is not an authority of the chain is refused', async () => {
    const r = await verify('block', encodeSignedBlockJson(devBlock()), { chain: 'testnet' });
    expect(r.exitCode).toBe(1);
    expect(r.line.check).toMatch(/^approvals\./);
  });

  it('unusable input names the JSON path', async () => {
    const json = encodeSignedBlockJson(devBlock()) as any;
    json.message.execution_payload.withdrawals[0].amount = 'ten';
    const r = await verify('block', json);
    expect(r.exitCode).toBe(2);
    expect(r.line.path).toBe('$.message.execution_payload.withdrawals[0].amount');
    expect((await runVerify('block', file('{not json'))).exitCode).toBe(2);
    expect((await runVerify('block', join(dir, 'missing.json'))).line.reason).toMatch(/cannot read/);
    expect((await runVerify('nonsense', file({}))).exitCode).toBe(2);
    expect((await runVerify('block', file({}), { chain: '/nonexistent/spec.json' })).line.path).toBe('--chain');
  });
});

describe('verify pegin, bls (generated)', () => {
  it('a peg-in to the DEV federation is valid; the same tx to another federation is not', async () => {
    const fed = createFederationFromSpec(getChainSpec('dev'));
    const tx = peginTx(fed.scriptPubkey);
    const ok = await verify('pegin', { tx: toHex(tx) });
    expect(ok.line).toMatchObject({
      valid: true,
      amountSats: '25000',
      amountWei: '250000000000000',
      evmAddress: `0x${'ab'.repeat(20)}`,
    });
    expect(ok.line.depositAddress).toBe('bcrt1p3srvwkq5kyzlxqls43x97ch2vpcp4j278nk8jjuzcgt8k40ttr9s4vj934'); // spec 6.1
    expect((await verify('pegin', { tx: toHex(tx) }, { chain: 'testnet' })).line).toMatchObject({
      valid: false,
      check: 'pegin.not-a-pegin',
    });
    expect((await verify('pegin', { tx: '00' })).exitCode).toBe(2);
  });

  it('bls: a valid single signature, a wrong message, a malformed key', async () => {
    const sig = signApproval(SK1, new Uint8Array(32).fill(7), 0).signature;
    const pk = getChainSpec('dev').authorities[0];
    expect(
      (await verify('bls', { pubkey: pk, message: toHex(new Uint8Array(32).fill(7)), signature: sig })).exitCode,
    ).toBe(0);
    expect(
      (await verify('bls', { pubkey: pk, message: toHex(new Uint8Array(32).fill(8)), signature: sig })).line,
    ).toMatchObject({ check: 'bls.signature' });
    expect((await verify('bls', { pubkey: '0x1234', message: '0x00', signature: sig })).line).toMatchObject({
      path: '$.pubkeys[0]',
    });
  });
});

describeVectors('verify with the shared known-answer vectors', () => {
  it('bls: official fast_aggregate_verify cases', async () => {
    const v = loadVectors('bls-eth2.json');
    for (const c of v.fast_aggregate_verify) {
      const r = await verify('bls', c.input);
      if (c.output === true) expect(r.exitCode, c.case).toBe(0);
      else expect(r.exitCode, c.case).not.toBe(0);
    }
  });

  it('auxpow: Namecoin vectors (script-sig variant) with PoW, and a mutated aux hash', async () => {
    const v = loadVectors('namecoin-auxpow.json');
    const nmc = v.vectors.filter((x: any) => x.network === 'namecoin-mainnet');
    expect(nmc.length).toBeGreaterThan(0);
    for (const x of nmc) {
      const input = {
        auxpow: x.auxpow_hex,
        auxHash: x.block_hash.match(/../g).reverse().join(''),
        chainId: Number(x.aux_chain_id),
        variant: 'script-sig',
      };
      const r = await verify('auxpow', input);
      expect(r.line, x.name).toMatchObject({ valid: true, chainId: 1 });
      const bad = await verify('auxpow', { ...input, auxHash: '00'.repeat(32) });
      expect(bad.exitCode, x.name).toBe(1);
      expect(String(bad.line.check)).toMatch(/^auxpow\./);
    }
  });

  it('eth-block and eth-proof: real blocks and proofs; the lying proof is caught', async () => {
    const blocks = loadVectors('eth-capella-blocks.json').blocks.filter((b: any) => b.eth_getBlockByNumber_result);
    for (const b of blocks) {
      const r = await verify('eth-block', {
        ...b.eth_getBlockByNumber_result,
        ...(b.raw_transactions ? { rawTransactions: b.raw_transactions } : {}),
      });
      expect(r.line, b.name).toMatchObject({ valid: true });
      const bad = structuredClone(b.eth_getBlockByNumber_result);
      bad.gasUsed = '0x1';
      expect((await verify('eth-block', bad)).exitCode, b.name).toBe(1);
    }
    const proofs = loadVectors('eth-getproof.json');
    for (const c of proofs.cases) {
      const r = await verify('eth-proof', { stateRoot: c.state_root, proof: c.result });
      expect(r.line, c.name).toMatchObject({ valid: true });
    }
    // the negative case of the file: the same response with balance + 1 wei
    const base = proofs.cases.find((x: any) => x.name === proofs.negative_cases[0].base);
    const lying = structuredClone(base.result);
    lying.balance = `0x${(BigInt(lying.balance) + 1n).toString(16)}`;
    expect((await verify('eth-proof', { stateRoot: base.state_root, proof: lying })).line).toMatchObject({
      valid: false,
      check: 'getproof.balance',
    });
  });

  it('btc-headers: the 2017-header span across a retarget; a header out of order is refused', async () => {
    const span = loadVectors('bitcoin-headers.json').retarget_span;
    const headers = span.headers.slice(0, 2017);
    const r = await verify('btc-headers', { network: 'mainnet', height: Number(span.start_height), headers });
    expect(r.line).toMatchObject({ valid: true, from: 826560, to: 828576 });
    const swapped = [...headers];
    [swapped[5], swapped[6]] = [swapped[6], swapped[5]];
    expect(
      (await verify('btc-headers', { network: 'mainnet', height: Number(span.start_height), headers: swapped }))
        .exitCode,
    ).toBe(1);
    expect((await verify('btc-headers', headers.slice(0, 10))).line).toMatchObject({ valid: true, headers: 10 });
  });

  it('btc-headers, pegin: a network that is no network name is a typed error naming $.network (found by bench/fuzz.ts)', async () => {
    const headers = loadVectors('bitcoin-headers.json').retarget_span.headers.slice(0, 2);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const network of [deep, '"toString"', '"__proto__"', '["mainnet"]']) {
      for (const [kind, rest] of [
        ['btc-headers', `"headers": ${JSON.stringify(headers)}`],
        ['pegin', '"tx": "00"'],
      ] as const) {
        const r = await runVerify(kind, file(`{"network": ${network}, ${rest}}`), { bls: 'noble' });
        expect(r.line, `${kind} ${network.slice(0, 12)}`).toMatchObject({
          valid: false,
          path: '$.network',
          code: 'decode',
        });
        expect(r.exitCode).toBe(2);
      }
    }
  });

  it('btc-merkle: gettxoutproof proofs and Electrum-style branches', async () => {
    const m = loadVectors('bitcoin-merkle.json');
    for (const p of m.txoutproofs) {
      const r = await verify('btc-merkle', { txoutproof: p.proof_hex });
      expect(r.line, p.file).toMatchObject({ valid: true, totalTransactions: p.total_transactions });
    }
    const b = m.block_830000;
    for (const tx of b.txs) {
      const r = await verify('btc-merkle', {
        tx: tx.hex,
        branch: tx.merkle_branch,
        index: Number(tx.index),
        header: b.header_hex,
        totalTransactions: Number(b.nTx),
      });
      expect(r.line, tx.txid).toMatchObject({ valid: true, txid: tx.txid, index: Number(tx.index) });
    }
    const tx = b.txs[1];
    expect(
      (
        await verify('btc-merkle', {
          txid: tx.txid,
          branch: tx.merkle_branch,
          index: Number(tx.index) + 2,
          header: b.header_hex,
        })
      ).exitCode,
    ).toBe(1);
  });

  it('pegin: the real regtest peg-in pays a federation that is not the DEV one', async () => {
    const p = loadVectors('alys-real.json').pegin;
    expect((await verify('pegin', { tx: p.tx_hex })).line).toMatchObject({ valid: false, check: 'pegin.not-a-pegin' });
  });
});

describe('the alys-light binary', () => {
  it('prints one JSON line and exits 0 / 1 / 2', () => {
    const bin = join(import.meta.dirname, '../../bin/alys-light.js');
    const run = (args: string[]) => {
      try {
        return { code: 0, out: execFileSync('node', [bin, ...args], { encoding: 'utf8' }) };
      } catch (e) {
        const err = e as { status: number; stdout: string };
        return { code: err.status, out: err.stdout };
      }
    };
    const good = run(['verify', 'block', file(encodeSignedBlockJson(devBlock())), '--bls', 'noble']);
    expect(good.code).toBe(0);
    expect(good.out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(good.out)).toMatchObject({ kind: 'block', valid: true });
    const json = encodeSignedBlockJson(devBlock()) as any;
    json.message.slot += 1;
    expect(run(['verify', 'block', file(json), '--bls', 'noble']).code).toBe(1);
    expect(run(['verify', 'block', file('[')]).code).toBe(2);
    expect(run(['verify']).code).toBe(2);
  });
});

afterAll(() => {});
