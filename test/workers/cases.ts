/**
 * The inputs the edge Worker's tests send, built on the Node side (test/workers/setup.ts hands them to
 * workerd through vitest's `provide`): per verify kind a valid input and mutated ones, from the shared
 * vectors (read here at test time, never copied into the repository) or generated. Each case carries
 * what `alys-light verify <kind> - --chain dev` answers for it (`runVerify`, the CLI's own function), so
 * the Worker's answer can be compared with the CLI's line field by field.
 */
import { runVerify } from '../../src/cli/verify.js';
import { buildAuxPow } from '../../src/devnet/miner.js';
import { encodeAuxPow } from '../../src/protocol/auxpow/codec.js';
import { createFederationFromSpec, encodeSignedBlockJson, getChainSpec, toHex } from '../../src/protocol/index.js';
import { devBlock } from '../helpers/dev-block.js';
import { peginTx } from '../helpers/pegin.js';
import { loadVectors, vectorsAvailable, vectorsDir } from '../helpers/vectors.js';

export interface EdgeCase {
  name: string;
  kind: string;
  /** The request body: JSON.stringify of the input. */
  body: string;
  /** For a mutated input: the check the Worker must name (422). */
  check?: string;
  /** What the CLI prints for the same input with `--chain dev`, and its exit code. */
  cli: { line: Record<string, unknown>; exitCode: 0 | 1 | 2 };
}

export interface EdgeCases {
  cases: EdgeCase[];
  /** Why the vector cases are missing, if they are. */
  vectorsMissing?: string;
}

type Draft = Omit<EdgeCase, 'body' | 'cli'> & { input: unknown };

const DEV = getChainSpec('dev');

function generated(): Draft[] {
  const block = encodeSignedBlockJson(devBlock()) as any;
  const resigned = structuredClone(block);
  resigned.message.slot += 1;
  const fed = createFederationFromSpec(DEV);
  const pegin = (scriptPubkey: Uint8Array) => toHex(peginTx(scriptPubkey));
  const auxHash = toHex(new Uint8Array(32).fill(0x5a));
  const auxpow = toHex(
    encodeAuxPow(
      buildAuxPow(
        { hash: auxHash, chainId: DEV.chainId, bits: DEV.bits, previousBlockHash: auxHash, coinbaseValue: 0 } as never,
        { seed: 'edge', parentTxs: 3, parentVersion: 0x20000000, time: 1_700_000_000, height: 100 },
      ),
    ),
  );
  return [
    { name: 'block: a DEV block signed by its authority', kind: 'block', input: block },
    { name: 'block: a changed slot', kind: 'block', input: resigned, check: 'approvals.signature' },
    { name: 'pegin: a peg-in to the DEV federation', kind: 'pegin', input: { tx: pegin(fed.scriptPubkey) } },
    {
      name: 'pegin: the output pays another script',
      kind: 'pegin',
      input: { tx: pegin(Uint8Array.from([0x00, 0x14, ...new Uint8Array(20).fill(1)])) },
      check: 'pegin.not-a-pegin',
    },
    { name: 'auxpow: merged-mined for the DEV chain', kind: 'auxpow', input: { auxpow, auxHash, bits: DEV.bits } },
    {
      name: 'auxpow: committing to another hash',
      kind: 'auxpow',
      input: { auxpow, auxHash: toHex(new Uint8Array(32).fill(0x5b)), bits: DEV.bits },
      check: 'auxpow.coinbase-outputs',
    },
  ];
}

