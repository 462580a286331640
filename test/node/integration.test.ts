/**
 * The light node end to end against a real in-process devnet (real-format Alys blocks, the ethereumjs
 * EVM, HTTP on 127.0.0.1:0), through the public `createLightNode`:
 *
 * - sync from genesis to the devnet head in both modes, then follow the head live (new blocks, a new PoW);
 *   head/finalized equal the devnet's, `finalized` events only name blocks covered by a verified AuxPoW
 *   range, and storage holds exactly the honest chain;
 * - restart and warm start from LevelDB: the `storage` event names the stored head and the second
 *   sync only downloads blocks above it (counted by an HTTP proxy in front of the consensus RPC);
 * - verified EVM reads through `node.provider` with viem equal the EL's own answers; a proxy that lies
 *   in `eth_getProof` makes them fail with a typed error, and a second honest endpoint recovers them;
 * - config hot reload: new consensus sources while running, invalid and restart-only updates refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  encodeFunctionData,
  http,
  keccak256,
  pad,
  concat,
  type Hex as ViemHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LOAD_TOKEN_ARTIFACT } from '../../src/devnet/contracts/artifacts.js';
import { LOAD_TOKEN_ADDRESS } from '../../src/devnet/evm/index.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { ConfigError, ConfigRestartRequiredError, ProviderRpcError } from '../../src/index.nodejs.js';
import {
  chainBlockHashes,
  Cleanup,
  coveredHeights,
  eventProblems,
  FAST_SYNC,
  finalizedHeight,
  growChain,
  honestHash,
  makeNode,
  powBlocks,
  producePow,
  startDevnet,
  startNode,
  startProxy,
  storageProblems,
  tempDir,
  waitFor,
  waitSynced,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run(), 60_000);

const MODES = ['full', 'pow-checkpoint'] as const;
const TOKEN = LOAD_TOKEN_ADDRESS as ViemHex;

/** The honest hashes 0..n from the devnet. */
const devnetHashes = (devnet: Devnet, n: number) => Array.from({ length: n + 1 }, (_, i) => honestHash(devnet, i));

describe.each(MODES)('sync from genesis (%s)', (mode) => {
  it('reaches the devnet head and its PoW-finalized height, stores only the honest chain, then follows the head live', async () => {
    const devnet = await startDevnet(cleanup, `int-sync-${mode}`);
    await growChain(devnet, 34, 10); // PoW blocks at 10, 20, 30; an unfinalized tail 31..34
    expect(powBlocks(devnet).map((p) => p.number)).toEqual([10, 20, 30]);

    const { node, events } = await startNode(cleanup, devnet, { mode });
    const s = await waitSynced(node, devnet);
    const tip = devnet.chain.head;
    expect(s.head).toEqual({
      number: tip.number,
      hash: tip.hash,
      payloadBlockHash: tip.signed.message.executionPayload.blockHash,
    });
    expect(s.finalized).toBe(finalizedHeight(devnet));
    expect(s.finalized).toBeGreaterThan(0);
    expect(events.storage[0]).toMatchObject({ kind: 'cold-start', head: 0 });

    // events: every head and finalized is the devnet's block; finalized only inside verified ranges, and
    // only once the PoW block covering it was part of the verified chain
    await waitFor(
      () => events.finalized.at(-1)?.number === finalizedHeight(devnet),
      () => `a finalized event for ${finalizedHeight(devnet)}: ${JSON.stringify(events.finalized)}`,
    );
    expect(eventProblems(events, devnet)).toEqual([]);
    expect(events.finalized.at(-1)).toEqual({
      number: finalizedHeight(devnet),
      hash: honestHash(devnet, finalizedHeight(devnet)),
    });
    expect(events.head.at(-1)).toEqual({
      number: tip.number,
      hash: tip.hash,
      payloadBlockHash: tip.signed.message.executionPayload.blockHash,
    });
    await waitFor(
      () => events.sync.at(-1)?.phase === 'following',
      () => `sync phase following: ${JSON.stringify(events.sync.at(-1))}`,
    );

    // storage and the chain actor hold exactly the honest blocks 0..head
    expect(await storageProblems(node, devnet, tip.number)).toEqual([]);
    expect(await chainBlockHashes(node, tip.number)).toEqual(devnetHashes(devnet, tip.number));

    // follow live: more blocks and a new PoW after the node caught up
    const headEventsBefore = events.head.length;
    await growChain(devnet, 8, 10); // 35..42, PoW at 40 (finalizes 30..39)
    await waitSynced(node, devnet);
    expect(finalizedHeight(devnet)).toBe(39);
    // then a chain that ends right after a PoW block
    await devnet.produceNext();
    await producePow(devnet);
    const s2 = await waitSynced(node, devnet);
    expect(s2.head!.hash).toBe(devnet.chain.head.hash);
    expect(s2.finalized).toBe(finalizedHeight(devnet));
    expect(events.head.length).toBeGreaterThan(headEventsBefore);
    await waitFor(
      () => events.finalized.at(-1)?.number === finalizedHeight(devnet),
      () => `finalized event ${finalizedHeight(devnet)}`,
    );
    expect(eventProblems(events, devnet)).toEqual([]);
    expect(await storageProblems(node, devnet, devnet.chain.height)).toEqual([]);
    const covered = coveredHeights(devnet);
    expect(events.finalized.every((f) => covered.has(f.number))).toBe(true);
    // nothing stalled, nobody penalised, no actor restarted
    const final = await node.status();
    expect(final.sources.every((x) => x.faults === 0 && x.score === 100)).toBe(true);
    expect(final.actors.every((a) => a.state === 'Running' && a.restarts === 0)).toBe(true);
  });
});

