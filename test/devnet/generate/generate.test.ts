/**
 * Generation, persistence and serving, end to end through real servers on loopback: a generated
 * chain (load + peg activity + merged mining) is persisted, served again, and then
 * - every served block imports with the protocol's ChainVerifier (signing root, approvals, payload
 *   hash, AuxPoW, retarget, finality, peg-out counts) and its payload hash is the served EL's hash;
 * - the load averages >= 20 transactions per block with transfers, contract calls, peg-ins and
 *   peg-outs, and the peg-outs are paid on the Bitcoin chain;
 * - the served chain answers exactly as the generating devnet did (consensus JSON byte-equal, EL
 *   blocks, receipts, logs, state queries, Esplora);
 * - head-state proofs verify against the head payload's state root;
 * - writes are refused (frozen) and corrupted files are detected with a clear error.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleEsploraRequest } from '../../../src/devnet/bitcoin/index.js';
import { handleConsensusRpc } from '../../../src/devnet/consensus/rpc.js';
import { LOAD_TOKEN_ADDRESS } from '../../../src/devnet/evm/index.js';
import { generateDevnet, type GeneratedDevnet } from '../../../src/devnet/generate/generate.js';
import {
  encodeRecordFile,
  openPersisted,
  openRecordFile,
  persistDevnet,
  PersistError,
  servePersisted,
  type ServedDevnet,
} from '../../../src/devnet/generate/persist.js';
import {
  BRIDGE_ADDRESS,
  ChainVerifier,
  computePayloadBlockHash,
  createBlsBackend,
  decodeGetProofResponse,
  decodeSignedBlockJson,
  genesisBlock,
  parseChainSpecJson,
  prepareAuthorities,
  REQUEST_PEGOUT_TOPIC0,
  signingRoot,
  targetFromCompact,
  toHex,
  txid as computeTxid,
  verifyGetProofResponse,
  type SignedConsensusBlock,
} from '../../../src/protocol/index.js';

const BLOCKS = 120;
let g: GeneratedDevnet;
let served: ServedDevnet;
let dir: string;

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

async function evm(method: string, params: unknown[]): Promise<any> {
  const r = JSON.parse((await post(served.urls.evm, { jsonrpc: '2.0', id: 1, method, params })).text);
  if (r.error) throw new Error(`${method}: ${r.error.message}`);
  return r.result;
}

/** The same request to the generating engine and to the served one: the JSON text must be equal. */
async function sameEvm(request: unknown): Promise<any> {
  const live = JSON.stringify(await g.devnet.engine.handleRpc(request));
  const fromDisk = (await post(served.urls.evm, request)).text;
  expect(fromDisk).toBe(live);
  return JSON.parse(live);
}

beforeAll(async () => {
  g = await generateDevnet({ blocks: BLOCKS, seed: 'generate-test', powEvery: 8, peginEvery: 4, pegoutEvery: 4 });
  dir = mkdtempSync(join(tmpdir(), 'alys-generate-'));
  persistDevnet(g.devnet, dir, { seed: 'generate-test', stats: g.stats });
  served = await servePersisted(dir, { consensusPort: 0, evmPort: 0, esploraPort: 0 });
}, 180_000);

