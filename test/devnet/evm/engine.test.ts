/**
 * The engine as the consensus side drives it: payloads, minting withdrawals, fees to 0x…dEaD, peg-out
 * requests, the mempool, state history. Every check is made with src/protocol's independent verifiers
 * (payload hash, receipts root, EIP-1186 proofs, filterPegouts) against what the engine says.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeEventLog, encodeAbiParameters, getAddress, type Hex } from 'viem';
import { BRIDGE_ARTIFACT, LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import {
  createEngine,
  EngineError,
  GENESIS_DIFFICULTY,
  GENESIS_NONCE,
  type DevnetEngine,
} from '../../../src/devnet/evm/index.js';
import {
  BRIDGE_ADDRESS,
  EMPTY_OMMERS_HASH,
  REQUEST_PEGOUT_TOPIC0,
  computePayloadBlockHash,
  decodeGetProofResponse,
  decodeRpcBlockReceipts,
  encodeExecutionHeader,
  filterPegouts,
  payloadToHeader,
  toHex,
  verifyBlockReceipts,
  verifyGetProofResponse,
  verifyRpcBlock,
  type ExecutionPayloadCapella,
} from '../../../src/protocol/index.js';
import {
  DEAD,
  LOAD_TOKEN_ADDRESS,
  ZERO32,
  attrs,
  devKeys,
  pegOut,
  prefund,
  signTx,
  tokenMint,
  tokenTransfer,
  type DevKey,
} from './helpers.js';
import { rpc, rpcError } from './rpc-client.js';

const BTC_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

async function balance(engine: DevnetEngine, address: string, tag = 'latest'): Promise<bigint> {
  return BigInt(await rpc<string>(engine, 'eth_getBalance', [address, tag]));
}

/** Every check src/protocol can make of one block, from what the engine serves over JSON-RPC. */
async function verifyBlockFully(engine: DevnetEngine, payload: ExecutionPayloadCapella): Promise<void> {
  expect(computePayloadBlockHash(payload)).toBe(payload.blockHash);
  const block = await rpc(engine, 'eth_getBlockByHash', [payload.blockHash, true]);
  const verified = verifyRpcBlock(block, { rawTransactions: payload.transactions });
  expect(verified.hash).toBe(payload.blockHash);
  expect(verified.checked).toEqual({ transactionsRoot: true, withdrawalsRoot: true, ommersHash: true });
  const receipts = decodeRpcBlockReceipts(await rpc(engine, 'eth_getBlockReceipts', [payload.blockHash]));
  verifyBlockReceipts(
    {
      receiptsRoot: Buffer.from(payload.receiptsRoot.slice(2), 'hex'),
      hash: Buffer.from(payload.blockHash.slice(2), 'hex'),
      number: payload.blockNumber,
      gasUsed: payload.gasUsed,
      logsBloom: Buffer.from(payload.logsBloom.slice(2), 'hex'),
    },
    receipts,
    verified.transactionHashes,
  );
}

