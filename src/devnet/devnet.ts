/**
 * `createDevnet()`: a whole local Alys network in one process - the federation producing blocks on
 * Aura slots, the EVM engine, a Bitcoin regtest chain with wallets, a merged miner, and the three
 * servers (consensus JSON-RPC, Ethereum JSON-RPC, Esplora) on 127.0.0.1.
 *
 * Two ways to drive it: `start()` runs on wall-clock time (slot timer, Bitcoin blocks, mining);
 * without `start()` tests and the generator call `produceNext()`, `mineAuxPow()` and
 * `mineBitcoin()` themselves, on a virtual clock that advances one slot per block.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateKeyToAddress } from 'viem/accounts';
import { devnetDirName, ensurePrivateDir, privateRuntimeDir } from '../config/nodejs/private-dir.js';
import { genesisBlock, signingRoot } from '../protocol/block.js';
import { createBlsBackend } from '../protocol/bls/index.js';
import type { BlsBackend } from '../protocol/bls/backend.js';
import { createFederationFromSpec, federationAddress, type Federation } from '../protocol/bridge/taproot.js';
import { fromHex, toHex } from '../protocol/bytes.js';
import { chainSpecToJson } from '../protocol/chainspec.js';
import type { AuxBlock } from '../protocol/codec/json.js';
import type { ChainSpec, Hex } from '../protocol/types.js';
import {
  createBitcoinChain,
  createFaucet,
  serveEsplora,
  type FaucetWallet,
  type RegtestChain,
} from './bitcoin/index.js';
import { createDevnetAuthoritySets, type DevnetAuthoritySets } from './consensus/authority-sets.js';
import { ChainStore, type StoredBlock } from './consensus/chain.js';
import {
  deriveFederation,
  devnetAccountKey,
  DEVNET_SPEC_DEFAULTS,
  devnetChainSpec,
  type DevnetSpecOptions,
  type FederationMember,
} from './consensus/keys.js';
import { MergedMining, minerCadenceMs } from './consensus/mining.js';
import { PegInScanner } from './consensus/pegs.js';
import { BlockProducer, type ProduceResult } from './consensus/producer.js';
import { handleConsensusRpc, serveConsensusRpc, type RpcReply } from './consensus/rpc.js';
import { createEngine, type DevnetEngine } from './evm/index.js';
import { startGovernanceServer, withFederationChanges, type DevnetGovernance } from './governance.js';
import { buildAuxPow, createMiner } from './miner.js';

export interface DevnetOptions extends Partial<DevnetSpecOptions> {
  /** Number of authorities / federation members (1..15). Default 3. */
  authorities?: number;
  /** Everything deterministic derives from it. Default 'alys-devnet'. */
  seed?: string;
  /** Ports on 127.0.0.1; 0 = any free port. Defaults: consensus 3000, EVM 8545, Esplora 3002. */
  consensusPort?: number;
  evmPort?: number;
  esploraPort?: number;
  /** Start the governance server (governance.ts) on this port (0 = any); not started when absent. */
  governancePort?: number;
  /** Don't open any server (the generator and unit tests). */
  noServers?: boolean;
  /** Prefunded EVM users (keys derived from the seed). Default 8. */
  users?: number;
  /** Where the chain spec file goes. Default `devnet-<seed>` in this user's private runtime dir (config/nodejs/private-dir.ts), where `alys-light run --network devnet` reads it. */
  dataDir?: string;
  /** Live mode: a Bitcoin block every this many ms (default 3 slots). */
  bitcoinBlockMs?: number;
  /** Live mode: the merged miner tries every this many ms (default: `minerCadenceMs(spec)`, powTargetSpacing + 1 slots). */
  powEveryMs?: number;
  /** Replace consensus RPC replies (fault injection). */
  wrapRpc?: (reply: RpcReply, method: string, body: string) => RpcReply | Promise<RpcReply>;
  log?: (line: string) => void;
}

export interface DevnetUser {
  privateKey: Hex;
  address: Hex;
}

