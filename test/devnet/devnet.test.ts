/**
 * The devnet end to end, through its real servers: every block it serves verifies with
 * src/protocol (imported in order by the ChainVerifier: signing root, approvals, payload hash,
 * AuxPoW, retarget, finality), its EL state proofs verify against the payload state roots, and
 * peg-ins and peg-outs complete on both chains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  type Hex as ViemHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createWallet } from '../../src/devnet/bitcoin/index.js';
import { BRIDGE_ARTIFACT } from '../../src/devnet/contracts/artifacts.js';
import { createDevnet, type Devnet } from '../../src/devnet/devnet.js';
import {
  ChainVerifier,
  decodeGetProofResponse,
  decodeSignedBlockJson,
  genesisBlock,
  nobleBackend,
  parseChainSpecJson,
  prepareAuthorities,
  signingRoot,
  toHex,
  verifyGetProofResponse,
  type SignedConsensusBlock,
} from '../../src/protocol/index.js';
import { readFileSync } from 'node:fs';

let devnet: Devnet;

async function rpc(method: string, params: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(devnet.urls.consensus, { method: 'POST', body: JSON.stringify({ method, params, id: 7 }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function blockAt(height: number): Promise<SignedConsensusBlock> {
  const r = await rpc('getblockbyheight', height);
  expect(r.status).toBe(200);
  return decodeSignedBlockJson(r.body.result);
}

beforeAll(async () => {
  devnet = await createDevnet({ seed: 'devnet-e2e', consensusPort: 0, evmPort: 0, esploraPort: 0 });
});
afterAll(async () => {
  await devnet?.stop();
});

describe('devnet end to end', () => {
  it('produces blocks with transactions, peg-ins, peg-outs and PoW; every served block verifies in order', async () => {
    const user = devnet.users[1]!;
    const account = privateKeyToAccount(user.privateKey);
    const evm = createPublicClient({ transport: http(devnet.urls.evm) });
    const chain = defineChain({
      id: devnet.spec.chainId,
      name: 'alys-devnet',
      nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
      rpcUrls: { default: { http: [devnet.urls.evm] } },
    });
    const wallet = createWalletClient({ account, chain, transport: http(devnet.urls.evm) });

    // a transfer and a peg-in
    await wallet.sendTransaction({ to: devnet.users[2]!.address as ViemHex, value: 12345n });
    const btcUser = createWallet(devnet.bitcoin, 'e2e-btc-user');
    devnet.faucet.fund(btcUser.address, 200_000_000n);
    btcUser.pegIn(user.address, 60_000_000n, devnet.depositAddress);
    devnet.mineBitcoin(devnet.spec.requiredBtcTxnConfirmations);
    const balanceBefore = await evm.getBalance({ address: user.address as ViemHex, blockNumber: 0n });
    for (let i = 0; i < 3; i++) await devnet.produceNext();

    // a peg-out request, its proposal, then a PoW block finalizing it
    const btcDest = createWallet(devnet.bitcoin, 'e2e-btc-dest');
    await wallet.sendTransaction({
      to: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB',
      value: 5_000_000n * 10_000_000_000n,
      data: encodeFunctionData({
        abi: BRIDGE_ARTIFACT.abi,
        functionName: 'requestPegOut',
        args: [toHex(new TextEncoder().encode(btcDest.address))],
      }),
    });
    for (let i = 0; i < 3; i++) await devnet.produceNext();
    expect(await devnet.mineAuxPow()).toBe('submitted');
    const queued = await rpc('getqueuedpow', []);
    expect(queued.body.result).not.toBeNull();
    for (let i = 0; i < 2; i++) await devnet.produceNext();
    devnet.mineBitcoin(1);
    expect(btcDest.balance()).toBeGreaterThan(4_990_000n);
    expect(btcDest.balance()).toBeLessThan(5_000_000n); // the fee share comes off the peg-out

    // the whole chain, from the consensus RPC, through the light-client import
    const spec = parseChainSpecJson(readFileSync(devnet.specFile, 'utf8'));
    const genesis = await blockAt(0);
    expect(toHex(signingRoot(genesis.message))).toBe(
      toHex(signingRoot(genesisBlock(spec, genesis.message.executionPayload).message)),
    );
    const verifier = new ChainVerifier(
      { spec, authorities: prepareAuthorities(spec.authorities, nobleBackend), backend: nobleBackend },
      genesis,
    );
    const head = (await rpc('getheadblock', [])).body.result;
    const headNumber = Number(head.message.execution_payload.block_number);
    expect(headNumber).toBe(devnet.chain.height);
    let pegins = 0,
      pow = 0,
      proposals = 0,
      finalizedPegouts = 0,
      txs = 0;
    for (let h = 1; h <= headNumber; h++) {
      const b = await blockAt(h);
      const out = verifier.import(b);
      expect(out.block.number).toBe(h);
      pegins += b.message.pegins.length;
      pow += b.message.auxpowHeader ? 1 : 0;
      proposals += b.message.pegoutPaymentProposal ? 1 : 0;
      finalizedPegouts += b.message.finalizedPegouts.length;
      txs += b.message.executionPayload.transactions.length;
      // the EL agrees: the payload hash is the EL's own block hash
      const el = await evm.getBlock({ blockNumber: BigInt(h) });
      expect(el.hash).toBe(b.message.executionPayload.blockHash);
    }
    expect({ pegins, pow, proposals, finalizedPegouts }).toEqual({
      pegins: 1,
      pow: 1,
      proposals: 1,
      finalizedPegouts: 1,
    });
    expect(txs).toBe(2);
    expect(verifier.finalizedThrough).toBeGreaterThan(0);

    // minted: 0.6 BTC = 0.6e18 wei (minus what the user spent on gas and the peg-out)
    const minted = 60_000_000n * 10_000_000_000n;
    const balanceNow = await evm.getBalance({ address: user.address as ViemHex });
    expect(balanceNow - balanceBefore + 12345n + 5_000_000n * 10_000_000_000n).toBeLessThanOrEqual(minted);
    expect(balanceNow - balanceBefore + 12345n + 5_000_000n * 10_000_000_000n).toBeGreaterThan(minted - 10n ** 15n);

    // state proofs of the head verify against its payload state root
    const headBlock = await blockAt(headNumber);
    const proof = await evm.request({
      method: 'eth_getProof',
      params: [user.address as ViemHex, [], `0x${headNumber.toString(16)}`],
    });
    const verified = verifyGetProofResponse(
      headBlock.message.executionPayload.stateRoot,
      decodeGetProofResponse(proof),
    );
    expect(verified.account.balance).toBe(balanceNow);
  });

  it('answers the consensus RPC with Alys shapes and error codes', async () => {
    expect((await rpc('getblockbyheight', 10_000)).body).toEqual({ result: null, error: null, id: 7 });
    expect((await rpc('getblockbyheight', '1')).status).toBe(400);
    expect((await rpc('getblockbyheight', '1')).body.error.code).toBe(-32605);
    expect((await rpc('nope', [])).status).toBe(404);
    expect((await rpc('nope', [])).body.error.code).toBe(-32601);
    const noParams = await fetch(devnet.urls.consensus, {
      method: 'POST',
      body: JSON.stringify({ method: 'getheadblock', id: 1 }),
    });
    expect(noParams.status).toBe(200);
    expect(await noParams.json()).toEqual({ result: null, error: { code: -32600, message: 'Invalid Request' }, id: 1 });
    expect((await fetch(devnet.urls.consensus)).status).toBe(405);
    expect((await rpc('getblockbyhash', 5)).body.error.code).toBe(-32602);
    const byHash = await rpc('getblockbyhash', devnet.chain.at(1)!.hash.slice(2));
    expect(toHex(signingRoot(decodeSignedBlockJson(byHash.body.result).message))).toBe(devnet.chain.at(1)!.hash);
    expect((await rpc('getdepositaddress', [])).body.result).toBe(devnet.depositAddress);
    expect((await rpc('createauxblock', ['nope'])).status).toBe(400);
    // a malformed submitauxblock: decode error 400 / -32605
    const bad = await rpc('submitauxblock', ['00'.repeat(32), 'zz']);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe(-32605);
    // not JSON: Alys aborts the request without a JSON-RPC body
    await expect(
      fetch(devnet.urls.consensus, { method: 'POST', body: '{not json' }).then((r) => r.text()),
    ).rejects.toThrow();
  });
});
