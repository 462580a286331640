/**
 * Fast generation: a devnet chain built as fast as the machine allows, on the
 * devnet's virtual clock (one slot per block, a Bitcoin block every 3 slots, no waiting), entirely
 * deterministic from the seed (same seed and options -> the same block hashes, byte for byte).
 *
 * Per block: the load of load.ts (transfers, LoadToken calls, peg-out requests) signed with the
 * engine's native crypto; peg-ins made on the Bitcoin chain by load wallets (a real transaction to
 * the federation's taproot address with an OP_RETURN EVM address, confirmed by later Bitcoin blocks,
 * then minted by the federation); merged mining through the devnet's own createauxblock /
 * submitauxblock about every 10 blocks, which finalizes the peg-out proposals (the federation's
 * signed payouts are broadcast and mined on the Bitcoin chain).
 *
 * Everything goes through the devnet's own BlockProducer (the exact code `npm run devnet` runs).
 * What generation skips: the producer's self-check (`verifyBlockSelf` of each new block, ~2 ms),
 * because the generated chain is verified independently (the tests import all of it with the
 * ChainVerifier from the served JSON); pass `selfCheck: true` to keep it.
 */
import { createWallet, type BitcoinWallet } from '../bitcoin/index.js';
import { createDevnet, type Devnet } from '../devnet.js';
import { fromHex } from '../../protocol/bytes.js';
import { isValidUtf8 } from '../../protocol/bridge/pegin.js';
import { Rng, type LoadTally } from './load.js';
import { createPipeline } from './pipeline.js';

export interface GenerateOptions {
  /** Blocks to produce after genesis. */
  blocks: number;
  /** Everything derives from it. Default 'alys-devnet'. */
  seed?: string;
  /** Average EVM transactions per block (default 24). */
  txPerBlock?: number;
  /** Federation size (default 3). */
  authorities?: number;
  /** EVM users sending the load (default 64). */
  users?: number;
  /** Merged-mining PoW about every this many blocks (default 10; jittered by +-2). */
  powEvery?: number;
  /** A peg-in about every this many blocks (default 10). */
  peginEvery?: number;
  /** A peg-out request about every this many blocks (default 10). */
  pegoutEvery?: number;
  /** Keep the producer's per-block self-check (verifyBlockSelf). Default false. */
  selfCheck?: boolean;
  /** Sign on the main thread instead of a helper thread (same bytes, slower). Default false. */
  inline?: boolean;
  /** Percent of plain transfers in the load (the rest: token calls). Default 75. */
  transferPercent?: number;
  /** Where the devnet writes its chain spec (a temp directory by default). */
  dataDir?: string;
  /** Called every `progressEvery` blocks (default 1000). */
  onProgress?: (p: GenerateProgress) => void;
  progressEvery?: number;
}

export interface GenerateProgress {
  block: number;
  blocks: number;
  elapsedMs: number;
}

export interface GenerateStats extends LoadTally {
  blocks: number;
  /** Peg-ins minted (consensus blocks' `pegins`). */
  pegins: number;
  /** Blocks carrying an AuxPowHeader. */
  powBlocks: number;
  /** Peg-out payment proposals and finalized (signed) peg-outs. */
  pegoutProposals: number;
  finalizedPegouts: number;
  bitcoinHeight: number;
  elapsedMs: number;
  /** CPU time of the process (both threads), ms. */
  cpuMs: number;
  /** Setup (devnet, wallets, helper thread) before the first block, ms (included in elapsedMs). */
  setupMs: number;
  /** Time spent in each phase (ms): load signing, Bitcoin side, block production, merged mining. */
  phases: { load: number; bitcoin: number; produce: number; pow: number };
}

export interface GeneratedDevnet {
  devnet: Devnet;
  stats: GenerateStats;
  options: Required<Omit<GenerateOptions, 'onProgress' | 'dataDir'>>;
}

export class GenerateError extends Error {
  override name = 'GenerateError';
}

const BTC_EVERY = 3;
const LOAD_WALLETS = 4;
/** Bitcoin blocks whose coinbase pays the load wallets (then the default unspendable script). */
const FUNDING_BLOCKS = 200;

