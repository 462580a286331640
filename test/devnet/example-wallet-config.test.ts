/**
 * examples/wallet/devnet-config.js copies two devnet facts (it runs with plain node in the example, so
 * it cannot import the sources): the prefunded user's key derivation and the predeployed token's
 * address. This keeps those copies equal to src/devnet.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { devnetAccountKey } from '../../src/devnet/consensus/keys.js';
import { LOAD_TOKEN_ADDRESS } from '../../src/devnet/evm/genesis.js';

describe('the example wallet devnet config', () => {
  it.each([
    ['alys-devnet', 0],
    ['other-seed', 3],
  ])('seed %s, user %i: the key and token src/devnet uses', async (seed, user) => {
    const dir = await mkdtemp(join(tmpdir(), 'wallet-config-'));
    try {
      const base = join(dir, 'base.json');
      const out = join(dir, 'out.json');
      await writeFile(base, JSON.stringify({ chainSpec: {}, rpc: ['http://rpc'], evmRpc: ['http://evm'] }));
      await promisify(execFile)(
        process.execPath,
        ['examples/wallet/devnet-config.js', base, '--seed', seed, '--user', String(user), '--out', out],
        { cwd: join(import.meta.dirname, '../..') },
      );
      const config = JSON.parse(await readFile(out, 'utf8'));
      expect(config.account.privateKey).toBe(toHex(devnetAccountKey(seed, 'user', user)));
      expect(config.token.toLowerCase()).toBe(LOAD_TOKEN_ADDRESS.toLowerCase());
      expect(config.rpc).toEqual(['http://rpc']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
