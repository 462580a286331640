/**
 * A long persisted devnet chain for the head-first tests and benchmarks (issue 12: at least 20,000
 * blocks): generated once per machine into the OS temp directory (`--generate` with the peg-out
 * load only, about 2 minutes for 20,000 blocks here), then served frozen from disk
 * (`servePersisted`) on free ports. Generation writes to a private directory and renames it into
 * place, so concurrent test files never see half a chain; delete the directory to regenerate (the
 * generator is deterministic per seed, so the chain is the same).
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDevnet } from '../../src/devnet/generate/generate.js';
import { persistDevnet, servePersisted, type ServedDevnet } from '../../src/devnet/generate/persist.js';

export const BIG_CHAIN_BLOCKS = 20_000;
const SEED = 'alys-light-big-chain';

/** The directory of a persisted chain of `blocks` blocks (generated now if this machine has none). */
export async function bigChainDir(blocks = BIG_CHAIN_BLOCKS): Promise<string> {
  const dir = join(tmpdir(), `alys-devnet-big-chain-${blocks}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const work = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const g = await generateDevnet({ blocks, seed: SEED, txPerBlock: 0, dataDir: work });
  persistDevnet(g.devnet, work, { seed: SEED, options: g.options, stats: g.stats });
  await g.devnet.stop();
  try {
    await rename(work, dir);
  } catch {
    await rm(work, { recursive: true, force: true }); // another process got there first
  }
  return dir;
}

/** The chain served from disk on free ports (close it after). */
export async function serveBigChain(blocks = BIG_CHAIN_BLOCKS): Promise<ServedDevnet> {
  return servePersisted(await bigChainDir(blocks), { consensusPort: 0, evmPort: 0, esploraPort: 0 });
}
