/**
 * Generation is deterministic from the seed: the same seed and options give the same chain byte
 * for byte (consensus block hashes, EL block hashes, Bitcoin blocks, every persisted file), whether
 * the signing runs on the helper thread or inline; another seed gives another chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDevnet } from '../../../src/devnet/generate/generate.js';
import { persistDevnet, type Manifest } from '../../../src/devnet/generate/persist.js';
import { toHex } from '../../../src/protocol/index.js';

const BLOCKS = 36;
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function run(
  seed: string,
  inline: boolean,
): Promise<{ hashes: string[]; el: string[]; btcTip: string; manifest: Manifest }> {
  const g = await generateDevnet({ blocks: BLOCKS, seed, inline, powEvery: 6, peginEvery: 3, pegoutEvery: 3 });
  try {
    const hashes = Array.from({ length: BLOCKS + 1 }, (_, n) => g.devnet.chain.at(n)!.hash);
    const el = Array.from(
      { length: BLOCKS + 1 },
      (_, n) => g.devnet.chain.at(n)!.signed.message.executionPayload.blockHash,
    );
    const dir = mkdtempSync(join(tmpdir(), 'alys-determinism-'));
    dirs.push(dir);
    const manifest = persistDevnet(g.devnet, dir, { seed });
    expect(g.stats.pegins + g.stats.pegouts + g.stats.powBlocks).toBeGreaterThan(5);
    return { hashes, el, btcTip: toHex(g.devnet.bitcoin.tip().hash), manifest };
  } finally {
    await g.devnet.stop();
  }
}

describe('deterministic generation', () => {
  it('same seed -> the same chain and files, with or without the helper thread; another seed -> another chain', async () => {
    const a = await run('determinism', false);
    const b = await run('determinism', true);
    expect(b.hashes).toEqual(a.hashes);
    expect(b.el).toEqual(a.el);
    expect(b.btcTip).toBe(a.btcTip);
    expect(b.manifest.files).toEqual(a.manifest.files);
    expect(new Set(a.hashes).size).toBe(BLOCKS + 1);
    const c = await run('determinism-2', true);
    expect(c.hashes[0]).not.toBe(a.hashes[0]); // the federation keys derive from the seed
    expect(c.hashes.slice(1).some((h, i) => h === a.hashes[i + 1])).toBe(false);
  }, 120_000);
});