describe.each(MODES)('restart and warm start from LevelDB (%s)', (mode) => {
  it('resumes at the stored head and downloads only the blocks above it', async () => {
    const devnet = await startDevnet(cleanup, `int-level-${mode}`);
    await growChain(devnet, 25, 10);
    const dataDir = await tempDir(cleanup);
    const proxy = await startProxy(cleanup, devnet.urls.consensus);
    const heightsAsked = (from: number) =>
      proxy.calls
        .slice(from)
        .filter((c) => c.method === 'getblockbyheight')
        .map((c) => Number(c.params));

    const first = makeNode(cleanup, devnet, { mode, storage: 'level', dataDir, rpc: [proxy.url] });
    await first.node.start();
    await waitSynced(first.node, devnet);
    expect(first.events.storage.map((e) => e.kind)).toEqual(['cold-start']);
    const storedHead = (await first.node.status()).head!;
    expect(storedHead.number).toBe(25);
    expect(Math.min(...heightsAsked(0))).toBe(0); // the cold start fetched genesis and everything
    await first.node.stop();

    // restart of the same node object: warm start, nothing to download
    let mark = proxy.calls.length;
    await first.node.start();
    expect(first.events.storage.map((e) => e.kind)).toEqual(['cold-start', 'warm-start']);
    expect(first.events.storage[1]!.head).toBe(storedHead.number);
    await waitSynced(first.node, devnet);
    await waitFor(
      async () => (await first.node.status()).sync?.phase === 'following',
      () => 'following after the restart',
    );
    expect(heightsAsked(mark)).toEqual([]);
    expect(await storageProblems(first.node, devnet, 25)).toEqual([]);
    await first.node.stop();

    // the chain grows while the node is down; a new node on the same data directory picks up there
    await growChain(devnet, 10, 10); // 26..35, PoW at 30
    mark = proxy.calls.length;
    const second = makeNode(cleanup, devnet, { mode, storage: 'level', dataDir, rpc: [proxy.url] });
    await second.node.start();
    expect(second.events.storage).toHaveLength(1);
    expect(second.events.storage[0]).toMatchObject({ kind: 'warm-start', head: storedHead.number });
    expect(second.events.head[0]).toEqual(storedHead);
    await waitSynced(second.node, devnet);
    const asked = heightsAsked(mark);
    expect(asked.length).toBeGreaterThan(0);
    expect(Math.min(...asked)).toBe(storedHead.number + 1);
    expect(new Set(asked)).toEqual(
      new Set(Array.from({ length: devnet.chain.height - storedHead.number }, (_, i) => storedHead.number + 1 + i)),
    );
    expect(asked.length).toBeLessThan(devnet.chain.height); // not a re-download
    expect(await storageProblems(second.node, devnet, devnet.chain.height)).toEqual([]);
    expect(eventProblems(second.events, devnet)).toEqual([]);
    expect((await second.node.status()).finalized).toBe(finalizedHeight(devnet));
  });
});