describe('engine: genesis', () => {
  it('is Alys-style: bridge predeployed, pre-merge-shaped header whose hash comes from the EL', async () => {
    const keys = devKeys(2);
    const engine = await createEngine({ alloc: prefund(keys, 5n * 10n ** 18n) });
    const g = engine.genesisPayload();
    expect(g.blockNumber).toBe(0n);
    expect(g.parentHash).toBe(ZERO32);
    expect(g.feeRecipient).toBe('0x0000000000000000000000000000000000000000');
    expect(g.prevRandao).toBe(ZERO32);
    expect(g.gasLimit).toBe(0x1c9c380n);
    expect(g.baseFeePerGas).toBe(1_000_000_000n);
    expect(g.transactions).toEqual([]);
    expect(g.withdrawals).toEqual([]);
    expect(engine.headHash()).toBe(g.blockHash);
    // Spec 5.2: the genesis is pre-merge-shaped, so the post-merge formula does not give its hash ...
    expect(computePayloadBlockHash(g)).not.toBe(g.blockHash);
    // ... but the same header with Alys's genesis difficulty and nonce does (src/protocol's encoder).
    const header = {
      ...payloadToHeader(g),
      difficulty: GENESIS_DIFFICULTY,
      nonce: Buffer.from(GENESIS_NONCE.slice(2), 'hex'),
    };
    expect(toHex(keccak_256(encodeExecutionHeader(header)))).toBe(g.blockHash);
    // eth_getBlockByNumber("0x0") serves the same block, and it verifies as an RPC block.
    const block = await rpc<Record<string, unknown>>(engine, 'eth_getBlockByNumber', ['0x0', true]);
    expect(block['hash']).toBe(g.blockHash);
    expect(block['difficulty']).toBe('0x20000');
    expect(block['nonce']).toBe(GENESIS_NONCE);
    expect(verifyRpcBlock(block).hash).toBe(g.blockHash);
    expect(await rpc(engine, 'eth_getCode', [BRIDGE_ADDRESS, 'latest'])).toBe(BRIDGE_ARTIFACT.deployedBytecode);
    expect(await rpc(engine, 'eth_getCode', [LOAD_TOKEN_ADDRESS, 'latest'])).toBe(LOAD_TOKEN_ARTIFACT.deployedBytecode);
    expect(await balance(engine, keys[1]!.address)).toBe(5n * 10n ** 18n);
    expect(await rpc(engine, 'eth_chainId')).toBe('0x1d97c');
    expect(await rpc(engine, 'net_version')).toBe('121212');
  });

  it('takes the chain id from the options and can leave the load token out', async () => {
    const engine = await createEngine({ chainId: 727272n, loadTokenAddress: false });
    expect(engine.chainId).toBe(727272n);
    expect(await rpc(engine, 'eth_chainId')).toBe('0xb18e8');
    expect(await rpc(engine, 'eth_getCode', [LOAD_TOKEN_ADDRESS, 'latest'])).toBe('0x');
  });
});

