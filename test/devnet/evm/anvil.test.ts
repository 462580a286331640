/**
 * The same signed transactions on anvil (foundry 1.7.1, an EVM nobody here wrote) and on our engine,
 * one transaction per block on both sides so block numbers, base fees and cumulative gas line up; the
 * JSON-RPC answers must agree where the two overlap.
 *
 * Documented differences (justified, asserted below so a change is noticed):
 * - receipts and transactions: anvil adds `blockTimestamp` (a foundry extension; geth has none on
 *   receipts/transactions) and `blobGasPrice` on every receipt (geth only sends it for blob
 *   transactions, which Alys's Shanghai EL does not have). Block hashes differ (different genesis).
 * - blocks: same fields; totalDifficulty is the genesis difficulty on our side (0x20000, Alys-style
 *   genesis) and 0 on anvil's; anvil draws a random mixHash (prevRandao), Alys uses zero; stateRoot,
 *   hashes, timestamps, extraData and size differ (different genesis and clock). Receipts roots,
 *   blooms, transactions roots, gas and base fees agree.
 * - eth_getProof: account proofs differ (different state tries: anvil's genesis is not ours); for an
 *   absent account anvil reports keccak("") / the empty-trie root as codeHash / storageHash, geth (and
 *   we) report zero hashes; storage keys are echoed as given (geth) while anvil pads them to 32 bytes,
 *   so the comparison uses 32-byte keys. Storage proofs of the same contract storage are identical.
 * - eth_estimateGas: anvil and we search for the exact minimum (geth stops within 1.5%); the values
 *   are compared exactly.
 * - coinbase: anvil is told to use Alys's 0x…dEaD, which is warm in every transaction (EIP-3651) and
 *   exists from block 1 on; with another coinbase a peg-out's CALL to 0x…dEaD costs 27,500 gas more.
 * - revert messages: the code (3) and the data agree; anvil words the message differently.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAbiParameters, type Hex } from 'viem';
import { BRIDGE_ARTIFACT, LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { createEngine, type DevnetEngine } from '../../../src/devnet/evm/index.js';
import { BRIDGE_ADDRESS, decodeGetProofResponse, toHex, verifyGetProofResponse } from '../../../src/protocol/index.js';
import { startAnvil, type Anvil } from './anvil.js';
import { DEAD, attrs, devKeys, pegOut, signTx, tokenMint, tokenTransfer } from './helpers.js';
import { rpc, rpcError } from './rpc-client.js';

const keys = devKeys(3, 31);
const [k0, k1] = [keys[0]!, keys[1]!];
const FUNDS = 1000n * 10n ** 18n;
const hexOf = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}` as Hex;
/** LoadToken deployed by k0 with nonce 1 (the same address on both chains). */
const TOKEN = toHex(keccak_256(Buffer.from(`d694${k0.address.slice(2)}01`, 'hex')).slice(12));