export interface Devnet {
  readonly spec: ChainSpec;
  readonly specFile: string;
  /** The genesis members (the chain spec's authorities). */
  readonly members: readonly FederationMember[];
  /** The signer sets over time: `authoritySets.scheduleChange({ effectiveHeight, authorities })` switches them at a height. */
  readonly authoritySets: DevnetAuthoritySets;
  readonly federation: Federation;
  readonly depositAddress: string;
  readonly users: readonly DevnetUser[];
  readonly minerAddress: Hex;
  readonly engine: DevnetEngine;
  readonly bitcoin: RegtestChain;
  readonly faucet: FaucetWallet;
  readonly chain: ChainStore;
  readonly pow: MergedMining;
  readonly producer: BlockProducer;
  readonly bls: BlsBackend;
  readonly urls: { consensus: string; evm: string; esplora: string; governance?: string };
  /** The governance server, when `governancePort` was given. */
  readonly governance?: DevnetGovernance;
  /** Produce the next block on the virtual clock (one slot later); null-safe for stalls. */
  produceNext(transactions?: Uint8Array[], senders?: Uint8Array[]): Promise<ProduceResult>;
  /** One merged-mining round through the consensus RPC (or in-process without servers). */
  mineAuxPow(): Promise<'submitted' | 'no-work'>;
  /** Mine Bitcoin blocks (mempool included; the faucet gets the coinbase). */
  mineBitcoin(count?: number): void;
  /** Wall-clock mode: slots, Bitcoin blocks and merged mining on timers. */
  start(): void;
  stop(): Promise<void>;
}