function fromVectors(): Draft[] {
  const drafts: Draft[] = [];
  const bls = loadVectors('bls-eth2.json').fast_aggregate_verify as { case: string; input: unknown; output: boolean }[];
  for (const c of bls)
    drafts.push({
      name: `bls: ${c.case}`,
      kind: 'bls',
      input: c.input,
      ...(c.output ? {} : { check: 'bls.signature' }),
    });
  const nmc = loadVectors('namecoin-auxpow.json').vectors.find((x: any) => x.network === 'namecoin-mainnet');
  drafts.push({
    name: 'auxpow: a Namecoin AuxPoW (chain id 1) on the DEV chain',
    kind: 'auxpow',
    input: {
      auxpow: nmc.auxpow_hex,
      auxHash: nmc.block_hash.match(/../g).reverse().join(''),
      chainId: Number(nmc.aux_chain_id),
      variant: 'script-sig',
    },
    check: 'auxpow.chain-id',
  });
  const ethBlock = loadVectors('eth-capella-blocks.json').blocks.find((b: any) => b.eth_getBlockByNumber_result);
  const goodBlock = {
    ...ethBlock.eth_getBlockByNumber_result,
    ...(ethBlock.raw_transactions ? { rawTransactions: ethBlock.raw_transactions } : {}),
  };
  drafts.push({ name: `eth-block: ${ethBlock.name}`, kind: 'eth-block', input: goodBlock });
  drafts.push({
    name: 'eth-block: gasUsed changed',
    kind: 'eth-block',
    input: { ...ethBlock.eth_getBlockByNumber_result, gasUsed: '0x1' },
    check: 'rpc-block.hash',
  });
  const proofs = loadVectors('eth-getproof.json');
  const base = proofs.cases.find((x: any) => x.name === proofs.negative_cases[0].base);
  drafts.push({
    name: `eth-proof: ${base.name}`,
    kind: 'eth-proof',
    input: { stateRoot: base.state_root, proof: base.result },
  });
  const lying = { ...base.result, balance: `0x${(BigInt(base.result.balance) + 1n).toString(16)}` };
  drafts.push({
    name: 'eth-proof: balance + 1 wei',
    kind: 'eth-proof',
    input: { stateRoot: base.state_root, proof: lying },
    check: 'getproof.balance',
  });
  const span = loadVectors('bitcoin-headers.json').retarget_span;
  const headers: string[] = span.headers.slice(0, 2017);
  drafts.push({
    name: 'btc-headers: 2017 headers across a retarget',
    kind: 'btc-headers',
    input: { network: 'mainnet', height: Number(span.start_height), headers },
  });
  const swapped = [...headers];
  [swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!];
  drafts.push({
    name: 'btc-headers: two headers swapped',
    kind: 'btc-headers',
    input: { network: 'mainnet', height: Number(span.start_height), headers: swapped },
    check: 'bitcoin.header.prev-hash',
  });
  const m = loadVectors('bitcoin-merkle.json');
  drafts.push({
    name: 'btc-merkle: a gettxoutproof',
    kind: 'btc-merkle',
    input: { txoutproof: m.txoutproofs[0].proof_hex },
  });
  const b = m.block_830000;
  const tx = b.txs[1];
  const branch = { txid: tx.txid, branch: tx.merkle_branch, header: b.header_hex, totalTransactions: Number(b.nTx) };
  drafts.push({
    name: 'btc-merkle: an Electrum branch',
    kind: 'btc-merkle',
    input: { ...branch, index: Number(tx.index) },
  });
  drafts.push({
    name: 'btc-merkle: the branch at another index',
    kind: 'btc-merkle',
    input: { ...branch, index: Number(tx.index) + 2 },
    check: 'merkle.branch-root',
  });
  return drafts;
}

export async function buildEdgeCases(): Promise<EdgeCases> {
  const drafts = [...generated(), ...(vectorsAvailable ? fromVectors() : [])];
  const cases: EdgeCase[] = [];
  for (const { input, ...d } of drafts) {
    const body = JSON.stringify(input);
    const cli = await runVerify(d.kind, '-', { chain: 'dev', bls: 'noble', stdin: () => body });
    cases.push({ ...d, body, cli });
  }
  return vectorsAvailable ? { cases } : { cases, vectorsMissing: `no vectors at ${vectorsDir}; set ALYS_VECTORS` };
}
