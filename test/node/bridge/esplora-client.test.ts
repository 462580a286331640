/**
 * The Esplora client (src/node/sources/esplora.ts) over loopback HTTP: the real answers of a regtest
 * chain's Esplora, and endpoints that answer junk, too much, or the wrong status, each turned into a
 * SourceError naming the endpoint and the problem. No fakes of fetch: real servers on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWallet, type RegtestChain } from '../../../src/devnet/bitcoin/index.js';
import { SourceError } from '../../../src/node/sources/errors.js';
import { createEsploraClient, type EsploraClient } from '../../../src/node/sources/esplora.js';
import { listenLocal } from '../../../src/platform/nodejs/http.js';
import { toDisplayHex } from '../../../src/protocol/bitcoin/hash.js';
import { encodeHeader } from '../../../src/protocol/bitcoin/header.js';
import { chainWithFaucet } from '../../devnet/bitcoin/helpers.js';
import { type EsploraLie, startEsploraProxy } from '../../helpers/esplora-proxy.js';
import { Cleanup } from '../helpers.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

let chain: RegtestChain;
let url: string;
let client: EsploraClient;
let txid: string;
let address: string;
beforeAll(async () => {
  const made = chainWithFaucet();
  chain = made.chain;
  address = createWallet(chain, 'client-erin').address;
  const sent = made.faucet.send(address, 21_000n);
  chain.mine(1);
  txid = toDisplayHex(sent.txid);
  url = (await chain.serve({ port: 0 })).url;
  cleanup.add(() => chain.close());
  client = createEsploraClient({ url });
});

async function liar(lie: EsploraLie, caps?: Parameters<typeof createEsploraClient>[0]['caps']) {
  const proxy = await startEsploraProxy(url, lie);
  cleanup.add(() => proxy.close());
  return createEsploraClient({ url: proxy.url, caps });
}

describe('Esplora client: honest answers', () => {
  it('reads tip, block hashes, headers, txs, statuses, proofs and address listings', async () => {
    expect(await client.tipHeight()).toBe(chain.tipHeight());
    expect(await client.tipHash()).toBe(toDisplayHex(chain.tip().hash));
    expect(await client.blockHashAt(3)).toBe(toDisplayHex(chain.block(3)!.hash));
    expect(await client.blockHashAt(chain.tipHeight() + 1)).toBeNull();
    expect(await client.header(toDisplayHex(chain.block(3)!.hash))).toEqual(encodeHeader(chain.block(3)!.header));
    expect(await client.header('00'.repeat(32))).toBeNull();
    expect(await client.txRaw(txid)).toEqual(chain.rawTransaction(fromTxid(txid)));
    expect(await client.txStatus(txid)).toEqual({
      confirmed: true,
      blockHeight: chain.tipHeight(),
      blockHash: toDisplayHex(chain.tip().hash),
      blockTime: chain.tip().header.time,
    });
    expect(await client.txStatus('ab'.repeat(32))).toEqual({ confirmed: false });
    const proof = chain.merkleProof(fromTxid(txid))!;
    expect(await client.merkleProof(txid)).toEqual({
      blockHeight: proof.height,
      merkle: proof.branch.map(toDisplayHex),
      pos: proof.index,
    });
    expect(await client.merkleProof('ab'.repeat(32))).toBeNull();
    expect(await client.addressTxids(address, 10)).toEqual([txid]);
    expect(await client.addressTxids(address, 0)).toEqual([]);
  });

  it('refuses a non-http(s) URL and malformed arguments (a caller bug: nothing is asked)', async () => {
    expect(() => createEsploraClient({ url: 'ftp://x' })).toThrow(/bitcoin\.esplora/);
    await expect(client.header('XYZ')).rejects.toThrow(RangeError);
    await expect(client.blockHashAt(-1)).rejects.toThrow(RangeError);
  });
});

describe('Esplora client: bad answers are typed errors naming the endpoint', () => {
  const cases: {
    name: string;
    lie: EsploraLie;
    call: (c: EsploraClient) => Promise<unknown>;
    kind: string;
    text: RegExp;
  }[] = [
    {
      name: 'a height that is not a number',
      lie: () => ({ body: 'tall' }),
      call: (c) => c.tipHeight(),
      kind: 'unusable',
      text: /block height/,
    },
    {
      name: 'a height out of range',
      lie: () => ({ body: '4294967295' }),
      call: (c) => c.tipHeight(),
      kind: 'unusable',
      text: /block height/,
    },
    {
      name: 'a hash too short',
      lie: () => ({ body: 'abcd' }),
      call: (c) => c.tipHash(),
      kind: 'unusable',
      text: /64 hex/,
    },
    {
      name: 'a header of 79 bytes',
      lie: () => ({ body: '00'.repeat(79) }),
      call: (c) => c.header('11'.repeat(32)),
      kind: 'unusable',
      text: /80-byte/,
    },
    {
      name: 'a status that is not JSON',
      lie: () => ({ body: '{' }),
      call: (c) => c.txStatus('11'.repeat(32)),
      kind: 'unusable',
      text: /not JSON/,
    },
    {
      name: 'a confirmed status without a block hash',
      lie: () => ({ body: JSON.stringify({ confirmed: true, block_height: 1 }) }),
      call: (c) => c.txStatus('11'.repeat(32)),
      kind: 'unusable',
      text: /block_hash/,
    },
    {
      name: 'a merkle proof with a negative position',
      lie: () => ({ body: JSON.stringify({ block_height: 1, merkle: [], pos: -1 }) }),
      call: (c) => c.merkleProof('11'.repeat(32)),
      kind: 'unusable',
      text: /pos/,
    },
    {
      name: 'a merkle proof 33 hashes deep',
      lie: () => ({ body: JSON.stringify({ block_height: 1, merkle: Array(33).fill('00'.repeat(32)), pos: 0 }) }),
      call: (c) => c.merkleProof('11'.repeat(32)),
      kind: 'unusable',
      text: /33 hashes/,
    },
    {
      name: 'an address listing without txids',
      lie: () => ({ body: JSON.stringify([{ id: 1 }]) }),
      call: (c) => c.addressTxids('bcrt1qxxxxxxxxxxxxxxxxxxxx', 5),
      kind: 'unusable',
      text: /txid/,
    },
    {
      name: 'HTTP 500',
      lie: () => ({ status: 500, body: 'oops' }),
      call: (c) => c.tipHeight(),
      kind: 'http',
      text: /HTTP 500/,
    },
    {
      name: 'HTTP 429',
      lie: () => ({ status: 429, body: 'slow down' }),
      call: (c) => c.tipHeight(),
      kind: 'busy',
      text: /429/,
    },
    {
      name: 'a tx above the cap',
      lie: () => ({ body: new Uint8Array(5000) }),
      call: (c) => c.txRaw('11'.repeat(32)),
      kind: 'response-too-large',
      text: /cap/,
    },
    {
      name: 'a text answer above the 1 KiB cap',
      lie: () => ({ body: '1'.repeat(2000) }),
      call: (c) => c.tipHeight(),
      kind: 'response-too-large',
      text: /1024/,
    },
  ];
  for (const t of cases)
    it(t.name, async () => {
      const c = await liar(t.lie, { tx: 4096 });
      const err = await t.call(c).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect(err).toMatchObject({ kind: t.kind, source: c.id });
      expect((err as Error).message).toMatch(t.text);
      expect((err as Error).message.startsWith(c.id)).toBe(true);
    });

  it('an unreachable endpoint is a network error', async () => {
    const server = await listenLocal(() => {});
    await server.close();
    const err = await createEsploraClient({ url: server.url })
      .tipHeight()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network' });
  });
});

function fromTxid(display: string): Uint8Array {
  return Uint8Array.from(Buffer.from(display, 'hex').reverse());
}
