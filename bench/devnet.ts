/**
 * Devnet scale-mode benchmark: fast generation (blocks/s, txs/s, ms and CPU ms per
 * block), persisting, and the start-up time of `--serve` for the generated chain, plus how fast the
 * served consensus RPC hands out blocks.
 *
 *   npm run bench -- devnet                      generates DEVNET_BENCH_BLOCKS (default 1000) blocks
 *   DEVNET_BENCH_DIR=<dir> npm run bench -- devnet   also measures serving an existing persisted
 *                                                 devnet (e.g. the 20,000 blocks of `--generate 20000`)
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDevnet } from '../src/devnet/generate/generate.js';
import { persistDevnet, servePersisted } from '../src/devnet/generate/persist.js';
import { report } from './report.js';

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

async function measureServe(dir: string, label: string): Promise<void> {
  const served = await servePersisted(dir, { consensusPort: 0, evmPort: 0, esploraPort: 0 });
  const head = served.persisted.manifest.head.number;
  report({
    name: `devnet.serve.startup[${label}]`,
    unit: 'ms',
    value: served.startupMs,
    better: 'lower',
    blocks: head,
    bytes: dirBytes(dir),
    target: 'a few seconds for 20,000 blocks',
  });
  const t0 = performance.now();
  const first = await fetch(served.urls.consensus, {
    method: 'POST',
    body: JSON.stringify({ method: 'getheadblock', params: [], id: 1 }),
  });
  await first.text();
  report({ name: `devnet.serve.first-head[${label}]`, unit: 'ms', value: performance.now() - t0, better: 'lower' });
  const n = Math.min(head, 2000);
  const t1 = performance.now();
  for (let h = 1; h <= n; h++) {
    const r = await fetch(served.urls.consensus, {
      method: 'POST',
      body: JSON.stringify({ method: 'getblockbyheight', params: h, id: h }),
    });
    await r.text();
  }
  report({
    name: `devnet.serve.consensus-blocks[${label}]`,
    unit: 'blocks/s',
    value: (n * 1000) / (performance.now() - t1),
    better: 'higher',
    blocks: n,
  });
  const t2 = performance.now();
  for (let h = 1; h <= n; h++) {
    const r = await fetch(served.urls.evm, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: h, method: 'eth_getBlockReceipts', params: [`0x${h.toString(16)}`] }),
    });
    await r.text();
  }
  report({
    name: `devnet.serve.evm-block-receipts[${label}]`,
    unit: 'blocks/s',
    value: (n * 1000) / (performance.now() - t2),
    better: 'higher',
    blocks: n,
  });
  await served.close();
}

export async function run(): Promise<void> {
  const blocks = Number(process.env['DEVNET_BENCH_BLOCKS'] ?? 1000);
  const g = await generateDevnet({ blocks, seed: 'bench-devnet' });
  const s = g.stats;
  const common = { blocks, txs: s.transactions, txPerBlock: Number((s.transactions / blocks).toFixed(2)) };
  report({
    name: 'devnet.generate.blocks-per-second',
    unit: 'blocks/s',
    value: (blocks * 1000) / s.elapsedMs,
    better: 'higher',
    ...common,
    target: '20,000 blocks in < 600 s (>= 33.3 blocks/s)',
  });
  report({
    name: 'devnet.generate.txs-per-second',
    unit: 'txs/s',
    value: (s.transactions * 1000) / s.elapsedMs,
    better: 'higher',
    ...common,
  });
  report({
    name: 'devnet.generate.ms-per-block',
    unit: 'ms',
    value: s.elapsedMs / blocks,
    better: 'lower',
    setupMs: Math.round(s.setupMs),
    cpuMsPerBlock: Number((s.cpuMs / blocks).toFixed(2)),
    phasesMsPerBlock: Object.fromEntries(
      Object.entries(s.phases).map(([k, v]) => [k, Number((v / blocks).toFixed(2))]),
    ),
  });
  report({
    name: 'devnet.generate.projected-20000',
    unit: 's',
    value: ((s.elapsedMs / blocks) * 20_000) / 1000,
    better: 'lower',
    target: '< 600',
  });
  const dir = mkdtempSync(join(tmpdir(), 'alys-bench-devnet-'));
  try {
    const t0 = performance.now();
    persistDevnet(g.devnet, dir, { seed: 'bench-devnet', stats: s });
    report({
      name: 'devnet.persist',
      unit: 'ms',
      value: performance.now() - t0,
      better: 'lower',
      blocks,
      bytes: dirBytes(dir),
    });
    await g.devnet.stop();
    await measureServe(dir, `${blocks} blocks`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const existing = process.env['DEVNET_BENCH_DIR'];
  if (existing) await measureServe(existing, existing);
}