export async function generateDevnet(opts: GenerateOptions): Promise<GeneratedDevnet> {
  const o = {
    blocks: opts.blocks,
    seed: opts.seed ?? 'alys-devnet',
    txPerBlock: opts.txPerBlock ?? 24,
    authorities: opts.authorities ?? 3,
    users: opts.users ?? 64,
    powEvery: opts.powEvery ?? 10,
    peginEvery: opts.peginEvery ?? 10,
    pegoutEvery: opts.pegoutEvery ?? 10,
    selfCheck: opts.selfCheck ?? false,
    inline: opts.inline ?? false,
    transferPercent: opts.transferPercent ?? 75,
    progressEvery: opts.progressEvery ?? 1000,
  };
  if (!Number.isSafeInteger(o.blocks) || o.blocks < 1)
    throw new GenerateError(`blocks must be a positive integer, got ${o.blocks}`);
  if (o.powEvery < 3 || o.powEvery > 25)
    throw new GenerateError(`powEvery must be 3..25 (maxBlocksWithoutPow is 30), got ${o.powEvery}`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const devnet = await createDevnet({
    seed: o.seed,
    authorities: o.authorities,
    users: o.users,
    noServers: true,
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
  });
  devnet.producer.selfCheck = o.selfCheck;
  const rng = new Rng(`${o.seed}/schedule`);
  const chainId = BigInt(devnet.spec.chainId);
  const users = devnet.users.map((u) => ({ privateKey: fromHex(u.privateKey), address: fromHex(u.address) }));
  const wallets: BitcoinWallet[] = Array.from({ length: LOAD_WALLETS }, (_, i) =>
    createWallet(devnet.bitcoin, `${o.seed}/load-btc/${i}`),
  );
  const destinations = Array.from(
    { length: 4 },
    (_, i) => createWallet(devnet.bitcoin, `${o.seed}/pegout-dest/${i}`).address,
  );
  // peg-ins go to users whose 20 bytes are not UTF-8 text (Alys would not recognise the others)
  const peginTargets = devnet.users.filter((u) => !isValidUtf8(fromHex(u.address))).map((u) => u.address);
  if (peginTargets.length === 0) throw new GenerateError('no devnet user can receive peg-ins');

  // fund the load wallets from the faucet (mature coins), then let them mine for a while
  for (const w of wallets) devnet.faucet.send(w.address, 20_000_000_000n);
  let btcBlocks = 0;
  const mineBitcoin = (): void => {
    const w = btcBlocks < FUNDING_BLOCKS ? wallets[btcBlocks % LOAD_WALLETS]! : undefined;
    btcBlocks++;
    devnet.bitcoin.mine(1, w?.scriptPubkey);
  };
  mineBitcoin();

  const stats: GenerateStats = {
    blocks: 0,
    transactions: 0,
    transfers: 0,
    tokenCalls: 0,
    pegouts: 0,
    pegins: 0,
    powBlocks: 0,
    pegoutProposals: 0,
    finalizedPegouts: 0,
    bitcoinHeight: 0,
    elapsedMs: 0,
    cpuMs: 0,
    setupMs: 0,
    phases: { load: 0, bitcoin: 0, produce: 0, pow: 0 },
  };
  const pipeline = await createPipeline(
    {
      load: {
        seed: o.seed,
        chainId,
        users,
        txPerBlock: o.txPerBlock,
        pegoutAddresses: destinations,
        pegoutEvery: o.pegoutEvery,
        transferPercent: o.transferPercent,
      },
      members: devnet.members.map((m) => ({ index: m.index, blsSecretKey: m.blsSecretKey })),
    },
    { inline: o.inline },
  );
  const defaultApprove = devnet.producer.approve;
  devnet.producer.approve = pipeline.approve;
  stats.setupMs = performance.now() - t0;
  try {
    await produceAll();
    await pipeline.drain();
  } finally {
    devnet.producer.approve = defaultApprove;
    await pipeline.close();
  }
  stats.blocks = o.blocks;
  stats.bitcoinHeight = devnet.bitcoin.tipHeight();
  stats.elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  stats.cpuMs = (cpu.user + cpu.system) / 1000;
  return { devnet, stats, options: o };

  async function produceAll(): Promise<void> {
    let nextPow = o.powEvery - 2 + rng.int(5);
    const rp = devnet.spec.retargetParams;
    const retargetInterval = Math.max(1, Math.floor(rp.powTargetTimespan / rp.powTargetSpacing));
    let walletTurn = 0;
    for (let n = 1; n <= o.blocks; n++) {
      let t = performance.now();
      const blockLoad = await pipeline.nextLoad();
      stats.phases.load += performance.now() - t;
      stats.transactions += blockLoad.transactions.length;
      stats.transfers += blockLoad.transfers;
      stats.tokenCalls += blockLoad.tokenCalls;
      stats.pegouts += blockLoad.pegouts;

      t = performance.now();
      if (o.peginEvery > 0 && rng.int(o.peginEvery) === 0) {
        const w = wallets[walletTurn++ % LOAD_WALLETS]!;
        const sats = 20_000_000n + BigInt(rng.int(80_000_000));
        try {
          w.pegIn(peginTargets[rng.int(peginTargets.length)]!, sats, devnet.depositAddress);
        } catch (e) {
          throw new GenerateError(`block ${n}: the load wallet could not send a peg-in: ${(e as Error).message}`);
        }
      }
      if (n % BTC_EVERY === 0) mineBitcoin();
      stats.phases.bitcoin += performance.now() - t;

      t = performance.now();
      const r = await devnet.produceNext(blockLoad.transactions, blockLoad.senders);
      stats.phases.produce += performance.now() - t;
      if (!('block' in r)) throw new GenerateError(`block ${n} was not produced: ${r.stalled}`);
      const m = r.block.signed.message;
      stats.pegins += m.pegins.length;
      stats.powBlocks += m.auxpowHeader ? 1 : 0;
      stats.pegoutProposals += m.pegoutPaymentProposal ? 1 : 0;
      stats.finalizedPegouts += m.finalizedPegouts.length;

      // Alys retargets at heads that are multiples of the interval, and its min() quirk (spec 4.6)
      // makes any PoW earlier than the spacing there 5x harder: the miner waits a block instead, so
      // the work stays at the devnet's easy bits (a PoW later than the spacing only eases it).
      if (n >= nextPow && n % retargetInterval !== 0) {
        t = performance.now();
        const mined = await devnet.mineAuxPow();
        if (mined !== 'submitted') throw new GenerateError(`block ${n}: merged mining found no work`);
        nextPow = n + o.powEvery - 2 + rng.int(5);
        stats.phases.pow += performance.now() - t;
      }
      if (n % o.progressEvery === 0)
        opts.onProgress?.({ block: n, blocks: o.blocks, elapsedMs: performance.now() - t0 });
    }
  }
}
