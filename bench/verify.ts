/**
 * Protocol verification benchmarks. Per operation: ms per op and ops/s, with same-run
 * baselines where a choice exists (noble vs blst vs wasm for BLS; @noble/hashes vs
 * node:crypto for sha256). Real inputs come from $ALYS_VECTORS (default ../shared/vectors).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  checkAuxPow,
  checkProofOfWork,
  computePayloadBlockHash,
  createBlsBackend,
  decodeAuxPow,
  decodeExecutionPayloadJson,
  decodeGetProofResponse,
  decodeHeader,
  encodeAggregationBits,
  headerHash,
  parseHex,
  prepareAuthorities,
  signingRoot,
  targetFromCompact,
  toHex,
  verifyAggregateApproval,
  verifyGetProofResponse,
  type BlsBackend,
  type ConsensusBlock,
} from '../src/protocol/index.js';
import { report } from './report.js';

const vectorsDir = resolve(process.env.ALYS_VECTORS ?? resolve(import.meta.dirname, '../../shared/vectors'));
if (!existsSync(resolve(vectorsDir, 'README.md'))) {
  console.error(`no vectors at ${vectorsDir}: set ALYS_VECTORS`);
  process.exit(2);
}
const load = (f: string) => JSON.parse(readFileSync(resolve(vectorsDir, f), 'utf8'));

/** Run `fn` repeatedly for ~`ms` (after a warm-up); returns ms per op (median of 5 samples). */
function measure(fn: () => void, ms = 400): number {
  const warm = performance.now();
  let n = 0;
  while (performance.now() - warm < ms / 4) {
    fn();
    n++;
  }
  const per = Math.max(1, Math.floor((n * 4) / 5 / 5));
  const samples: number[] = [];
  for (let s = 0; s < 5; s++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) fn();
    samples.push((performance.now() - t0) / per);
  }
  samples.sort((a, b) => a - b);
  return samples[2]!;
}

function op(name: string, msPerOp: number, extra: Record<string, unknown> = {}, baselineMs?: number): void {
  report({
    name,
    unit: 'ms/op',
    value: msPerOp,
    ...(baselineMs !== undefined ? { baseline: baselineMs } : {}),
    better: 'lower',
    opsPerSec: Math.round(1000 / msPerOp),
    ...extra,
  });
}

function signingRootOf200TxBlock(): void {
  const mainnet = load('eth-capella-blocks.json').blocks.find(
    (b: { beacon_execution_payload?: unknown }) => b.beacon_execution_payload,
  );
  const payload = decodeExecutionPayloadJson(mainnet.beacon_execution_payload);
  payload.transactions = payload.transactions.slice(0, 200);
  const block: ConsensusBlock = {
    parentHash: toHex(new Uint8Array(32).fill(1)),
    slot: 1,
    auxpowHeader: null,
    executionPayload: payload,
    pegins: [],
    pegoutPaymentProposal: null,
    finalizedPegouts: [],
  };
  op(
    'verify.signing-root.200-tx-block',
    measure(() => signingRoot(block)),
    { transactions: 200 },
  );
  const full = decodeExecutionPayloadJson(mainnet.beacon_execution_payload);
  op(
    'verify.eth-block-hash.217-tx-mainnet',
    measure(() => computePayloadBlockHash(full)),
    { transactions: full.transactions.length },
  );
}

async function bls(): Promise<void> {
  const backends: BlsBackend[] = [];
  for (const name of ['noble', 'blst', 'wasm'] as const) {
    try {
      backends.push(await createBlsBackend(name));
    } catch (e) {
      console.error(`bls backend ${name} unavailable: ${(e as Error).message}`);
    }
  }
  const noble = backends.find((b) => b.name === 'noble')!;
  const root = new Uint8Array(32).fill(0x5a);
  for (const n of [3, 15]) {
    const sks = Array.from({ length: n }, (_, i) => {
      const sk = new Uint8Array(32);
      sk[31] = i + 1;
      return sk;
    });
    const pks = sks.map((sk) => noble.secretToPublicKey(sk));
    const sig = noble.aggregateSignatures(sks.map((sk) => noble.sign(sk, root)));
    const approval = { aggregationBits: encodeAggregationBits([...Array(n).keys()]), aggregateSignature: toHex(sig) };
    const results = new Map<string, number>();
    for (const backend of backends) {
      const authorities = prepareAuthorities(pks, backend);
      verifyAggregateApproval({ root, approval, authorities, backend }); // must verify
      results.set(
        backend.name,
        measure(() => verifyAggregateApproval({ root, approval, authorities, backend }), 1500),
      );
    }
    for (const [name, ms] of results)
      op(
        `verify.bls.aggregate-approval.${n}-signers.${name}`,
        ms,
        { target: name === 'blst' ? '<= 2 ms' : name === 'wasm' ? '<= 8 ms' : 'baseline' },
        results.get('noble'),
      );
  }
}

function auxpowAndHeaders(): void {
  const v = load('namecoin-auxpow.json').vectors.find((x: { name: string }) => x.name.includes('37174'));
  const bytes = parseHex(v.auxpow_hex, 'auxpow', { prefix: 'optional' });
  const auxHash = parseHex(v.block_hash, 'hash', { prefix: 'forbidden' }).reverse();
  const chainId = Number(v.aux_chain_id);
  checkAuxPow(decodeAuxPow(bytes), auxHash, chainId, { variant: 'script-sig' });
  op(
    'verify.auxpow.decode-and-check',
    measure(() => checkAuxPow(decodeAuxPow(bytes), auxHash, chainId, { variant: 'script-sig' })),
    {
      target: '>= 20000 ops/s per core',
      vector: v.name,
    },
  );

  const headers: Uint8Array[] = load('bitcoin-headers.json').retarget_span.headers.map((h: string) =>
    parseHex(h, 'h', { prefix: 'optional', length: 80 }),
  );
  let i = 0;
  const targets = new Map<number, bigint>();
  const sha256dFloor = measure(() => headerHash(headers[i++ % headers.length]!));
  op(
    'verify.bitcoin.header-pow',
    measure(() => {
      const bytes = headers[i++ % headers.length]!;
      const header = decodeHeader(bytes);
      let target = targets.get(header.bits);
      if (target === undefined) targets.set(header.bits, (target = targetFromCompact(header.bits)));
      if (!checkProofOfWork(bytes, target)) throw new Error('bad pow');
    }),
    { target: '>= 300000 ops/s per core', work: 'decode 80 bytes + sha256d + compare' },
    sha256dFloor,
  );
}

function accountProof(): void {
  const c = load('eth-getproof.json').cases[0];
  const response = decodeGetProofResponse(c.result);
  verifyGetProofResponse(c.state_root, response);
  op(
    'verify.eth-account-proof',
    measure(() => verifyGetProofResponse(c.state_root, response)),
    {
      case: c.name,
      storageSlots: response.storageProof.length,
    },
  );
}

function sha256Baselines(): void {
  for (const size of [64, 1 << 20]) {
    const data = new Uint8Array(size).fill(7);
    const nobleMs = measure(() => sha256(data));
    const nodeMs = measure(() => createHash('sha256').update(data).digest());
    report({
      name: `verify.sha256.${size}B.noble`,
      unit: 'ms/op',
      value: nobleMs,
      baseline: nodeMs,
      better: 'lower',
      baselineIs: 'node:crypto',
      MBps: Math.round(size / 1e6 / (nobleMs / 1000)),
    });
  }
}

export async function run(): Promise<void> {
  signingRootOf200TxBlock();
  await bls();
  auxpowAndHeaders();
  accountProof();
  sha256Baselines();
}