describe('engine: building payloads', () => {
  let keys: DevKey[];
  let engine: DevnetEngine;
  const payloads: ExecutionPayloadCapella[] = [];

  beforeAll(async () => {
    keys = devKeys(8);
    engine = await createEngine({ alloc: prefund(keys) });
    payloads.push(engine.genesisPayload());
  });

  const last = () => payloads[payloads.length - 1]!;
  async function build(extra: Parameters<typeof attrs>[2] = {}) {
    const built = await engine.buildPayload(attrs(last().blockHash, last().timestamp + 2n, extra));
    payloads.push(built.payload);
    return built;
  }

  it('withdrawals mint exactly amount * 1e9 wei, in order, duplicates add up, zero touches nothing', async () => {
    const a = '0x00000000000000000000000000000000000a11ce';
    const b = '0x0000000000000000000000000000000000000b0b';
    const c = '0x000000000000000000000000000000000000cccc';
    const built = await build({
      withdrawals: [
        { index: 0n, validatorIndex: 0n, address: a, amount: 123_456_789n },
        { index: 0n, validatorIndex: 0n, address: b, amount: 1n },
        { index: 0n, validatorIndex: 0n, address: a, amount: 10n },
        { index: 0n, validatorIndex: 0n, address: c, amount: 0n },
      ],
    });
    expect(await balance(engine, a)).toBe(123_456_799n * 10n ** 9n);
    expect(await balance(engine, b)).toBe(10n ** 9n);
    expect(await balance(engine, c)).toBe(0n);
    // a zero withdrawal creates no account (geth skips it): the proof proves absence
    const proof = decodeGetProofResponse(await rpc(engine, 'eth_getProof', [c, [], 'latest']));
    expect(verifyGetProofResponse(built.payload.stateRoot, proof).account.exists).toBe(false);
    expect(built.payload.withdrawals).toHaveLength(4);
    expect(built.payload.transactions).toEqual([]);
    expect(built.priorityFeesWei).toBe(0n);
    await verifyBlockFully(engine, built.payload);
  });

  it('executes legacy (EIP-155), EIP-2930 and EIP-1559 transactions; tips go to 0x…dEaD, the base fee is burned', async () => {
    const [k0, k1, k2] = keys as [DevKey, DevKey, DevKey];
    const to = '0x00000000000000000000000000000000000000f0';
    const deadBefore = await balance(engine, DEAD);
    const senderBefore = await balance(engine, k0.address);
    const txs = [
      signTx(k0, { nonce: 0n, to, value: 1n, gasPrice: 3_000_000_000n }, 0),
      signTx(k1, { nonce: 0n, to, value: 2n, gasPrice: 2_500_000_000n }, 1),
      signTx(k2, { nonce: 0n, to, value: 3n, maxFeePerGas: 5_000_000_000n, maxPriorityFeePerGas: 7n }, 2),
    ];
    const built = await build({ transactions: txs });
    const baseFee = built.payload.baseFeePerGas;
    expect(built.payload.feeRecipient).toBe(DEAD);
    expect(built.receipts.map((r) => r.status)).toEqual(['success', 'success', 'success']);
    expect(built.receipts.map((r) => r.effectiveTipPerGas)).toEqual([
      3_000_000_000n - baseFee,
      2_500_000_000n - baseFee,
      7n,
    ]);
    expect(built.receipts.map((r) => r.from)).toEqual([k0.address, k1.address, k2.address]);
    expect(built.receipts.every((r) => r.gasUsed === 21_000n)).toBe(true);
    const fees = built.receipts.reduce((s, r) => s + r.effectiveTipPerGas * r.gasUsed, 0n);
    expect(built.priorityFeesWei).toBe(fees);
    expect((await balance(engine, DEAD)) - deadBefore).toBe(fees);
    expect(senderBefore - (await balance(engine, k0.address))).toBe(1n + 21_000n * 3_000_000_000n);
    expect(await balance(engine, to)).toBe(6n);
    expect(await engine.receipts(built.payload.blockHash)).toEqual(built.receipts);
    await verifyBlockFully(engine, built.payload);
  });

  it('runs contract calls with storage writes and logs; proofs of the token storage verify against the payload state root', async () => {
    const [k3, k4] = [keys[3]!, keys[4]!];
    const built = await build({
      transactions: [
        signTx(k3, { nonce: 0n, to: LOAD_TOKEN_ADDRESS, data: tokenMint(k3.address, 1000n), gasLimit: 120_000n }),
        signTx(k3, { nonce: 1n, to: LOAD_TOKEN_ADDRESS, data: tokenTransfer(k4.address, 250n), gasLimit: 120_000n }),
        signTx(k4, { nonce: 0n, to: LOAD_TOKEN_ADDRESS, data: tokenTransfer(k3.address, 10_000n), gasLimit: 120_000n }), // reverts: balance 250
      ],
    });
    expect(built.receipts.map((r) => r.status)).toEqual(['success', 'success', 'reverted']);
    const transfer = decodeEventLog({
      abi: LOAD_TOKEN_ARTIFACT.abi,
      data: built.receipts[1]!.logs[0]!.data,
      topics: built.receipts[1]!.logs[0]!.topics as [Hex, ...Hex[]],
    });
    expect(transfer.eventName).toBe('Transfer');
    expect(transfer.args).toEqual({ from: getAddress(k3.address), to: getAddress(k4.address), value: 250n });
    expect(built.receipts[2]!.logs).toEqual([]);
    // balanceOf[k4] lives at keccak(pad(k4) ++ pad(1)); totalSupply at slot 0
    const slot = toHex(
      keccak_256(
        Buffer.from(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [k4.address, 1n]).slice(2), 'hex'),
      ),
    );
    const res = await rpc(engine, 'eth_getProof', [LOAD_TOKEN_ADDRESS, [slot, '0x0', '0x5'], 'latest']);
    const verified = verifyGetProofResponse(built.payload.stateRoot, decodeGetProofResponse(res), {
      address: LOAD_TOKEN_ADDRESS,
      storageKeys: [slot, 0n, 5n],
    });
    expect(verified.storage.map((s) => s.value)).toEqual([250n, 1000n, 0n]);
    expect(verified.account.exists).toBe(true);
    expect(BigInt(await rpc<string>(engine, 'eth_getStorageAt', [LOAD_TOKEN_ADDRESS, slot, 'latest']))).toBe(250n);
    await verifyBlockFully(engine, built.payload);
  });

  it('a peg-out request burns to 0x…dEaD and decodes with filterPegouts; a plain transfer to the bridge reverts', async () => {
    const k5 = keys[5]!;
    const deadBefore = await balance(engine, DEAD);
    const value = 3n * 10n ** 16n; // 3,000,000 sats
    const built = await build({
      transactions: [
        signTx(k5, { nonce: 0n, to: BRIDGE_ADDRESS, value, data: pegOut(BTC_ADDRESS), gasLimit: 100_000n }),
        signTx(k5, { nonce: 1n, to: BRIDGE_ADDRESS, value: 10n ** 16n, gasLimit: 100_000n }),
      ],
    });
    const [ok, refused] = built.receipts as [(typeof built.receipts)[0], (typeof built.receipts)[0]];
    expect(ok.status).toBe('success');
    expect(refused.status).toBe('reverted');
    expect(ok.logs).toHaveLength(1);
    expect(ok.logs[0]!.topics[0]).toBe(REQUEST_PEGOUT_TOPIC0);
    const outs = filterPegouts(built.receipts);
    expect(outs).toHaveLength(1);
    expect(outs[0]!.value).toBe(3_000_000n);
    expect(toHex(outs[0]!.scriptPubkey)).toBe('0x0014751e76e8199196d454941c45d1b3a323f1433bd6');
    // the bridge keeps nothing; 0x…dEaD got the burned value plus the block's tips
    expect(await balance(engine, BRIDGE_ADDRESS)).toBe(0n);
    expect((await balance(engine, DEAD)) - deadBefore).toBe(value + built.priorityFeesWei);
    // eth_call of a plain transfer: geth's revert error (code 3, reason, data)
    const err = await rpcError(engine, 'eth_call', [{ from: k5.address, to: BRIDGE_ADDRESS, value: '0x1' }, 'latest']);
    expect(err.code).toBe(3);
    expect(err.message).toBe('execution reverted: Bridge: plain transfers are refused, call requestPegOut(bytes)');
    expect(String(err.data).startsWith('0x08c379a0')).toBe(true);
    await verifyBlockFully(engine, built.payload);
  });

  it('takes transactions from the mempool in nonce order (highest tip first across senders) when none are given', async () => {
    const [k6, k7] = [keys[6]!, keys[7]!];
    const to = '0x00000000000000000000000000000000000000f1';
    const send = (b: Uint8Array) => engine.sendRawTransaction(b);
    // out of nonce order, and a gap that must wait
    const h1 = await send(signTx(k6, { nonce: 1n, to, value: 1n, maxPriorityFeePerGas: 5n }));
    const h0 = await send(signTx(k6, { nonce: 0n, to, value: 1n, maxPriorityFeePerGas: 5n }));
    const hGap = await send(signTx(k6, { nonce: 3n, to, value: 1n }));
    const hTip = await send(signTx(k7, { nonce: 0n, to, value: 1n, maxPriorityFeePerGas: 100n }));
    const pending = await rpc<Record<string, unknown>>(engine, 'eth_getTransactionByHash', [h0]);
    expect(pending['blockHash']).toBeNull();
    expect(await rpc(engine, 'eth_getTransactionCount', [k6.address, 'pending'])).toBe('0x2');
    expect(await rpc(engine, 'eth_getTransactionCount', [k6.address, 'latest'])).toBe('0x0');
    const built = await build();
    expect(built.receipts.map((r) => r.transactionHash)).toEqual([hTip, h0, h1]);
    expect(await rpc(engine, 'eth_getTransactionReceipt', [hGap])).toBeNull();
    // the gapped one is still pending; filling the gap releases it
    const h2 = await send(signTx(k6, { nonce: 2n, to, value: 1n }));
    const next = await build();
    expect(next.receipts.map((r) => r.transactionHash)).toEqual([h2, hGap]);
    await verifyBlockFully(engine, built.payload);
    await verifyBlockFully(engine, next.payload);
  });

  it('refuses bad transactions at the pool with geth wording', async () => {
    const k6 = keys[6]!;
    const to = '0x00000000000000000000000000000000000000f2';
    const err = (raw: Uint8Array) =>
      rpcError(engine, 'eth_sendRawTransaction', [`0x${Buffer.from(raw).toString('hex')}`]);
    expect((await err(signTx(k6, { nonce: 0n, to, value: 1n }))).message).toBe(
      `nonce too low: address ${k6.address}, tx: 0 state: 4`,
    );
    expect((await err(signTx(k6, { nonce: 4n, to, value: 1n, gasLimit: 20_000n }))).message).toBe(
      'intrinsic gas too low: gas 20000, minimum needed 21000',
    );
    expect((await err(signTx(k6, { nonce: 4n, to, value: 10n ** 30n }))).message).toMatch(
      /^insufficient funds for gas \* price \+ value: address 0x[0-9a-f]{40} have \d+ want \d+$/,
    );
    expect((await err(signTx(k6, { nonce: 4n, to, gasLimit: 40_000_000n }))).message).toBe('exceeds block gas limit');
    const first = signTx(k6, { nonce: 4n, to, value: 1n, maxPriorityFeePerGas: 100n });
    await engine.sendRawTransaction(first);
    expect((await err(first)).message).toBe('already known');
    expect((await err(signTx(k6, { nonce: 4n, to, value: 2n, maxPriorityFeePerGas: 105n }))).message).toBe(
      'replacement transaction underpriced',
    );
    // a 10% bump on both caps replaces it
    const replacement = signTx(k6, {
      nonce: 4n,
      to,
      value: 3n,
      maxPriorityFeePerGas: 110n,
      maxFeePerGas: 2_200_000_000n,
    });
    const h = await engine.sendRawTransaction(replacement);
    const built = await build();
    expect(built.receipts.map((r) => r.transactionHash)).toEqual([h]);
    // other chain ids, unprotected legacy and blob/7702 types are refused; garbage too
    const e1 = await rpcError(engine, 'eth_sendRawTransaction', ['0x03c0']);
    expect(e1).toEqual({ code: -32000, message: 'transaction type not supported' });
    expect((await rpcError(engine, 'eth_sendRawTransaction', ['0xc0'])).code).toBe(-32000);
    expect((await rpcError(engine, 'eth_sendRawTransaction', ['0x'])).code).toBe(-32000);
    await expect(engine.sendRawTransaction(new Uint8Array([0x02, 0x01]))).rejects.toBeInstanceOf(EngineError);
  });

  it('refuses payload attributes that do not fit the head, and an invalid explicit transaction, without changing anything', async () => {
    const head = engine.headHash();
    const balanceBefore = await balance(engine, keys[0]!.address);
    await expect(engine.buildPayload(attrs(ZERO32, last().timestamp + 1n))).rejects.toThrow(/is not the engine's head/);
    await expect(engine.buildPayload(attrs(head, last().timestamp))).rejects.toThrow(/timestamp/);
    const tooMany = Array.from({ length: 17 }, () => ({ index: 0n, validatorIndex: 0n, address: DEAD, amount: 1n }));
    await expect(engine.buildPayload(attrs(head, last().timestamp + 1n, { withdrawals: tooMany }))).rejects.toThrow(
      /at most 16/,
    );
    const good = signTx(keys[0]!, { nonce: 1n, to: DEAD, value: 5n });
    const stale = signTx(keys[0]!, { nonce: 0n, to: DEAD, value: 5n });
    await expect(
      engine.buildPayload(attrs(head, last().timestamp + 1n, { transactions: [good, stale] })),
    ).rejects.toThrow(/transactions\[1\] is invalid in block \d+: nonce too low/);
    expect(engine.headHash()).toBe(head);
    expect(await balance(engine, keys[0]!.address)).toBe(balanceBefore);
    await expect(engine.buildPayload(null as never)).rejects.toBeInstanceOf(EngineError);
  });

  it('every payload hash verifies with src/protocol and the chain links up', () => {
    for (let i = 1; i < payloads.length; i++) {
      expect(computePayloadBlockHash(payloads[i]!)).toBe(payloads[i]!.blockHash);
      expect(payloads[i]!.parentHash).toBe(payloads[i - 1]!.blockHash);
      expect(payloads[i]!.blockNumber).toBe(BigInt(i));
    }
    expect(toHex(EMPTY_OMMERS_HASH)).toBe('0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347');
  });

  it('safe/finalized follow setFinalized; before it they are unknown', async () => {
    const fresh = await createEngine();
    expect((await rpcError(fresh, 'eth_getBlockByNumber', ['finalized', false])).code).toBe(-39001);
    engine.setFinalized(payloads[2]!.blockHash);
    expect((await rpc<Record<string, unknown>>(engine, 'eth_getBlockByNumber', ['finalized', false]))['hash']).toBe(
      payloads[2]!.blockHash,
    );
    expect((await rpc<Record<string, unknown>>(engine, 'eth_getBlockByNumber', ['safe', false]))['number']).toBe('0x2');
    expect(() => engine.setFinalized(payloads[1]!.blockHash)).toThrow(EngineError);
    expect(() => engine.setFinalized(ZERO32)).toThrow(EngineError);
  });
});

