/**
 * Proof bundles made by a real light node on a real devnet (test/node/bundle.test.ts verifies them in
 * Node; test/workers/setup.ts hands them to the edge Worker's suite inside workerd). Builds a chain
 * with a transfer, a token mint and PoW blocks, syncs a light node, asks it for bundles
 * (`alys_getProofBundle`) and for the same values through its verified provider, then derives the
 * tampered bundles, each with the check (or decode code) a verifier must name.
 */
import { concat, encodeFunctionData, type Hex as ViemHex, keccak256, pad } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createWalletClient, defineChain, http } from 'viem';
import { LOAD_TOKEN_ARTIFACT } from '../../src/devnet/contracts/artifacts.js';
import { deriveFederation } from '../../src/devnet/consensus/keys.js';
import { LOAD_TOKEN_ADDRESS } from '../../src/devnet/evm/index.js';
import {
  aggregateApprovals,
  chainSpecToJson,
  decodeSignedBlockJson,
  encodeSignedBlockJson,
  signApproval,
  signingRoot,
  specFingerprint,
} from '../../src/protocol/index.js';
import { Cleanup, growChain, startDevnet, startNode, waitSynced } from '../node/helpers.js';

export interface BundleCase {
  name: string;
  /** The bundle as JSON text. */
  text: string;
  /** Valid: what the node's verified provider answered for the same read. */
  expected?: Record<string, unknown>;
  /** Tampered: the check a verifier must name (VerificationError, HTTP 422) ... */
  check?: string;
  /** ... or the decode code (DecodeError, HTTP 400). */
  code?: string;
  /** Verify against `otherSpecJson` instead of the devnet's spec. */
  spec?: 'other';
}

export interface BundleCases {
  /** The devnet's chain spec as chain.json (the verifier's only trust root). */
  specJson: Record<string, unknown>;
  /** A spec of another chain (other authorities). */
  otherSpecJson: Record<string, unknown>;
  valid: BundleCase[];
  tampered: BundleCase[];
}

type Json = any;

const TOKEN = LOAD_TOKEN_ADDRESS as ViemHex;
const mappingSlot = (address: ViemHex, slot: bigint) =>
  keccak256(concat([pad(address), pad(`0x${slot.toString(16)}` as ViemHex)]));

function mutate(bundle: Json, name: string, change: (b: Json) => void, expect: { check?: string; code?: string }) {
  const b = structuredClone(bundle);
  change(b);
  return { name, text: JSON.stringify(b), ...expect };
}

/** Flip the low bit of the last byte of a hex string. */
const flip = (hex: string) => `${hex.slice(0, -1)}${(Number.parseInt(hex.slice(-1), 16) ^ 1).toString(16)}`;