function without<T extends Record<string, unknown>>(o: T, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

function normaliseReceipt(r: Record<string, unknown>): Record<string, unknown> {
  const logs = (r['logs'] as Record<string, unknown>[]).map((l) => without(l, ['blockHash', 'blockTimestamp']));
  return { ...without(r, ['blockHash', 'blockTimestamp', 'blobGasPrice']), logs };
}

describe.skipIf(process.platform !== 'linux' || process.arch !== 'x64')('engine vs anvil', () => {
  let anvil: Anvil;
  let engine: DevnetEngine;
  const hashes: Hex[] = [];

  beforeAll(async () => {
    engine = await createEngine({ alloc: { [k0.address]: { balance: FUNDS }, [k1.address]: { balance: FUNDS } } });
    // anvil's configured base fee applies to its first block; ours is block 1's (genesis 1 gwei * 7/8)
    const block1BaseFee = (engine.genesisPayload().baseFeePerGas * 7n) / 8n;
    anvil = await startAnvil({
      chainId: engine.chainId,
      baseFee: block1BaseFee,
      gasLimit: engine.genesisPayload().gasLimit,
    });
    for (const k of [k0, k1]) await anvil.rpc('anvil_setBalance', [k.address, `0x${FUNDS.toString(16)}`]);
    await anvil.rpc('anvil_setCode', [BRIDGE_ADDRESS, BRIDGE_ARTIFACT.deployedBytecode]);
    // Alys's fee recipient: it exists from block 1 on (tips) and is warm in every transaction (EIP-3651),
    // which changes the gas of a peg-out (its CALL to 0x…dEaD): same coinbase on both chains.
    await anvil.rpc('anvil_setCoinbase', [DEAD]);

    const txs = [
      signTx(k0, { nonce: 0n, to: k1.address, value: 12345n }, 2), // transfer
      signTx(k0, { nonce: 1n, data: LOAD_TOKEN_ARTIFACT.bytecode as Hex, gasLimit: 600_000n }, 0), // deploy (legacy)
      signTx(k0, { nonce: 2n, to: TOKEN, data: tokenMint(k0.address, 10n ** 20n), gasLimit: 120_000n }, 1), // call with logs (2930)
      signTx(k1, { nonce: 0n, to: TOKEN, data: tokenTransfer(k0.address, 1n), gasLimit: 120_000n }, 2), // reverts
      signTx(
        k0,
        {
          nonce: 3n,
          to: BRIDGE_ADDRESS,
          value: 2n * 10n ** 16n,
          data: pegOut('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'),
          gasLimit: 120_000n,
        },
        2,
      ),
      signTx(k1, { nonce: 1n, to: BRIDGE_ADDRESS, value: 1n, gasLimit: 100_000n }, 0), // plain transfer to the bridge: reverts
    ];
    let parent = engine.genesisPayload();
    for (const tx of txs) {
      hashes.push(await anvil.rpc<Hex>('eth_sendRawTransaction', [hexOf(tx)]));
      parent = (await engine.buildPayload(attrs(parent.blockHash, parent.timestamp + 1n, { transactions: [tx] })))
        .payload;
    }
  }, 60_000);

  afterAll(async () => {
    await anvil?.stop();
  });

  it('receipts agree: status, gasUsed, cumulativeGasUsed, logs, logsBloom, effectiveGasPrice, type, contractAddress', async () => {
    const statuses: string[] = [];
    for (const h of hashes) {
      const theirs = await anvil.rpc<Record<string, unknown>>('eth_getTransactionReceipt', [h]);
      const ours = await rpc<Record<string, unknown>>(engine, 'eth_getTransactionReceipt', [h]);
      expect(
        Object.keys(theirs)
          .filter((k) => !(k in ours))
          .sort(),
      ).toEqual(['blobGasPrice', 'blockTimestamp']);
      expect(Object.keys(ours).filter((k) => !(k in theirs))).toEqual([]);
      expect(normaliseReceipt(ours)).toEqual(normaliseReceipt(theirs));
      statuses.push(String(ours['status']));
    }
    expect(statuses).toEqual(['0x1', '0x1', '0x1', '0x0', '0x1', '0x0']);
    const deploy = await rpc<Record<string, unknown>>(engine, 'eth_getTransactionReceipt', [hashes[1]]);
    expect(deploy['contractAddress']).toBe(TOKEN);
  });

  it('blocks have the same fields in the same encodings (hashes differ: different genesis)', async () => {
    for (const [tag, full] of [
      ['0x1', false],
      ['0x3', true],
      ['latest', true],
    ] as const) {
      const theirs = await anvil.rpc<Record<string, unknown>>('eth_getBlockByNumber', [tag, full]);
      const ours = await rpc<Record<string, unknown>>(engine, 'eth_getBlockByNumber', [tag, full]);
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      for (const k of [
        'number',
        'gasLimit',
        'gasUsed',
        'baseFeePerGas',
        'difficulty',
        'nonce',
        'sha3Uncles',
        'uncles',
        'withdrawals',
        'withdrawalsRoot',
        'receiptsRoot',
        'logsBloom',
        'transactionsRoot',
        'miner',
      ])
        expect({ k, v: ours[k] }).toEqual({ k, v: theirs[k] });
      const strip = (txs: unknown) =>
        (txs as Record<string, unknown>[]).map((t) =>
          typeof t === 'string' ? t : without(t, ['blockHash', 'blockTimestamp']),
        );
      expect(strip(ours['transactions'])).toEqual(strip(theirs['transactions']));
    }
  });

  it('eth_getTransactionByHash agrees field by field (all three transaction types)', async () => {
    for (const h of hashes) {
      const theirs = await anvil.rpc<Record<string, unknown>>('eth_getTransactionByHash', [h]);
      const ours = await rpc<Record<string, unknown>>(engine, 'eth_getTransactionByHash', [h]);
      expect(without(ours, ['blockHash'])).toEqual(without(theirs, ['blockHash', 'blockTimestamp']));
    }
  });

  it('eth_getProof: same fields and encodings; identical storage proofs; each verifies against its own state root', async () => {
    const slot0 = `0x${'00'.repeat(32)}` as Hex;
    const balanceSlot = toHex(
      keccak_256(
        Buffer.from(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [k0.address, 1n]).slice(2), 'hex'),
      ),
    );
    const absentSlot = `0x${'00'.repeat(31)}07` as Hex;
    const anvilRoot = (await anvil.rpc<Record<string, Hex>>('eth_getBlockByNumber', ['latest', false]))['stateRoot']!;
    const ourRoot = (await rpc<Record<string, Hex>>(engine, 'eth_getBlockByNumber', ['latest', false]))['stateRoot']!;
    for (const [address, slots] of [
      [TOKEN, [slot0, balanceSlot, absentSlot]],
      [k1.address, []],
      [DEAD, []],
    ] as const) {
      const theirs = await anvil.rpc<Record<string, unknown>>('eth_getProof', [address, slots, 'latest']);
      const ours = await rpc<Record<string, unknown>>(engine, 'eth_getProof', [address, slots, 'latest']);
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      expect(without(ours, ['accountProof'])).toEqual(without(theirs, ['accountProof']));
      verifyGetProofResponse(anvilRoot, decodeGetProofResponse(theirs), { address, storageKeys: [...slots] });
      const v = verifyGetProofResponse(ourRoot, decodeGetProofResponse(ours), { address, storageKeys: [...slots] });
      if (address === TOKEN) expect(v.storage.map((s) => s.value)).toEqual([10n ** 20n, 10n ** 20n, 0n]);
    }
    // absent account: anvil gives the empty code hash / trie root, geth and we give zero hashes
    const absent = '0x00000000000000000000000000000000000abcde';
    const theirs = await anvil.rpc<Record<string, unknown>>('eth_getProof', [absent, [], 'latest']);
    const ours = await rpc<Record<string, unknown>>(engine, 'eth_getProof', [absent, [], 'latest']);
    expect(theirs['codeHash']).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(ours['codeHash']).toBe(`0x${'00'.repeat(32)}`);
    expect(without(ours, ['accountProof', 'codeHash', 'storageHash'])).toEqual(
      without(theirs, ['accountProof', 'codeHash', 'storageHash']),
    );
    expect(verifyGetProofResponse(ourRoot, decodeGetProofResponse(ours)).account.exists).toBe(false);
  });

  it('eth_estimateGas agrees', async () => {
    const calls: Record<string, unknown>[] = [
      { from: k0.address, to: k1.address, value: '0x1' },
      { from: k0.address, to: '0x00000000000000000000000000000000000f1e57', value: '0x1' },
      { from: k0.address, to: TOKEN, data: tokenMint(k1.address, 5n) },
      { from: k0.address, to: TOKEN, data: tokenTransfer(k1.address, 5n) },
      {
        from: k1.address,
        to: BRIDGE_ADDRESS,
        value: '0x2386f26fc10000',
        data: pegOut('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'),
      },
      { from: k1.address, data: LOAD_TOKEN_ARTIFACT.bytecode },
      {
        from: k1.address,
        to: TOKEN,
        data: tokenMint(k1.address, 5n),
        maxFeePerGas: '0x77359400',
        maxPriorityFeePerGas: '0x1',
      },
    ];
    for (const call of calls) {
      const theirs = await anvil.rpc<string>('eth_estimateGas', [call, 'latest']);
      const ours = await rpc<string>(engine, 'eth_estimateGas', [call, 'latest']);
      expect({ call, gas: BigInt(ours) }).toEqual({ call, gas: BigInt(theirs) });
    }
  });

  it('eth_call: return data agrees; a revert is code 3 with the same revert data on both', async () => {
    const balanceOf = `0x70a08231${k0.address.slice(2).padStart(64, '0')}`;
    expect(await rpc(engine, 'eth_call', [{ to: TOKEN, data: balanceOf }, 'latest'])).toBe(
      await anvil.rpc('eth_call', [{ to: TOKEN, data: balanceOf }, 'latest']),
    );
    for (const call of [
      { from: k1.address, to: BRIDGE_ADDRESS, value: '0x1' },
      { from: k1.address, to: TOKEN, data: tokenTransfer(k0.address, 1n) },
    ]) {
      const theirs = (await anvil.raw('eth_call', [call, 'latest'])).error!;
      const ours = await rpcError(engine, 'eth_call', [call, 'latest']);
      expect(ours.code).toBe(3);
      expect(theirs.code).toBe(3);
      expect(ours.data).toBe(theirs.data);
      expect(ours.message.startsWith('execution reverted')).toBe(true);
    }
  });
});