describe('engine: state history', () => {
  it('keeps the last historyBlocks states, proves them, and answers older block tags with a clear error', async () => {
    const keys = devKeys(2, 9);
    const engine = await createEngine({ alloc: prefund(keys), historyBlocks: 4 });
    const payloads = [engine.genesisPayload()];
    const who = '0x00000000000000000000000000000000000000ab';
    for (let n = 1; n <= 300; n++) {
      const p = payloads[n - 1]!;
      const built = await engine.buildPayload(
        attrs(p.blockHash, p.timestamp + 1n, {
          withdrawals: [{ index: 0n, validatorIndex: 0n, address: who, amount: BigInt(n) }],
        }),
      );
      payloads.push(built.payload);
    }
    // block 300: sum 1..300 Gwei; each of the 4 previous blocks still answers with its own value and proof
    for (let n = 296; n <= 300; n++) {
      const expected = ((BigInt(n) * BigInt(n + 1)) / 2n) * 10n ** 9n;
      expect(await balance(engine, who, `0x${n.toString(16)}`)).toBe(expected);
      const proof = decodeGetProofResponse(
        await rpc(engine, 'eth_getProof', [who, [], { blockHash: payloads[n]!.blockHash }]),
      );
      expect(verifyGetProofResponse(payloads[n]!.stateRoot, proof).account.balance).toBe(expected);
    }
    const err = await rpcError(engine, 'eth_getBalance', [who, '0x10']);
    expect(err.code).toBe(-32000);
    expect(err.message).toMatch(
      /historical state 0x[0-9a-f]{64} is not available: block 16 is older than the 4 most recent blocks/,
    );
    expect((await rpcError(engine, 'eth_getProof', [who, [], 'earliest'])).message).toMatch(/not available/);
    expect((await rpcError(engine, 'eth_call', [{ to: who }, '0x1'])).message).toMatch(/not available/);
    // blocks themselves are kept for the whole chain
    expect((await rpc<Record<string, unknown>>(engine, 'eth_getBlockByNumber', ['0x10', false]))['hash']).toBe(
      payloads[16]!.blockHash,
    );
    // pruning ran (every 256 blocks) and removed the old nodes
    expect(engine.stats().gcRuns).toBe(1);
    expect(engine.stats().stateNodes).toBeLessThan(300 * 8);
  });
});