describe('verified EVM reads through node.provider', () => {
  /** keccak(pad(addr) . pad(slot)): the storage slot of mapping(address => uint) at `slot`. */
  const mappingSlot = (address: ViemHex, slot: bigint) =>
    keccak256(concat([pad(address), pad(`0x${slot.toString(16)}` as ViemHex)]));
  /** Runtime code 0x602a60005260206000f3 (returns 42), deployed by a tiny init code. */
  const INIT_CODE = '0x69602a60005260206000f3600052600a6016f3' as const;

  it('agree with the EL; a lying eth_getProof fails with a typed error; a second honest endpoint answers', async () => {
    const devnet = await startDevnet(cleanup, 'int-reads');
    const chain = defineChain({
      id: devnet.spec.chainId,
      name: 'alys-devnet',
      nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
      rpcUrls: { default: { http: [devnet.urls.evm] } },
    });
    const [alice, bob] = [devnet.users[0]!, devnet.users[1]!].map((u) => privateKeyToAccount(u.privateKey));
    const wallet = (acc: typeof alice) =>
      createWalletClient({ account: acc!, chain, transport: http(devnet.urls.evm) });
    const el = createPublicClient({ chain, transport: http(devnet.urls.evm) });

    const sent: ViemHex[] = [];
    await growChain(devnet, 3, 10);
    sent.push(await wallet(alice).sendTransaction({ to: bob!.address, value: 123_456_789n }));
    sent.push(
      await wallet(alice).sendTransaction({
        to: TOKEN,
        data: encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'mint', args: [bob!.address, 5_000n] }),
      }),
    );
    await devnet.produceNext(); // 4
    sent.push(
      await wallet(bob).sendTransaction({
        to: TOKEN,
        data: encodeFunctionData({
          abi: LOAD_TOKEN_ARTIFACT.abi,
          functionName: 'transfer',
          args: [alice!.address, 1_234n],
        }),
      }),
    );
    sent.push(await wallet(bob).deployContract({ abi: [], bytecode: INIT_CODE }));
    await devnet.produceNext(); // 5
    await growChain(devnet, 8, 10); // 6..13, PoW at 10
    const receiptsEl = await Promise.all(sent.map((hash) => el.getTransactionReceipt({ hash })));
    expect(receiptsEl.map((r) => r.status)).toEqual(['success', 'success', 'success', 'success']);
    const deployed = receiptsEl[3]!.contractAddress!;

    const { node } = await startNode(cleanup, devnet, { mode: 'full' });
    await waitSynced(node, devnet);
    const verified = createPublicClient({ chain, transport: custom(node.provider, { retryCount: 0 }) });
    const blockNumber = await verified.getBlockNumber();
    expect(blockNumber).toBe(devnet.chain.head.signed.message.executionPayload.blockNumber);

    for (const address of [alice!.address, bob!.address, TOKEN, deployed]) {
      expect(await verified.getBalance({ address, blockNumber })).toBe(await el.getBalance({ address, blockNumber }));
      expect(await verified.getTransactionCount({ address, blockNumber })).toBe(
        await el.getTransactionCount({ address, blockNumber }),
      );
      expect(await verified.getCode({ address, blockNumber })).toEqual(await el.getCode({ address, blockNumber }));
    }
    // values derived from what this test sent
    expect(await verified.getBalance({ address: bob!.address })).toBeLessThan(
      (await el.getBalance({ address: bob!.address, blockNumber: 0n })) + 123_456_789n,
    ); // paid gas since
    expect(await verified.getBalance({ address: bob!.address, blockNumber: 4n })).toBe(
      (await el.getBalance({ address: bob!.address, blockNumber: 0n })) + 123_456_789n,
    );
    expect(await verified.getTransactionCount({ address: alice!.address })).toBe(2);
    expect(await verified.getCode({ address: deployed })).toBe('0x602a60005260206000f3');
    for (const slot of ['0x0', mappingSlot(alice!.address, 1n), mappingSlot(bob!.address, 1n)] as ViemHex[])
      expect(await verified.getStorageAt({ address: TOKEN, slot, blockNumber })).toBe(
        await el.getStorageAt({ address: TOKEN, slot, blockNumber }),
      );
    expect(BigInt((await verified.getStorageAt({ address: TOKEN, slot: mappingSlot(bob!.address, 1n) }))!)).toBe(
      5_000n - 1_234n,
    );
    for (const [i, hash] of sent.entries())
      expect(await verified.getTransactionReceipt({ hash })).toEqual(receiptsEl[i]);
    const logQuery = { address: TOKEN, fromBlock: 0n, toBlock: blockNumber } as const;
    const logs = await verified.getLogs(logQuery);
    expect(logs).toEqual(await el.getLogs(logQuery));
    expect(logs.map((l) => l.transactionHash)).toEqual([sent[1], sent[2]]);

    // an EVM endpoint that lies about balances in eth_getProof
    const liar = await startProxy(cleanup, devnet.urls.evm, {
      tamper: (call, reply) =>
        call.method === 'eth_getProof' && reply.result
          ? { ...reply, result: { ...reply.result, balance: `0x${(BigInt(reply.result.balance) + 1n).toString(16)}` } }
          : undefined,
    });
    const lied = await startNode(cleanup, devnet, { mode: 'full', evmRpc: [liar.url] });
    await waitSynced(lied.node, devnet);
    const err = await lied.node.provider.request({ method: 'eth_getBalance', params: [alice!.address, 'latest'] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderRpcError);
    expect((err as ProviderRpcError).code).toBe(-32002);
    expect((err as ProviderRpcError).data).toMatchObject({ check: 'getproof.balance', endpoint: liar.url });
    // through viem too: the typed error is in the chain of causes
    const viaViem = await createPublicClient({ chain, transport: custom(lied.node.provider, { retryCount: 0 }) })
      .getBalance({ address: alice!.address })
      .then(
        () => null,
        (e: any) => e,
      );
    expect(viaViem?.walk((e: any) => e?.code === -32002)).toBeTruthy();
    // reads that do not need the lie still verify
    expect(await lied.node.provider.request({ method: 'eth_blockNumber' })).toBe(`0x${blockNumber.toString(16)}`);
    await waitFor(
      async () => ((await lied.node.status()).sources.find((x) => x.id === liar.url)?.faults ?? 0) > 0,
      () => 'the lying EVM endpoint scored down',
    );
    expect((await lied.node.status()).sources.find((x) => x.id === liar.url)!.score).toBeLessThan(100);

    // the liar first, an honest endpoint second: the node answers correctly
    const both = await startNode(cleanup, devnet, { mode: 'full', evmRpc: [liar.url, devnet.urls.evm] });
    await waitSynced(both.node, devnet);
    const bothClient = createPublicClient({ chain, transport: custom(both.node.provider, { retryCount: 0 }) });
    for (const address of [alice!.address, bob!.address])
      expect(await bothClient.getBalance({ address, blockNumber })).toBe(await el.getBalance({ address, blockNumber }));
    expect(await bothClient.getTransactionCount({ address: alice!.address })).toBe(2);
    expect(await bothClient.getTransactionReceipt({ hash: sent[2]! })).toEqual(receiptsEl[2]);
    const scores = (await both.node.status()).sources;
    expect(scores.find((x) => x.id === liar.url)!.faults).toBeGreaterThan(0);
    expect(scores.find((x) => x.id === devnet.urls.evm)).toMatchObject({ faults: 0, score: 100 });
  });
});