afterAll(async () => {
  await served?.close();
  await g?.devnet.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('generated devnet', () => {
  it('every served block imports with the ChainVerifier, and its payload hash is the EL block hash', async () => {
    const spec = parseChainSpecJson(readFileSync(served.persisted.specFile, 'utf8'));
    const backend = await createBlsBackend('auto');
    const block = async (h: number): Promise<SignedConsensusBlock> => {
      const r = await post(served.urls.consensus, { method: 'getblockbyheight', params: h, id: 1 });
      expect(r.status).toBe(200);
      return decodeSignedBlockJson(JSON.parse(r.text).result);
    };
    const genesis = await block(0);
    expect(toHex(signingRoot(genesis.message))).toBe(
      toHex(signingRoot(genesisBlock(spec, genesis.message.executionPayload).message)),
    );
    const verifier = new ChainVerifier(
      { spec, authorities: prepareAuthorities(spec.authorities, backend), backend },
      genesis,
    );
    const elBlocks = (
      JSON.parse(
        (
          await post(
            served.urls.evm,
            Array.from({ length: BLOCKS + 1 }, (_, h) => ({
              jsonrpc: '2.0',
              id: h,
              method: 'eth_getBlockByNumber',
              params: [`0x${h.toString(16)}`, false],
            })),
          )
        ).text,
      ) as { id: number; result: { hash: string } }[]
    ).sort((a, b) => a.id - b.id);
    expect(elBlocks[0]!.result.hash).toBe(genesis.message.executionPayload.blockHash);
    let pow = 0;
    for (let h = 1; h <= BLOCKS; h++) {
      const b = await block(h);
      const out = verifier.import(b);
      expect(out.block.number).toBe(h);
      pow += b.message.auxpowHeader ? 1 : 0;
      // the work never gets harder than the devnet's easy bits (see generate.ts on retargeting)
      if (b.message.auxpowHeader)
        expect(targetFromCompact(b.message.auxpowHeader.bits) >= targetFromCompact(spec.bits)).toBe(true);
      expect(b.message.executionPayload.blockHash).toBe(elBlocks[h]!.result.hash);
      expect(computePayloadBlockHash(b.message.executionPayload)).toBe(b.message.executionPayload.blockHash);
    }
    expect(pow).toBeGreaterThanOrEqual(Math.floor(BLOCKS / 12));
    expect(verifier.finalizedThrough).toBeGreaterThan(BLOCKS - 20);
  });

  it('carries the load: >= 20 txs per block, transfers, token calls, peg-ins and peg-outs paid on Bitcoin', async () => {
    let txs = 0,
      transfers = 0,
      tokenCalls = 0,
      tokenEvents = 0,
      pegoutEvents = 0,
      pegins = 0,
      finalized = 0;
    const payouts: Uint8Array[] = [];
    for (let h = 1; h <= BLOCKS; h++) {
      const b = served.persisted.chain.at(h)!.signed.message;
      txs += b.executionPayload.transactions.length;
      pegins += b.pegins.length;
      finalized += b.finalizedPegouts.length;
      payouts.push(...b.finalizedPegouts.map((t) => computeTxid(t)));
      for (const r of await evm('eth_getBlockReceipts', [`0x${h.toString(16)}`])) {
        if (r.to === LOAD_TOKEN_ADDRESS) tokenCalls++;
        else if (r.to !== BRIDGE_ADDRESS && r.logs.length === 0) transfers++;
        tokenEvents += r.logs.filter((l: { address: string }) => l.address === LOAD_TOKEN_ADDRESS).length;
        pegoutEvents += r.logs.filter((l: { topics: string[] }) => l.topics[0] === REQUEST_PEGOUT_TOPIC0).length;
      }
    }
    expect(txs / BLOCKS).toBeGreaterThanOrEqual(20);
    expect(txs).toBe(g.stats.transactions);
    expect(transfers).toBeGreaterThan(txs / 2);
    expect(tokenCalls).toBeGreaterThan(txs / 10);
    expect(tokenEvents).toBeGreaterThan(tokenCalls * 0.9);
    expect(pegoutEvents).toBe(g.stats.pegouts);
    expect(pegoutEvents).toBeGreaterThan(5);
    expect(pegins).toBeGreaterThan(5);
    expect(finalized).toBeGreaterThan(3);
    // the federation's payouts are mined on the served Bitcoin chain (all but the most recent ones)
    let confirmed = 0;
    for (const id of payouts) {
      const r = await fetch(`${served.urls.esplora}/tx/${toHex(id.slice().reverse()).slice(2)}/status`);
      if (r.status === 200 && (await r.json()).confirmed) confirmed++;
    }
    expect(confirmed).toBeGreaterThanOrEqual(payouts.length - 2);
  });

  it('answers exactly as the generating devnet: consensus JSON, EL blocks, receipts, logs, state, Esplora', async () => {
    const deps = {
      chain: g.devnet.chain,
      pow: g.devnet.pow,
      federation: g.devnet.federation,
      bitcoinNetwork: 'regtest' as const,
    };
    const same = async (method: string, params: unknown): Promise<void> => {
      const body = JSON.stringify({ method, params, id: 3 });
      const live = handleConsensusRpc(deps, 'POST', body);
      const r = await post(served.urls.consensus, { method, params, id: 3 });
      expect(r.text).toBe((live as { body: string }).body);
    };
    for (let h = 0; h <= BLOCKS + 1; h++) await same('getblockbyheight', h);
    await same('getheadblock', []);
    await same('getqueuedpow', []);
    await same('getdepositaddress', []);
    await same('getblockbyhash', g.devnet.chain.at(37)!.hash.slice(2));
    await same('getblockbyhash', 'ab'.repeat(32));

    for (let h = 0; h <= BLOCKS; h += 1) {
      const tag = `0x${h.toString(16)}`;
      const block = (await sameEvm({ jsonrpc: '2.0', id: h, method: 'eth_getBlockByNumber', params: [tag, true] }))
        .result;
      await sameEvm({ jsonrpc: '2.0', id: h, method: 'eth_getBlockReceipts', params: [tag] });
      if (h % 10 === 0 && block.transactions.length > 0) {
        await sameEvm({
          jsonrpc: '2.0',
          id: 1,
          method: 'eth_getTransactionReceipt',
          params: [block.transactions[0].hash],
        });
        await sameEvm({
          jsonrpc: '2.0',
          id: 1,
          method: 'eth_getTransactionByHash',
          params: [block.transactions.at(-1).hash],
        });
        await sameEvm({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockByHash', params: [block.hash, false] });
      }
    }
    await sameEvm({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionReceipt', params: [`0x${'12'.repeat(32)}`] });
    await sameEvm({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getLogs',
      params: [{ fromBlock: '0x0', toBlock: 'latest', address: LOAD_TOKEN_ADDRESS }],
    });
    await sameEvm({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getLogs',
      params: [{ fromBlock: '0x10', toBlock: '0x40', topics: [REQUEST_PEGOUT_TOPIC0] }],
    });
    for (const tag of ['latest', 'finalized', 'safe', '0x0', '0x1', `0x${(BLOCKS - 5).toString(16)}`]) {
      for (const u of g.devnet.users.slice(0, 4)) {
        await sameEvm({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [u.address, tag] });
        await sameEvm({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionCount', params: [u.address, tag] });
      }
    }
    // eth_call at the head: the token's totalSupply()
    await sameEvm({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_call',
      params: [{ to: LOAD_TOKEN_ADDRESS, data: '0x18160ddd' }, 'latest'],
    });
    await sameEvm({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });
    await sameEvm({ jsonrpc: '2.0', id: 1, method: 'eth_feeHistory', params: ['0x10', 'latest', [50]] });

    const live = g.devnet.bitcoin;
    const tipHeight = live.tipHeight();
    for (const path of [
      '/blocks/tip/height',
      '/blocks/tip/hash',
      `/block-height/${tipHeight}`,
      '/block-height/1',
      `/address/${g.devnet.depositAddress}/txs`,
    ]) {
      const want = handleEsploraRequest(live, 'GET', path);
      const r = await fetch(`${served.urls.esplora}${path}`);
      expect(r.status).toBe(want.status);
      expect(await r.text()).toBe(typeof want.body === 'string' ? want.body : Buffer.from(want.body).toString());
    }
  });

  it('head-state proofs verify against the head payload state root', async () => {
    const head = served.persisted.chain.head.signed.message.executionPayload;
    const tag = `0x${head.blockNumber.toString(16)}`;
    for (const address of [
      ...g.devnet.users.slice(0, 3).map((u) => u.address),
      LOAD_TOKEN_ADDRESS,
      BRIDGE_ADDRESS,
      '0x000000000000000000000000000000000000dead',
      `0x${'77'.repeat(20)}`,
    ]) {
      const keys = address === LOAD_TOKEN_ADDRESS ? ['0x0'] : [];
      const proof = await evm('eth_getProof', [address, keys, tag]);
      const verified = verifyGetProofResponse(head.stateRoot, decodeGetProofResponse(proof), {
        address: address as `0x${string}`,
        storageKeys: keys as `0x${string}`[],
      });
      expect(verified.account.balance).toBe(BigInt(await evm('eth_getBalance', [address, 'latest'])));
      if (address === LOAD_TOKEN_ADDRESS)
        expect(verified.storage[0]!.value).toBe(
          BigInt(await evm('eth_call', [{ to: LOAD_TOKEN_ADDRESS, data: '0x18160ddd' }, 'latest'])),
        );
    }
  });

  it('its p2p peer (`--serve` without --no-p2p) serves the persisted chain by blocks_by_range, as the RPC does', async () => {
    const { startDevnetPeer } = await import('../../../src/devnet/p2p.js');
    const { createP2pHost } = await import('../../../src/node/network/p2p-host.js');
    const { nodeTransports } = await import('../../../src/platform/nodejs/p2p.js');
    const peer = await startDevnetPeer({ chain: served.persisted.chain });
    const client = await createP2pHost({ transports: nodeTransports(), allowPrivateAddresses: true });
    await client.start();
    try {
      const id = await client.dial(peer.addresses[0]!);
      const blocks = await client.requestBlocksByRange(id, BigInt(BLOCKS - 9), 64);
      expect(blocks.map((b) => toHex(signingRoot(b.message)))).toEqual(
        Array.from({ length: 10 }, (_, i) => g.devnet.chain.at(BLOCKS - 9 + i)!.hash),
      );
      expect(await client.requestBlocksByRange(id, BigInt(BLOCKS + 1), 4)).toEqual([]);
    } finally {
      await client.stop();
      await peer.stop();
    }
  });

  it('is frozen: transactions, merged mining and Bitcoin broadcasts are refused with a clear error', async () => {
    const send = JSON.parse(
      (await post(served.urls.evm, { jsonrpc: '2.0', id: 9, method: 'eth_sendRawTransaction', params: ['0x02'] })).text,
    );
    expect(send.error.message).toMatch(/frozen/);
    const aux = await post(served.urls.consensus, { method: 'createauxblock', params: [g.devnet.minerAddress], id: 1 });
    expect(aux.status).toBe(503);
    expect(JSON.parse(aux.text).error.code).toBe(-32606);
    const tx = await fetch(`${served.urls.esplora}/tx`, { method: 'POST', body: '00' });
    expect(tx.status).toBe(400);
    expect(await tx.text()).toMatch(/frozen/);
  });

  it('detects corrupted, truncated and missing files with an error naming the file', async () => {
    const copy = (): string => {
      const d = mkdtempSync(join(tmpdir(), 'alys-corrupt-'));
      cpSync(dir, d, { recursive: true });
      return d;
    };
    const cases: Array<[string, (d: string) => void, RegExp]> = [
      [
        'flipped byte',
        (d) => {
          const p = join(d, 'el-blocks.bin');
          const b = readFileSync(p);
          b[Math.floor(b.length / 2)]! ^= 0x40;
          writeFileSync(p, b);
        },
        /el-blocks\.bin: SHA-256 .* does not match the manifest/,
      ],
      [
        'truncated',
        (d) => truncateSync(join(d, 'consensus.bin'), 1000),
        /consensus\.bin: is 1000 bytes, the manifest says/,
      ],
      ['missing file', (d) => unlinkSync(join(d, 'bitcoin.bin')), /bitcoin\.bin: cannot be read/],
      ['missing manifest', (d) => unlinkSync(join(d, 'manifest.json')), /manifest\.json: missing or not JSON/],
    ];
    for (const [, damage, message] of cases) {
      const d = copy();
      try {
        damage(d);
        const err = await openPersisted(d).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(PersistError);
        expect((err as Error).message).toMatch(message);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    }
    // record framing: a bad offset or kind is reported even when a manifest matches the bytes
    const good = encodeRecordFile('x', [new Uint8Array([1, 2]), new Uint8Array([3])]);
    expect(openRecordFile(good, 'x', 'f.bin').get(1)).toEqual(new Uint8Array([3]));
    expect(() => openRecordFile(good, 'y', 'f.bin')).toThrow(/f\.bin: holds "x" records, expected "y"/);
    const bad = good.slice();
    bad[bad.length - 4]! ^= 1; // inside the data: fine; now break an offset instead
    new DataView(bad.buffer).setBigUint64(8 + 4 + 4 + 1 + 4 + 8, 10_000n, true);
    expect(() => openRecordFile(bad, 'x', 'f.bin')).toThrow(/f\.bin: record 1 has offset 10000 outside the data/);
  });
});
