/**
 * Engine benchmark (not a test): ms per block of 20 transfers and of 20 mixed transactions (transfers,
 * token mints/transfers with storage writes and logs, peg-out requests, a few reverts), and memory
 * after N blocks. Run: npx tsx --expose-gc test/devnet/evm/bench-engine.ts [blocks=1000]
 */
import { BRIDGE_ADDRESS } from '../../../src/protocol/bridge/pegout.js';
import { computePayloadBlockHash } from '../../../src/protocol/index.js';
import { createEngine } from '../../../src/devnet/evm/index.js';
import { attrs, devKeys, LOAD_TOKEN_ADDRESS, pegOut, prefund, signTx, tokenMint, tokenTransfer } from './helpers.js';

const BLOCKS = Number(process.argv[2] ?? 1000);
const TX_PER_BLOCK = 20;
const gc = (globalThis as { gc?: () => void }).gc;

async function run(kind: 'transfers' | 'mixed', blocks: number): Promise<void> {
  const keys = devKeys(400, kind === 'mixed' ? 2 : 1);
  const engine = await createEngine({ alloc: prefund(keys) });
  const nonces = keys.map(() => 0n);
  let parent = engine.genesisPayload();
  gc?.();
  const mem0 = process.memoryUsage();
  let execMs = 0;
  let signMs = 0;
  for (let b = 1; b <= blocks; b++) {
    const s0 = performance.now();
    const txs: Uint8Array[] = [];
    for (let i = 0; i < TX_PER_BLOCK; i++) {
      const fromIdx = (b * TX_PER_BLOCK + i) % keys.length;
      const from = keys[fromIdx]!;
      const to = keys[(fromIdx + 13) % keys.length]!.address;
      const nonce = nonces[fromIdx]!++;
      const r = (b * 7 + i) % 10;
      if (kind === 'transfers' || r < 4)
        txs.push(signTx(from, { nonce, to, value: 1000n + BigInt(i) }, (i % 3) as 0 | 1 | 2));
      else if (r < 6)
        txs.push(
          signTx(from, {
            nonce,
            to: LOAD_TOKEN_ADDRESS,
            data: tokenMint(from.address, 10n ** 18n),
            gasLimit: 100_000n,
          }),
        );
      else if (r < 9)
        txs.push(signTx(from, { nonce, to: LOAD_TOKEN_ADDRESS, data: tokenTransfer(to, 1n), gasLimit: 100_000n }));
      else if (i % 2 === 0)
        txs.push(
          signTx(from, {
            nonce,
            to: BRIDGE_ADDRESS,
            value: 2n * 10n ** 16n,
            data: pegOut('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'),
            gasLimit: 100_000n,
          }),
        );
      else txs.push(signTx(from, { nonce, to: BRIDGE_ADDRESS, value: 1n, gasLimit: 100_000n })); // reverts
    }
    signMs += performance.now() - s0;
    const t0 = performance.now();
    const built = await engine.buildPayload(attrs(parent.blockHash, parent.timestamp + 2n, { transactions: txs }));
    execMs += performance.now() - t0;
    if (built.payload.transactions.length !== TX_PER_BLOCK) throw new Error('not all transactions included');
    if (b % 97 === 0 && computePayloadBlockHash(built.payload) !== built.payload.blockHash)
      throw new Error('hash mismatch');
    parent = built.payload;
  }
  gc?.();
  const mem1 = process.memoryUsage();
  const s = engine.stats();
  const reverted = (await engine.receipts(parent.blockHash)).filter((r) => r.status === 'reverted').length;
  console.log(
    `${kind}: ${blocks} blocks x ${TX_PER_BLOCK} txs: ${(execMs / blocks).toFixed(2)} ms/block (engine.buildPayload), signing ${(signMs / blocks).toFixed(2)} ms/block;` +
      ` heap ${(mem0.heapUsed / 2 ** 20).toFixed(0)} -> ${(mem1.heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(mem1.rss / 2 ** 20).toFixed(0)} MiB;` +
      ` state nodes ${s.stateNodes}, gc runs ${s.gcRuns} (${(s.gcMs / Math.max(1, s.gcRuns)).toFixed(1)} ms each); last block reverted txs ${reverted}`,
  );
  await engine.close();
}

if (process.env['ONLY'] !== 'mixed') await run('transfers', BLOCKS);
await run('mixed', BLOCKS);
