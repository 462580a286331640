/**
 * The SPV client against the real devnet's Esplora (loopback HTTP): the header chain from the chain
 * spec's `bitcoinStartHeight` or a configured checkpoint, a real transaction seen unconfirmed, then
 * confirmed k/N as blocks are mined, an address listing, and checkpoints the endpoints do not have.
 * Expected values come from the devnet's regtest chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWallet } from '../../../src/devnet/bitcoin/index.js';
import type { Devnet } from '../../../src/devnet/devnet.js';
import { SpvError, bitcoinSpvOptions, createBitcoinSpv, type BitcoinSpvOptions } from '../../../src/node/bridge/spv.js';
import { ConfigError, defaultConfig } from '../../../src/config/index.js';
import { toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import type { SourceFault } from '../../../src/node/workflows/scores.js';
import { Cleanup, startDevnet } from '../helpers.js';

const cleanup = new Cleanup();
let devnet: Devnet;
beforeAll(async () => {
  devnet = await startDevnet(cleanup, 'spv-devnet');
});
afterAll(() => cleanup.run());

function spvOn(endpoints: string[], over: Partial<BitcoinSpvOptions> = {}) {
  const faults: { endpoint: string; kind: SourceFault; code: string }[] = [];
  const spv = createBitcoinSpv({
    endpoints,
    network: 'regtest',
    checkpoint: { height: devnet.spec.bitcoinStartHeight },
    onFault: (endpoint, kind, error) => faults.push({ endpoint, kind, code: String(error.code) }),
    ...over,
  });
  return { spv, faults };
}

const tipOfDevnet = () => ({ height: devnet.bitcoin.tipHeight(), hash: toDisplayHex(devnet.bitcoin.tip().hash) });

describe('SPV on the devnet', () => {
  it('verifies the headers from the chain spec checkpoint to the tip', async () => {
    const { spv, faults } = spvOn([devnet.urls.esplora]);
    expect(spv.tip()).toBeNull();
    expect(await spv.sync()).toEqual(tipOfDevnet());
    devnet.mineBitcoin(3);
    expect(await spv.sync()).toEqual(tipOfDevnet());
    expect(faults).toEqual([]);
  });

  it('tracks a real transaction from unconfirmed to k confirmations', async () => {
    const { spv, faults } = spvOn([devnet.urls.esplora]);
    await spv.sync();
    const alice = createWallet(devnet.bitcoin, 'spv-alice');
    const sent = devnet.faucet.send(alice.address, 70_000n);
    const txid = toDisplayHex(sent.txid);

    const seen = await spv.lookupTx(txid);
    expect(seen).toMatchObject({ txid, inclusion: null });
    expect(seen!.raw).toEqual(sent.raw);
    expect(await spv.addressTxids(alice.address)).toEqual([txid]);

    devnet.mineBitcoin(1);
    await spv.sync();
    const mined = await spv.lookupTx(txid);
    const block = devnet.bitcoin.locate(sent.txid)!.block;
    expect(mined!.inclusion).toEqual({ height: block.height, blockHash: toDisplayHex(block.hash) });
    expect(spv.confirmations(mined!.inclusion!)).toBe(1);
    for (let k = 2; k <= 6; k++) {
      devnet.mineBitcoin(1);
      expect(spv.confirmations(mined!.inclusion!)).toBe(k - 1); // not synced yet: the verified tip did not move
      await spv.sync();
      expect(spv.confirmations(mined!.inclusion!)).toBe(devnet.bitcoin.confirmations(block.hash));
      expect(spv.confirmations(mined!.inclusion!)).toBe(k);
    }
    // an inclusion that is not on the verified chain counts nothing
    expect(spv.confirmations({ ...mined!.inclusion!, blockHash: '00'.repeat(32) })).toBe(0);
    expect(spv.confirmations({ ...mined!.inclusion!, height: mined!.inclusion!.height + 1 })).toBe(0);
    expect(await spv.lookupTx('ab'.repeat(32))).toBeNull();
    expect(faults).toEqual([]);
  });

  it('starts from a configured checkpoint {height, hash}', async () => {
    const block = devnet.bitcoin.block(5)!;
    const { spv, faults } = spvOn([devnet.urls.esplora], { checkpoint: { height: 5, hash: toDisplayHex(block.hash) } });
    expect(await spv.sync()).toEqual(tipOfDevnet());
    expect(faults).toEqual([]);
  });

  it('refuses a configured checkpoint the endpoints do not have at that height', async () => {
    const other = toDisplayHex(devnet.bitcoin.block(6)!.hash);
    const { spv, faults } = spvOn([devnet.urls.esplora], { checkpoint: { height: 5, hash: other } });
    const err = await spv.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpvError);
    expect(err).toMatchObject({ code: 'spv.checkpoint-disagreement' });
    expect(faults).toEqual([{ endpoint: devnet.urls.esplora, kind: 'invalid', code: 'spv.checkpoint-disagreement' }]);
    expect(spv.tip()).toBeNull();
    await expect(spv.lookupTx('ab'.repeat(32))).rejects.toMatchObject({ code: 'spv.not-started' });
  });

  it('rejects malformed arguments with a typed error', async () => {
    const { spv } = spvOn([devnet.urls.esplora]);
    await spv.sync();
    await expect(spv.lookupTx('AB'.repeat(32))).rejects.toMatchObject({ code: 'spv.bad-request' });
    await expect(spv.addressTxids('not/an/address')).rejects.toMatchObject({ code: 'spv.bad-request' });
    expect(() => createBitcoinSpv({ endpoints: [], network: 'regtest', checkpoint: { height: 0 } })).toThrow(
      /bitcoin\.esplora/,
    );
  });

  it('the bitcoin config section maps to SPV options (checkpoint: configured, else the chain spec)', async () => {
    const section = { ...defaultConfig('node').bitcoin, esplora: [devnet.urls.esplora] };
    expect(bitcoinSpvOptions(section, devnet.spec)).toEqual({
      endpoints: [devnet.urls.esplora],
      network: 'regtest',
      checkpoint: { height: devnet.spec.bitcoinStartHeight },
      caps: { tx: 4_000_000 },
    });
    const hash = toDisplayHex(devnet.bitcoin.block(4)!.hash);
    const pinned = bitcoinSpvOptions({ ...section, checkpointHeight: 4, checkpointHash: hash }, devnet.spec);
    expect(pinned.checkpoint).toEqual({ height: 4, hash });
    expect(await createBitcoinSpv(pinned).sync()).toEqual(tipOfDevnet());
    expect(() => bitcoinSpvOptions({ ...section, checkpointHash: hash }, devnet.spec)).toThrow(ConfigError);
  });

  it('start() syncs and stop() ends the polling', async () => {
    const { spv } = spvOn([devnet.urls.esplora], { pollIntervalMs: 60_000 });
    await spv.start();
    expect(spv.tip()).toEqual(tipOfDevnet());
    await spv.stop();
  });
});
