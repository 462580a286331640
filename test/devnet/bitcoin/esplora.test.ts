/**
 * The Esplora REST subset over real HTTP on loopback. Shapes are checked field by field (names,
 * order, presence) against Blockstream electrs's formats; values against independent
 * computations (src/protocol decoders and merkle verifier, @scure/btc-signer's parser and address
 * encoder).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as btc from '@scure/btc-signer';
import { bytesToHex } from '../../../src/protocol/bytes.js';
import {
  createFederation,
  decodeHeader,
  decodeTransaction,
  encodeHeader,
  federationAddress,
  fromDisplayHex,
  headerHash,
  parsePegInRaw,
  toDisplayHex,
  txid,
  verifyMerkleBranch,
} from '../../../src/protocol/index.js';
import {
  createWallet,
  handleEsploraRequest,
  REGTEST_NETWORK,
  type BitcoinWallet,
  type FaucetWallet,
  type RegtestChain,
  type SentTransaction,
} from '../../../src/devnet/bitcoin/index.js';
import { chainWithFaucet, pubkeyOf } from './helpers.js';

const federation = createFederation([1, 2, 3].map(pubkeyOf));
const EVM = '0xF9A9aB6e9C1bd3F04b3c2d4Ab4a8b6Ff1e2d3c4B';

let chain: RegtestChain;
let faucet: FaucetWallet;
let alice: BitcoinWallet;
let url: string;
let close: (() => Promise<void>) | undefined;
let busyBlockHeight: number;
let pegIn: SentTransaction;
let aliceTxs: SentTransaction[];
let pending: SentTransaction;

beforeAll(async () => {
  ({ chain, faucet } = chainWithFaucet());
  alice = createWallet(chain, 'alice');
  // a block with several transactions (for merkle proofs), then alice's history
  aliceTxs = [];
  for (let i = 0; i < 6; i++)
    aliceTxs.push(faucet.send(i % 2 ? alice.p2tr.address : alice.address, 100_000n + BigInt(i)));
  busyBlockHeight = chain.mine(1)[0]!.height;
  pegIn = alice.pegIn(EVM, 150_000n, federationAddress(federation, 'regtest'));
  chain.mine(2);
  pending = faucet.send(alice.address, 7_777n);
  const server = await chain.serve({ port: 0 });
  url = server.url;
  close = server.close;
});

afterAll(async () => {
  await close?.();
});

async function get(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; type: string; text: string; cors: string | null }> {
  const res = await fetch(url + path, init);
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text: await res.text(),
    cors: res.headers.get('access-control-allow-origin'),
  };
}

async function getJson(path: string): Promise<any> {
  const r = await get(path);
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  expect(r.type).toBe('application/json');
  return JSON.parse(r.text);
}

const independentAddress = (script: Uint8Array): string | undefined => {
  try {
    return btc.Address(REGTEST_NETWORK).encode(btc.OutScript.decode(script));
  } catch {
    return undefined;
  }
};

describe('block endpoints', () => {
  it('/blocks/tip/height and /blocks/tip/hash are text', async () => {
    const h = await get('/blocks/tip/height');
    expect(h).toMatchObject({ status: 200, type: 'text/plain', text: String(chain.tipHeight()), cors: '*' });
    const hash = await get('/blocks/tip/hash');
    expect(hash.text).toBe(toDisplayHex(chain.tip().hash));
    expect(hash.text).toMatch(/^[0-9a-f]{64}$/);
  });

  it('/block-height/:h, with 400 for bad numbers and 404 past the tip', async () => {
    expect((await get('/block-height/0')).text).toBe(toDisplayHex(chain.block(0)!.hash));
    expect((await get(`/block-height/${busyBlockHeight}`)).text).toBe(toDisplayHex(chain.block(busyBlockHeight)!.hash));
    expect(await get(`/block-height/${chain.tipHeight() + 1}`)).toMatchObject({ status: 404, text: 'Block not found' });
    for (const bad of ['abc', '-1', '1.5', '', '99999999999999999999999'])
      expect(await get(`/block-height/${bad}`), bad).toMatchObject({
        status: bad === '' ? 400 : 400,
        text: 'Invalid number',
      });
  });

  it('/block/:hash/header is the 80-byte header in hex; /block/:hash/txids the display txids', async () => {
    const b = chain.block(busyBlockHeight)!;
    const header = await get(`/block/${toDisplayHex(b.hash)}/header`);
    expect(header).toMatchObject({ status: 200, type: 'text/plain' });
    expect(header.text).toMatch(/^[0-9a-f]{160}$/);
    const bytes = Uint8Array.from(Buffer.from(header.text, 'hex'));
    expect(toDisplayHex(headerHash(bytes))).toBe(toDisplayHex(b.hash));
    expect(decodeHeader(bytes).merkleRoot).toEqual(b.header.merkleRoot);
    const txids = await getJson(`/block/${toDisplayHex(b.hash)}/txids`);
    expect(txids).toEqual(b.transactions.map((t) => toDisplayHex(txid(t))));
    expect(txids).toHaveLength(7);
    // upper-case hex is accepted, as rust-bitcoin does
    expect((await get(`/block/${toDisplayHex(b.hash).toUpperCase()}/header`)).status).toBe(200);
    const raw = await fetch(`${url}/block/${toDisplayHex(b.hash)}/raw`);
    expect(bytesToHex(new Uint8Array(await raw.arrayBuffer())).slice(0, 160)).toBe(bytesToHex(encodeHeader(b.header)));
  });

  it('bad and unknown block hashes', async () => {
    expect(await get(`/block/${'00'.repeat(32)}/header`)).toMatchObject({ status: 404, text: 'Block not found' });
    expect(await get(`/block/${'00'.repeat(32)}/txids`)).toMatchObject({ status: 404, text: 'Block not found' });
    for (const bad of ['zz'.repeat(32), 'abcd', '0'.repeat(63), '0'.repeat(65)])
      expect(await get(`/block/${bad}/header`)).toMatchObject({ status: 400, text: 'Invalid hex string' });
  });
});

describe('/tx/:txid', () => {
  const VIN_KEYS = ['txid', 'vout', 'prevout', 'scriptsig', 'scriptsig_asm', 'witness', 'is_coinbase', 'sequence'];
  const VOUT_KEYS = ['scriptpubkey', 'scriptpubkey_asm', 'scriptpubkey_type', 'scriptpubkey_address', 'value'];

  function checkVout(v: any, script: Uint8Array, value: bigint): void {
    const address = independentAddress(script);
    expect(Object.keys(v)).toEqual(
      address === undefined ? VOUT_KEYS.filter((k) => k !== 'scriptpubkey_address') : VOUT_KEYS,
    );
    expect(v.scriptpubkey).toBe(bytesToHex(script));
    expect(v.value).toBe(Number(value));
    if (address !== undefined) expect(v.scriptpubkey_address).toBe(address);
  }

  it('a confirmed wallet payment, field by field', async () => {
    const sent = aliceTxs[1]!; // pays alice's P2TR address
    const json = await getJson(`/tx/${toDisplayHex(sent.txid)}`);
    expect(Object.keys(json)).toEqual([
      'txid',
      'version',
      'locktime',
      'vin',
      'vout',
      'size',
      'weight',
      'fee',
      'status',
    ]);
    const hex = (await get(`/tx/${toDisplayHex(sent.txid)}/hex`)).text;
    const tx = decodeTransaction(Uint8Array.from(Buffer.from(hex, 'hex')));
    const parsed = btc.Transaction.fromRaw(Uint8Array.from(Buffer.from(hex, 'hex')), { allowUnknownOutputs: true });
    expect(json.txid).toBe(parsed.id);
    expect(json.version).toBe(2);
    expect(json.locktime).toBe(0);
    expect(json.size).toBe(hex.length / 2);
    expect(json.weight).toBe(parsed.weight);
    expect(json.fee).toBe(Number(sent.fee));
    const block = chain.block(busyBlockHeight)!;
    expect(json.status).toEqual({
      confirmed: true,
      block_height: busyBlockHeight,
      block_hash: toDisplayHex(block.hash),
      block_time: block.header.time,
    });
    expect(json.vin).toHaveLength(tx.inputs.length);
    json.vin.forEach((vin: any, i: number) => {
      const input = tx.inputs[i]!;
      expect(Object.keys(vin)).toEqual(VIN_KEYS);
      expect(vin.txid).toBe(toDisplayHex(input.prevTxid));
      expect(vin.vout).toBe(input.prevVout);
      expect(vin.scriptsig).toBe('');
      expect(vin.scriptsig_asm).toBe('');
      expect(vin.witness).toEqual(input.witness.map((w) => bytesToHex(w)));
      expect(vin.is_coinbase).toBe(false);
      expect(vin.sequence).toBe(input.sequence);
      const prev = chain.output(input.prevTxid, input.prevVout)!;
      checkVout(vin.prevout, prev.scriptPubkey, prev.value);
    });
    json.vout.forEach((v: any, i: number) => {
      checkVout(v, tx.outputs[i]!.scriptPubkey, tx.outputs[i]!.value);
    });
    const p2tr = json.vout.find((v: any) => v.scriptpubkey_address === alice.p2tr.address);
    expect(p2tr.scriptpubkey_type).toBe('v1_p2tr');
    expect(p2tr.scriptpubkey_asm).toBe(`OP_PUSHNUM_1 OP_PUSHBYTES_32 ${bytesToHex(alice.p2tr.outputKey)}`);
    const change = json.vout.find((v: any) => v.scriptpubkey_address === faucet.address);
    expect(change.scriptpubkey_type).toBe('v0_p2wpkh');
    expect(change.scriptpubkey_asm).toBe(`OP_0 OP_PUSHBYTES_20 ${bytesToHex(faucet.scriptPubkey.subarray(2))}`);
  });

  it('a coinbase: null prevout, zero txid, vout 0xffffffff, fee 0, BIP34 height in the scriptsig asm', async () => {
    const b = chain.block(busyBlockHeight)!;
    const json = await getJson(`/tx/${toDisplayHex(txid(b.transactions[0]!))}`);
    const vin = json.vin[0];
    expect(Object.keys(vin)).toEqual(VIN_KEYS); // segwit block: the coinbase has the reserved-value witness
    expect(vin).toMatchObject({
      txid: '00'.repeat(32),
      vout: 4294967295,
      prevout: null,
      is_coinbase: true,
      sequence: 4294967295,
      witness: ['00'.repeat(32)],
    });
    expect(
      vin.scriptsig_asm.startsWith(`OP_PUSHBYTES_1 ${busyBlockHeight.toString(16).padStart(2, '0')} OP_PUSHBYTES_`),
    ).toBe(true);
    expect(json.fee).toBe(0);
    const commitment = json.vout[json.vout.length - 1];
    expect(Object.keys(commitment)).toEqual(VOUT_KEYS.filter((k) => k !== 'scriptpubkey_address'));
    expect(commitment.scriptpubkey_type).toBe('op_return');
    expect(commitment.scriptpubkey_asm).toMatch(/^OP_RETURN OP_PUSHBYTES_36 aa21a9ed[0-9a-f]{64}$/);
    // a block without witness transactions: no witness on the coinbase input
    const plain = await getJson(`/tx/${toDisplayHex(txid(chain.block(5)!.transactions[0]!))}`);
    expect(Object.keys(plain.vin[0])).toEqual(VIN_KEYS.filter((k) => k !== 'witness'));
  });

  it('a peg-in: federation output, OP_RETURN address; the hex parses as a peg-in', async () => {
    const json = await getJson(`/tx/${toDisplayHex(pegIn.txid)}`);
    expect(json.vout[0].scriptpubkey_address).toBe(federationAddress(federation, 'regtest'));
    expect(json.vout[0].value).toBe(150_000);
    expect(json.vout[1]).toEqual({
      scriptpubkey: '6a14' + EVM.slice(2).toLowerCase(),
      scriptpubkey_asm: `OP_RETURN OP_PUSHBYTES_20 ${EVM.slice(2).toLowerCase()}`,
      scriptpubkey_type: 'op_return',
      value: 0,
    });
    const hex = (await get(`/tx/${toDisplayHex(pegIn.txid)}/hex`)).text;
    expect(parsePegInRaw(Uint8Array.from(Buffer.from(hex, 'hex')), federation)).toMatchObject({
      amountSats: 150_000n,
      evmAddress: EVM.toLowerCase(),
    });
  });

  it('a mempool transaction is unconfirmed; unknown ones are 404 (status: unconfirmed)', async () => {
    const json = await getJson(`/tx/${toDisplayHex(pending.txid)}`);
    expect(json.status).toEqual({ confirmed: false });
    expect(await getJson(`/tx/${toDisplayHex(pending.txid)}/status`)).toEqual({ confirmed: false });
    expect((await get(`/tx/${toDisplayHex(pending.txid)}/hex`)).text).toBe(bytesToHex(pending.raw));
    const unknown = 'ab'.repeat(32);
    expect(await get(`/tx/${unknown}`)).toMatchObject({ status: 404, text: 'Transaction not found' });
    expect(await get(`/tx/${unknown}/hex`)).toMatchObject({ status: 404, text: 'Transaction not found' });
    expect(await getJson(`/tx/${unknown}/status`)).toEqual({ confirmed: false });
    expect(await get(`/tx/${unknown}/merkle-proof`)).toMatchObject({
      status: 404,
      text: 'Transaction not found or is unconfirmed',
    });
    expect(await get(`/tx/${toDisplayHex(pending.txid)}/merkle-proof`)).toMatchObject({
      status: 404,
      text: 'Transaction not found or is unconfirmed',
    });
    expect(await get('/tx/xyz')).toMatchObject({ status: 400, text: 'Invalid hex string' });
  });

  it('/tx/:txid/status of a confirmed transaction', async () => {
    const s = await getJson(`/tx/${toDisplayHex(pegIn.txid)}/status`);
    const block = chain.transaction(pegIn.txid)!.block!;
    expect(Object.keys(s)).toEqual(['confirmed', 'block_height', 'block_hash', 'block_time']);
    expect(s).toEqual({
      confirmed: true,
      block_height: block.height,
      block_hash: toDisplayHex(block.hash),
      block_time: block.header.time,
    });
  });
});

describe('/tx/:txid/merkle-proof', () => {
  it('verifies with verifyMerkleBranch against the header served by /block/:hash/header, for every transaction of a block', async () => {
    const b = chain.block(busyBlockHeight)!;
    const header = decodeHeader(
      Uint8Array.from(Buffer.from((await get(`/block/${toDisplayHex(b.hash)}/header`)).text, 'hex')),
    );
    const ids = (await getJson(`/block/${toDisplayHex(b.hash)}/txids`)) as string[];
    for (const [i, id] of ids.entries()) {
      const proof = await getJson(`/tx/${id}/merkle-proof`);
      expect(Object.keys(proof)).toEqual(['block_height', 'merkle', 'pos']);
      expect(proof.block_height).toBe(busyBlockHeight);
      expect(proof.pos).toBe(i);
      expect(proof.merkle).toHaveLength(3);
      const branch = (proof.merkle as string[]).map((h) => fromDisplayHex(h));
      verifyMerkleBranch(fromDisplayHex(id), branch, proof.pos, header.merkleRoot, { totalTransactions: ids.length });
      // a wrong position does not verify (the last of an odd count is its own sibling, so its
      // neighbour position is only caught by the count)
      expect(() =>
        verifyMerkleBranch(fromDisplayHex(id), branch, proof.pos ^ 1, header.merkleRoot, {
          totalTransactions: ids.length,
        }),
      ).toThrow();
    }
  });

  it('a coinbase-only block has an empty branch', async () => {
    const b = chain.block(3)!;
    const proof = await getJson(`/tx/${toDisplayHex(txid(b.transactions[0]!))}/merkle-proof`);
    expect(proof).toEqual({ block_height: 3, merkle: [], pos: 0 });
    verifyMerkleBranch(txid(b.transactions[0]!), [], 0, b.header.merkleRoot, { totalTransactions: 1 });
  });
});

describe('/address/:addr/txs', () => {
  it('mempool first, then confirmed newest first', async () => {
    const txs = (await getJson(`/address/${alice.address}/txs`)) as any[];
    const ids = txs.map((t) => t.txid);
    const expected = [pending, pegIn, aliceTxs[4]!, aliceTxs[2]!, aliceTxs[0]!].map((s) => toDisplayHex(s.txid));
    expect(ids).toEqual(expected);
    expect(txs[0].status).toEqual({ confirmed: false });
    expect(txs.slice(1).every((t) => t.status.confirmed)).toBe(true);
    expect(txs.slice(1).map((t) => t.status.block_height)).toEqual(
      [...txs.slice(1).map((t) => t.status.block_height)].sort((a, b) => b - a),
    );
    const p2tr = (await getJson(`/address/${alice.p2tr.address}/txs`)) as any[];
    // the peg-in spent one of alice's outputs: which address depends on coin selection
    expect(p2tr.map((t) => t.txid).filter((id: string) => id !== toDisplayHex(pegIn.txid))).toEqual(
      [5, 3, 1].map((i) => toDisplayHex(aliceTxs[i]!.txid)),
    );
  });

  it('pages confirmed history 25 at a time with /txs/chain/:last_seen_txid', async () => {
    const { chain: c, faucet: f } = chainWithFaucet();
    const bob = createWallet(c, 'bob');
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      sent.push(toDisplayHex(f.send(bob.address, 1_000n + BigInt(i)).txid));
      if (i % 7 === 6) c.mine(1);
    }
    c.mine(1);
    const page1 = (
      JSON.parse(handleEsploraRequest(c, 'GET', `/address/${bob.address}/txs`).body as string) as any[]
    ).map((t) => t.txid);
    expect(page1).toHaveLength(25);
    // newest first: later blocks first; inside a block, later positions first
    expect(page1).toEqual([...sent].reverse().slice(0, 25));
    const page2 = (
      JSON.parse(
        handleEsploraRequest(c, 'GET', `/address/${bob.address}/txs/chain/${page1[24]}`).body as string,
      ) as any[]
    ).map((t) => t.txid);
    expect(page2).toEqual([...sent].reverse().slice(25));
    const utxos = JSON.parse(handleEsploraRequest(c, 'GET', `/address/${bob.address}/utxo`).body as string) as any[];
    expect(utxos).toHaveLength(30);
    expect(Object.keys(utxos[0])).toEqual(['txid', 'vout', 'status', 'value']);
  });

  it('bad and foreign addresses are 400', async () => {
    expect(await get('/address/notanaddress/txs')).toMatchObject({ status: 400 });
    expect(await get('/address/bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4/txs')).toMatchObject({
      status: 400,
      text: 'Address on invalid network',
    });
    expect(await getJson(`/address/${createWallet(chain, 'nobody').address}/txs`)).toEqual([]);
  });
});

describe('POST /tx', () => {
  it('broadcasts raw hex and answers with the txid; refusals are bitcoind errors relayed with 400', async () => {
    const { chain: c, faucet: f } = chainWithFaucet();
    const server = await c.serve({ port: 0 });
    try {
      // build (and broadcast) on a twin chain, then post the same bytes here
      const twin = chainWithFaucet();
      const sent = twin.faucet.send(createWallet(twin.chain, 'carol').address, 50_000n);
      const ok = await fetch(`${server.url}/tx`, { method: 'POST', body: bytesToHex(sent.raw) });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe(toDisplayHex(sent.txid));
      expect(c.mempool()).toHaveLength(1);
      // the same coin spent differently: a conflict
      const other = chainWithFaucet();
      const conflicting = other.faucet.send(createWallet(other.chain, 'dave').address, 60_000n);
      const conflict = await fetch(`${server.url}/tx`, { method: 'POST', body: bytesToHex(conflicting.raw) });
      expect(conflict.status).toBe(400);
      const text = await conflict.text();
      expect(text).toMatch(
        /^sendrawtransaction RPC error: \{"code":-26,"message":"txn-mempool-conflict, input 0 spends [0-9a-f]{64}:\d+, which mempool transaction [0-9a-f]{64} already spends/,
      );
      const json = JSON.parse(text.slice('sendrawtransaction RPC error: '.length));
      expect(Object.keys(json)).toEqual(['code', 'message']);
      const garbage = await fetch(`${server.url}/tx`, { method: 'POST', body: 'zz' });
      expect(garbage.status).toBe(400);
      expect(await garbage.text()).toMatch(/^sendrawtransaction RPC error: \{"code":-22,"message":"TX decode failed/);
      const truncated = await fetch(`${server.url}/tx`, { method: 'POST', body: bytesToHex(sent.raw).slice(0, 100) });
      expect(await truncated.text()).toMatch(/"code":-22/);
      const big = await fetch(`${server.url}/tx`, { method: 'POST', body: 'a'.repeat(1_000_001) });
      expect(big.status).toBe(413);
      expect(c.mempool()).toHaveLength(1);
      void f;
    } finally {
      await server.close();
    }
  });
});

describe('robustness', () => {
  it('unknown routes and methods are 404 with electrs wording', async () => {
    expect(await get('/nope')).toMatchObject({ status: 404, text: 'endpoint does not exist "/nope"' });
    expect((await get('/blocks/tip/height/')).status).toBe(404);
    expect((await get('/blocks/tip/height', { method: 'PUT' })).status).toBe(404);
    expect((await get('/tx', { method: 'GET' })).status).toBe(404);
    expect((await get(`/tx/${toDisplayHex(pegIn.txid)}/nope`)).status).toBe(404);
    expect((await get('/blocks/tip/height?x=1')).status).toBe(200);
  });

  it('never crashes and never answers 500 on arbitrary paths and bodies', () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'blocks',
        'tip',
        'height',
        'hash',
        'block-height',
        'block',
        'header',
        'txids',
        'raw',
        'tx',
        'hex',
        'status',
        'merkle-proof',
        'address',
        'txs',
        'chain',
        'utxo',
        '',
        '..',
        '%00',
      ),
      fc.string({ maxLength: 70 }),
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.constant(toDisplayHex(pegIn.txid)),
      fc.constant(alice.address),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        fc.array(segment, { maxLength: 6 }),
        fc.uint8Array({ maxLength: 300 }),
        (method, parts, body) => {
          const before = chain.mempool().length;
          const r = handleEsploraRequest(chain, method, '/' + parts.join('/'), body);
          expect([200, 400, 404]).toContain(r.status);
          expect(chain.mempool().length).toBeGreaterThanOrEqual(before);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('survives malformed HTTP on the socket', async () => {
    const { connect } = await import('node:net');
    const port = Number(new URL(url).port);
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.end('GARBAGE\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    expect((await get('/blocks/tip/height')).status).toBe(200);
  });
});
