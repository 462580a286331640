/**
 * The JSON-RPC surface under bad input: geth's codes and wording for parse errors, invalid requests,
 * unknown methods and bad params; batches and notifications; HTTP rules; and a property test that no
 * parameter of any method can crash the server or reach an internal error.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type DevnetEngine } from '../../../src/devnet/evm/index.js';
import { attrs, devKeys, prefund, signTx } from './helpers.js';
import { rpc, rpcError } from './rpc-client.js';

const METHODS = [
  'web3_clientVersion',
  'web3_sha3',
  'net_version',
  'net_listening',
  'eth_chainId',
  'eth_syncing',
  'eth_blockNumber',
  'eth_accounts',
  'eth_gasPrice',
  'eth_maxPriorityFeePerGas',
  'eth_feeHistory',
  'eth_getBlockByNumber',
  'eth_getBlockByHash',
  'eth_getBlockTransactionCountByNumber',
  'eth_getBlockTransactionCountByHash',
  'eth_getTransactionByHash',
  'eth_getTransactionByBlockNumberAndIndex',
  'eth_getTransactionByBlockHashAndIndex',
  'eth_getTransactionReceipt',
  'eth_getBlockReceipts',
  'eth_getLogs',
  'eth_getProof',
  'eth_getBalance',
  'eth_getTransactionCount',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_call',
  'eth_estimateGas',
  'eth_sendRawTransaction',
];

describe('JSON-RPC: bad input', () => {
  let engine: DevnetEngine;
  let url: string;
  let close: () => Promise<void>;
  const keys = devKeys(2, 55);

  beforeAll(async () => {
    engine = await createEngine({ alloc: prefund(keys) });
    const p = engine.genesisPayload();
    await engine.buildPayload(
      attrs(p.blockHash, p.timestamp + 1n, {
        transactions: [signTx(keys[0]!, { nonce: 0n, to: keys[1]!.address, value: 1n })],
      }),
    );
    const s = await engine.serve({ port: 0 });
    url = s.url;
    close = s.close;
  });
  afterAll(async () => {
    await close();
    await engine.close();
  });

  const post = async (body: string, contentType = 'application/json') => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await res.text();
    return {
      status: res.status,
      text,
      json: text.length > 0 && res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : undefined,
    };
  };

  it('malformed JSON: -32700 parse error with id null', async () => {
    for (const body of ['{', 'not json', '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"', '']) {
      const r = await post(body);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
  });

  it('invalid requests, unknown methods, notifications and batches', async () => {
    expect((await post('42')).json).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'invalid request' },
    });
    expect((await post('{"id":1,"method":"eth_chainId"}')).json).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32600, message: 'invalid request' },
    });
    expect((await post('{"jsonrpc":"2.0","id":{},"method":"eth_chainId"}')).json.error.code).toBe(-32600);
    expect((await post('{"jsonrpc":"2.0","id":"a","method":"eth_nope","params":[]}')).json).toEqual({
      jsonrpc: '2.0',
      id: 'a',
      error: { code: -32601, message: 'the method eth_nope does not exist/is not available' },
    });
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"__proto__"}')).json.error.code).toBe(-32601);
    expect((await post('[]')).json).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'empty batch' },
    });
    // a notification gets no answer; in a batch it is left out
    expect((await post('{"jsonrpc":"2.0","method":"eth_chainId"}')).text).toBe('');
    const batch = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
        { jsonrpc: '2.0', method: 'eth_blockNumber' },
        { jsonrpc: '2.0', id: 2, method: 'eth_getBalance', params: ['0x12'] },
        5,
        { jsonrpc: '2.0', id: 3, method: 'eth_blockNumber', params: [] },
      ]),
    );
    expect(batch.json).toEqual([
      { jsonrpc: '2.0', id: 1, result: '0x1d97c' },
      { jsonrpc: '2.0', id: 2, error: { code: -32602, message: 'missing value for required argument 1' } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } },
      { jsonrpc: '2.0', id: 3, result: '0x1' },
    ]);
  });

  it('bad params: -32602 with geth wording', async () => {
    const cases: [string, unknown[], string][] = [
      ['eth_getBalance', ['0x12', 'latest'], 'invalid argument 0: hex string has length 2, want 40 for common.Address'],
      [
        'eth_getBalance',
        ['0000000000000000000000000000000000000000', 'latest'],
        'invalid argument 0: hex string without 0x prefix',
      ],
      ['eth_getBalance', [keys[0]!.address, 'newest'], 'invalid argument 1: hex string without 0x prefix'],
      ['eth_getBalance', [keys[0]!.address, '0x01'], 'invalid argument 1: hex number with leading zero digits'],
      ['eth_getBalance', [keys[0]!.address, '0x'], 'invalid argument 1: hex string "0x"'],
      ['eth_getBalance', [keys[0]!.address, '0xzz'], 'invalid argument 1: invalid hex string'],
      ['eth_getBalance', [keys[0]!.address], 'missing value for required argument 1'],
      ['eth_getBalance', [keys[0]!.address, 'latest', 1], 'too many arguments, want at most 2'],
      [
        'eth_getBalance',
        [7, 'latest'],
        'invalid argument 0: json: cannot unmarshal number into Go value of type common.Address',
      ],
      ['eth_getBlockByNumber', ['latest'], 'missing value for required argument 1'],
      [
        'eth_getBlockByNumber',
        ['latest', 'yes'],
        'invalid argument 1: json: cannot unmarshal string into Go value of type bool',
      ],
      ['eth_getBlockByNumber', ['0x10000000000000000', false], 'invalid argument 0: hex number > 64 bits'],
      ['eth_getBlockByHash', ['0x1234', false], 'invalid argument 0: hex string has length 4, want 64 for common.Hash'],
      [
        'eth_getBalance',
        [keys[0]!.address, { blockHash: `0x${'11'.repeat(32)}`, blockNumber: '0x0' }],
        'invalid argument 1: cannot specify both BlockHash and BlockNumber, choose one or the other',
      ],
      ['eth_sendRawTransaction', ['0x123'], 'invalid argument 0: hex string of odd length'],
      [
        'eth_call',
        [{ to: keys[0]!.address, data: '0x00', input: '0x01' }],
        'invalid argument 0: both "data" and "input" are set and not equal. Please use "input" to pass transaction call data',
      ],
      [
        'eth_call',
        [{ to: keys[0]!.address, gasPrice: '0x1', maxFeePerGas: '0x1' }],
        'invalid argument 0: both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified',
      ],
      [
        'eth_call',
        [{ to: keys[0]!.address, value: '0x0001' }],
        'invalid argument 0: value: hex number with leading zero digits',
      ],
      ['eth_getLogs', [{ topics: [null, null, null, null, null] }], 'invalid argument 0: exceed max topics'],
      [
        'eth_getLogs',
        [{ blockHash: `0x${'11'.repeat(32)}`, fromBlock: '0x0' }],
        'invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other',
      ],
      [
        'eth_getProof',
        [keys[0]!.address, ['0x' + '1'.repeat(66)], 'latest'],
        'invalid argument 1: hex string too long, want at most 32 bytes (storage key 0)',
      ],
      ['eth_getProof', [keys[0]!.address, 'latest'], 'missing value for required argument 2'],
      ['eth_chainId', [1], 'too many arguments, want at most 0'],
      ['eth_feeHistory', ['0x2', 'latest', [50, 10]], 'invalid reward percentile: #0:50 >= #1:10'],
    ];
    for (const [method, params, message] of cases)
      expect({ method, params, ...(await rpcError(engine, method, params)) }).toEqual({
        method,
        params,
        code: -32602,
        message,
      });
    expect(await engine.handleRpc({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: { a: 1 } })).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32602, message: 'non-array args' },
    });
  });

  it('well-formed but unanswerable requests: null or -32000, as geth', async () => {
    expect(await rpc(engine, 'eth_getBlockByNumber', ['0x99', false])).toBeNull();
    expect(await rpc(engine, 'eth_getBlockByHash', [`0x${'11'.repeat(32)}`, false])).toBeNull();
    expect(await rpc(engine, 'eth_getTransactionByHash', [`0x${'11'.repeat(32)}`])).toBeNull();
    expect(await rpc(engine, 'eth_getTransactionReceipt', [`0x${'11'.repeat(32)}`])).toBeNull();
    expect(await rpcError(engine, 'eth_getBalance', [keys[0]!.address, '0x99'])).toEqual({
      code: -32000,
      message: 'header not found',
    });
    expect(await rpcError(engine, 'eth_getLogs', [{ blockHash: `0x${'11'.repeat(32)}` }])).toEqual({
      code: -32000,
      message: 'unknown block',
    });
    expect(await rpcError(engine, 'eth_getLogs', [{ fromBlock: '0x1', toBlock: '0x0' }])).toEqual({
      code: -32000,
      message: 'invalid block range',
    });
    expect(await rpc(engine, 'eth_getLogs', [{ fromBlock: '0x50' }])).toEqual([]);
    expect(
      (
        await rpcError(engine, 'eth_call', [
          { from: keys[0]!.address, to: keys[1]!.address, value: '0xffffffffffffffffffffffffffffffff' },
        ])
      ).message,
    ).toMatch(/^insufficient funds for gas \* price \+ value/);
  });

  it('HTTP: health check, wrong method, content type, oversized body', async () => {
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { method: 'PUT', body: '{}' })).status).toBe(405);
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}', 'text/plain')).status).toBe(415);
    expect(
      (await post('{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}', 'application/json; charset=utf-8')).json.result,
    ).toBe('0x1d97c');
    const big = await post(`[${'1,'.repeat(3 * 1024 * 1024)}1]`);
    expect(big.status).toBe(413);
    // still serving
    expect((await post('{"jsonrpc":"2.0","id":9,"method":"eth_blockNumber"}')).json).toEqual({
      jsonrpc: '2.0',
      id: 9,
      result: '0x1',
    });
  });

  it('no parameters of any method crash the server or reach an internal error (property)', async () => {
    const hexish = fc.oneof(
      fc.constantFrom(
        '0x',
        '0x0',
        '0x00',
        'latest',
        'pending',
        'earliest',
        'safe',
        'finalized',
        '0x1',
        keys[0]!.address,
        `0x${'ab'.repeat(32)}`,
        `0x${'ff'.repeat(33)}`,
      ),
      fc.uint8Array({ maxLength: 40 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
      fc.string({ maxLength: 12 }),
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        hexish,
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.double(),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom(
            'from',
            'to',
            'data',
            'input',
            'value',
            'gas',
            'gasPrice',
            'maxFeePerGas',
            'blockHash',
            'blockNumber',
            'fromBlock',
            'toBlock',
            'address',
            'topics',
            'accessList',
            'nonce',
          ),
          tie('v'),
          { maxKeys: 5 },
        ),
      ),
    })).v;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        fc.oneof(fc.array(value, { maxLength: 4 }), value),
        async (method, params) => {
          const res = (await engine.handleRpc({ jsonrpc: '2.0', id: 1, method, params })) as {
            result?: unknown;
            error?: { code: number; message: string };
          };
          expect(res).toHaveProperty('jsonrpc', '2.0');
          expect('result' in res || 'error' in res).toBe(true);
          if (res.error !== undefined) {
            expect(res.error.code).not.toBe(-32603);
            expect([-32602, -32000, -39001, 3, -32005]).toContain(res.error.code);
          }
        },
      ),
      { numRuns: 400, seed: 4 },
    );
    expect(await rpc(engine, 'eth_blockNumber')).toBe('0x1');
  });
});