describe('config hot reload', () => {
  it('switches consensus sources while running; refuses invalid and restart-only updates without changing anything', async () => {
    const devnet = await startDevnet(cleanup, 'int-reload');
    await growChain(devnet, 12, 10);
    const a = await startProxy(cleanup, devnet.urls.consensus);
    const b = await startProxy(cleanup, devnet.urls.consensus);
    const { node, events } = await startNode(cleanup, devnet, { rpc: [a.url] });
    await waitSynced(node, devnet);
    // the history below the head-first start is fetched in the background: let it finish, so that no
    // request to `a` is still in flight when the sources switch (in-flight requests are not recalled)
    await waitFor(
      async () => (await node.status()).historyFrom === 0,
      async () => `the history backfilled to block 0 (from ${(await node.status()).historyFrom})`,
    );
    expect(a.count('getblockbyheight')).toBeGreaterThan(0);
    expect(b.count()).toBe(0);

    const result = await node.updateConfig({ rpc: [b.url] });
    expect(result.changedKeys).toEqual(['rpc']);
    expect(node.config.config.rpc).toEqual([b.url]);
    // a range already requested from `a` finishes there (requests in flight are not recalled): from
    // when none is in flight on, `a` must get nothing
    await waitFor(
      async () => (await node.status()).sync?.inFlight === 0,
      async () => `no request in flight (${(await node.status()).sync?.inFlight})`,
    );
    const markA = a.count('getblockbyheight');
    await growChain(devnet, 10, 10); // 13..22, PoW at 20
    await waitSynced(node, devnet);
    expect(a.count('getblockbyheight'), JSON.stringify(a.calls.slice(-8))).toBe(markA); // the old source is not used any more
    const askedB = b.calls.filter((c) => c.method === 'getblockbyheight').map((c) => Number(c.params));
    expect(new Set(askedB)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => 13 + i)));
    const ids = (await node.status()).sources.map((s) => s.id);
    expect(ids).toContain(b.url);
    expect(ids).not.toContain(a.url);

    // an invalid value: ConfigError, nothing applied
    const before = node.config.config;
    await expect(node.updateConfig({ sync: { batchSize: 0 } })).rejects.toBeInstanceOf(ConfigError);
    expect(node.config.config).toEqual(before);
    expect(node.config.config.sync.batchSize).toBe(FAST_SYNC.batchSize);
    // a key that needs a restart: ConfigRestartRequiredError, nothing applied
    await expect(node.updateConfig({ mode: 'full' })).rejects.toBeInstanceOf(ConfigRestartRequiredError);
    expect(node.config.config).toEqual(before);
    expect(node.config.config.mode).toBe('pow-checkpoint');

    // still following, still from the new source only
    await growChain(devnet, 3, 10);
    await waitSynced(node, devnet);
    expect(a.count('getblockbyheight')).toBe(markA);
    expect(eventProblems(events, devnet)).toEqual([]);
    expect(await storageProblems(node, devnet, devnet.chain.height)).toEqual([]);
  });
});