export async function buildBundleCases(): Promise<BundleCases> {
  const cleanup = new Cleanup();
  try {
    const devnet = await startDevnet(cleanup, 'bundles');
    const chain = defineChain({
      id: devnet.spec.chainId,
      name: 'alys-devnet',
      nativeCurrency: { name: 'BTC', symbol: 'BTC', decimals: 18 },
      rpcUrls: { default: { http: [devnet.urls.evm] } },
    });
    const [alice, bob] = [devnet.users[0]!, devnet.users[1]!].map((u) => privateKeyToAccount(u.privateKey));
    const wallet = (acc: typeof alice) =>
      createWalletClient({ account: acc!, chain, transport: http(devnet.urls.evm) });
    await growChain(devnet, 2, 5);
    const transfer = await wallet(alice).sendTransaction({ to: bob!.address, value: 123_456_789n });
    const mint = await wallet(alice).sendTransaction({
      to: TOKEN,
      data: encodeFunctionData({ abi: LOAD_TOKEN_ARTIFACT.abi, functionName: 'mint', args: [bob!.address, 5_000n] }),
    });
    await devnet.produceNext(); // 3
    await growChain(devnet, 9, 5); // 4..12, PoW at 5 and 10

    const { node } = await startNode(cleanup, devnet, { mode: 'full' });
    await waitSynced(node, devnet);
    const rpc = (method: string, params: unknown[]) => node.provider.request({ method, params }) as Promise<Json>;
    const slot = mappingSlot(bob!.address, 1n);

    const balance = await rpc('alys_getProofBundle', ['account', alice!.address, [], 'latest']);
    const at = balance.block.message.execution_payload.block_number as number | string;
    const atHex = `0x${BigInt(at).toString(16)}`;
    const finalized = await rpc('alys_getProofBundle', ['account', bob!.address, [], 'finalized']);
    const finalizedBlock = await rpc('eth_getBlockByNumber', ['finalized', false]);
    const storage = await rpc('alys_getProofBundle', ['account', TOKEN, [slot], atHex]);
    const receipt = await rpc('alys_getProofBundle', ['receipt', mint]);
    const transferReceipt = await rpc('eth_getTransactionReceipt', [transfer]);
    const mintReceipt = await rpc('eth_getTransactionReceipt', [mint]);

    const valid: BundleCase[] = [
      {
        name: 'balance at latest',
        text: JSON.stringify(balance),
        expected: {
          block: BigInt(atHex).toString(),
          balance: BigInt(await rpc('eth_getBalance', [alice!.address, atHex])).toString(),
          nonce: BigInt(await rpc('eth_getTransactionCount', [alice!.address, atHex])).toString(),
        },
      },
      {
        name: 'balance at finalized, with its finality chain',
        text: JSON.stringify(finalized),
        expected: {
          block: BigInt(finalizedBlock.number).toString(),
          balance: BigInt(await rpc('eth_getBalance', [bob!.address, finalizedBlock.number])).toString(),
          finalized: true,
        },
      },
      {
        name: 'a storage slot (token balance of bob)',
        text: JSON.stringify(storage),
        expected: {
          block: BigInt(atHex).toString(),
          slot,
          value: BigInt(await rpc('eth_getStorageAt', [TOKEN, slot, atHex])).toString(),
        },
      },
      {
        name: 'a receipt (the mint)',
        text: JSON.stringify(receipt),
        expected: {
          transactionHash: mint,
          block: BigInt(mintReceipt.blockNumber).toString(),
          status: Number(mintReceipt.status),
          logs: mintReceipt.logs.length,
          transferInSameBlock: transferReceipt.blockNumber === mintReceipt.blockNumber,
        },
      },
    ];

    // a signature over this block's root by keys of another federation (not the spec's authorities)
    const outsiders = deriveFederation({ seed: 'not-the-federation', authorities: 3 });
    const root = signingRoot(decodeSignedBlockJson(balance.block).message);
    const forged = aggregateApprovals(outsiders.map((m) => signApproval(m.blsSecretKey, root, m.index)));
    const forgedBlock = encodeSignedBlockJson({ ...decodeSignedBlockJson(balance.block), signature: forged }) as Json;
    const parent = await rpc('alys_getProofBundle', [
      'account',
      alice!.address,
      [],
      `0x${(BigInt(at) - 1n).toString(16)}`,
    ]);
    const otherSpec = { ...devnet.spec, authorities: outsiders.map((m) => m.blsPublicKey) };

    const tampered: BundleCase[] = [
      mutate(
        balance,
        'wrong balance',
        (b) => (b.account.balance = `0x${(BigInt(b.account.balance) + 1n).toString(16)}`),
        {
          check: 'getproof.balance',
        },
      ),
      mutate(
        balance,
        'account proof node changed',
        (b) => (b.account.accountProof[0] = flip(b.account.accountProof[0])),
        {
          check: 'getproof.account-proof',
        },
      ),
      mutate(storage, 'wrong storage value', (b) => (b.account.storageProof[0].value = '0x1'), {
        check: 'getproof.storage-value',
      }),
      mutate(receipt, 'receipt proof node changed', (b) => (b.receipt.proof[0] = flip(b.receipt.proof[0])), {
        check: 'receipts.proof',
      }),
      mutate(balance, 'block signature of another block', (b) => (b.block.signature = parent.block.signature), {
        check: 'approvals.signature',
      }),
      mutate(balance, 'approvals from non-authorities', (b) => (b.block.signature = forgedBlock.signature), {
        check: 'approvals.signature',
      }),
      mutate(
        balance,
        'payload changed under the signature (state root)',
        (b) => (b.block.message.execution_payload.state_root = flip(b.block.message.execution_payload.state_root)),
        { check: 'approvals.signature' },
      ),
      mutate(balance, 'a block from another chain spec', (b) => (b.chain.spec = specFingerprint(otherSpec)), {
        check: 'bundle.chain-spec',
      }),
      mutate(finalized, 'finality chain cut short', (b) => b.finality.blocks.splice(-3), {
        check: 'bundle.not-finalized',
      }),
      mutate(balance, 'finality for another block', (b) => (b.finality = finalized.finality), {
        check: 'bundle.not-finalized',
      }),
      mutate(balance, 'version unknown', (b) => (b.version = 2), { code: 'bundle.version' }),
      mutate(balance, 'not a bundle', (b) => (b.kind = 'something-else'), { code: 'bundle.kind' }),
      mutate(
        storage,
        'too many storage slots',
        (b) => (b.account.storageProof = Array.from({ length: 65 }, () => b.account.storageProof[0])),
        { code: 'bundle.too-many' },
      ),
      mutate(balance, 'oversize (over 1 MiB)', (b) => (b.padding = 'x'.repeat(1024 * 1024)), {
        code: 'bundle.too-large',
      }),
    ];
    // the bundle with the other spec's fingerprint, checked against that spec: the approvals fail
    tampered.push({
      ...mutate(
        balance,
        'a block of this chain checked against another spec',
        (b) => (b.chain.spec = specFingerprint(otherSpec)),
        {},
      ),
      check: 'approvals.signature',
      name: 'checked against another chain spec (its fingerprint given): the approvals fail',
      spec: 'other',
    });
    return {
      specJson: chainSpecToJson(devnet.spec),
      otherSpecJson: chainSpecToJson(otherSpec),
      valid,
      tampered,
    };
  } finally {
    await cleanup.run();
  }
}