export async function createDevnet(opts: DevnetOptions = {}): Promise<Devnet> {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 'alys-devnet';
  const members = deriveFederation({ seed, authorities: opts.authorities ?? 3 });
  const chainId = opts.chainId ?? DEVNET_SPEC_DEFAULTS.chainId;
  const users: DevnetUser[] = Array.from({ length: opts.users ?? 8 }, (_, i) => {
    const privateKey = toHex(devnetAccountKey(seed, 'user', i));
    return { privateKey, address: privateKeyToAddress(privateKey).toLowerCase() as Hex };
  });
  const minerAddress = privateKeyToAddress(toHex(devnetAccountKey(seed, 'miner', 0))).toLowerCase() as Hex;

  const engine = await createEngine({
    chainId: BigInt(chainId),
    alloc: Object.fromEntries(users.map((u) => [u.address, { balance: 10n ** 24n }])),
  });
  // the spec carries the EL genesis hash: a light node takes block 0 as a trust root, not on first use
  const spec = devnetChainSpec(members, { ...opts, executionGenesisHash: engine.genesisPayload().blockHash });
  const federation = createFederationFromSpec(spec);
  let virtualBitcoinTime = 1_700_000_000;
  let live = false;
  const bitcoin = createBitcoinChain({
    now: () => (live ? Math.floor(Date.now() / 1000) : (virtualBitcoinTime += 600)),
    coinbaseMaturity: 10,
  });
  const faucet = createFaucet(bitcoin, { seed: `${seed}/faucet`, blocks: 20 });
  const bls = await createBlsBackend('auto');

  const genesisSigned = genesisBlock(spec, engine.genesisPayload());
  const genesis: StoredBlock = {
    signed: genesisSigned,
    hash: toHex(signingRoot(genesisSigned.message)),
    number: 0,
    receipts: [],
    priorityFeesWei: 0n,
    accumulatedFeesWei: 0n,
  };
  const chain = new ChainStore(genesis);
  const pow = new MergedMining(chain, spec);
  const pegins = new PegInScanner(bitcoin, federation, spec.requiredBtcTxnConfirmations, 0);
  const authoritySets = createDevnetAuthoritySets({
    seed,
    spec,
    genesisMembers: members,
    bls,
    head: () => chain.head.number,
  });
  const producer = new BlockProducer({
    spec,
    members,
    federation,
    engine,
    bitcoin,
    chain,
    bls,
    pegins,
    pow,
    seed,
    sets: authoritySets,
    log,
  });

  // default: this user's private runtime dir, where `alys-light run --network devnet` looks (never a shared /tmp path)
  const dataDir = opts.dataDir ?? ensurePrivateDir(privateRuntimeDir(), devnetDirName(seed));
  mkdirSync(dataDir, { recursive: true });
  const specFile = join(dataDir, 'chain-spec.json');
  writeFileSync(specFile, JSON.stringify(chainSpecToJson(spec), null, 2) + '\n', { mode: 0o600 });

  const rpcDeps = { chain, pow, federation, bitcoinNetwork: 'regtest' as const };
  const closers: Array<() => Promise<void>> = [];
  const urls: Devnet['urls'] = { consensus: '', evm: '', esplora: '' };
  let governance: DevnetGovernance | undefined;
  if (!opts.noServers) {
    const consensus = await serveConsensusRpc(opts.consensusPort ?? 3000, (method, body) => {
      const r = handleConsensusRpc(rpcDeps, method, body);
      return opts.wrapRpc ? opts.wrapRpc(r, method, body) : r;
    });
    const evm = await engine.serve({ port: opts.evmPort ?? 8545 });
    const esplora = await serveEsplora(bitcoin, { port: opts.esploraPort ?? 3002 });
    urls.consensus = consensus.url;
    urls.evm = evm.url;
    urls.esplora = esplora.url;
    closers.push(consensus.close, evm.close, esplora.close);
    if (opts.governancePort !== undefined) {
      // an update effective at H is signed by the authorities in force at H - 1
      const server = await startGovernanceServer({
        chainId: spec.chainId,
        current: (h) => authoritySets.membersAt(h - 1),
        port: opts.governancePort,
      });
      governance = withFederationChanges(server, authoritySets, spec.chainId);
      urls.governance = governance.url;
      closers.push(governance.stop);
    }
  }

  // virtual clock: one slot per produced block, timestamps on slot boundaries
  let slot = Math.floor((Number(engine.genesisPayload().timestamp) * 1000) / spec.slotDuration) + 1;
  const miner = urls.consensus
    ? createMiner({ rpcUrl: urls.consensus, address: minerAddress, seed: `${seed}/miner` })
    : undefined;
  // the live loops' pending timers (one per loop: each callback schedules the next)
  const timers = new Map<'slot' | 'btc', ReturnType<typeof setTimeout>>();

  const devnet: Devnet = {
    spec,
    specFile,
    members,
    authoritySets,
    federation,
    depositAddress: federationAddress(federation, 'regtest'),
    users,
    minerAddress,
    engine,
    bitcoin,
    faucet,
    chain,
    pow,
    producer,
    bls,
    urls,
    ...(governance ? { governance } : {}),
    async produceNext(transactions, senders) {
      const s = slot++;
      return producer.produce(s, BigInt(Math.floor((s * spec.slotDuration) / 1000)), transactions, senders);
    },
    async mineAuxPow() {
      if (miner) return miner.mineOnce();
      let aux: AuxBlock;
      try {
        aux = pow.createAuxBlock(minerAddress);
      } catch {
        return 'no-work';
      }
      pow.submitAuxBlock(
        fromHex(aux.hash),
        buildAuxPow(aux, {
          seed: `${seed}/miner`,
          parentTxs: 3,
          parentVersion: 0x20000000,
          time: virtualBitcoinTime,
          height: chain.lastPow.number + 1,
        }),
      );
      return 'submitted';
    },
    mineBitcoin(count = 1) {
      faucet.mine(count);
    },
    start() {
      live = true;
      const slotLoop = () => {
        const now = Date.now();
        const current = Math.floor(now / spec.slotDuration);
        const ts = BigInt(Math.floor(now / 1000));
        const parentTs = chain.head.signed.message.executionPayload.timestamp;
        void producer
          .produce(current, ts > parentTs ? ts : parentTs + 1n)
          .then((r) =>
            log(
              'block' in r
                ? `block ${r.block.number} ${r.block.hash} (${r.block.signed.message.executionPayload.transactions.length} txs${r.block.signed.message.auxpowHeader ? ', PoW' : ''})`
                : r.stalled,
            ),
          )
          .catch((e: Error) => log(`block production failed: ${e.message}`));
        timers.set('slot', setTimeout(slotLoop, spec.slotDuration - (Date.now() % spec.slotDuration)));
      };
      timers.set('slot', setTimeout(slotLoop, spec.slotDuration - (Date.now() % spec.slotDuration)));
      const btcEvery = opts.bitcoinBlockMs ?? 3 * spec.slotDuration;
      const btcLoop = () => {
        try {
          faucet.mine(1);
        } catch (e) {
          log(`bitcoin mining failed: ${(e as Error).message}`);
        }
        timers.set('btc', setTimeout(btcLoop, btcEvery));
      };
      timers.set('btc', setTimeout(btcLoop, btcEvery));
      miner?.start(opts.powEveryMs ?? minerCadenceMs(spec), (e) => log(`merged mining: ${(e as Error).message}`));
    },
    async stop() {
      live = false;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      miner?.stop();
      for (const c of closers) await c();
      await engine.close();
    },
  };
  return devnet;
}
