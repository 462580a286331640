/**
 * The devnet federation on Alys's p2p protocol: a libp2p host on loopback (TCP and
 * WebSockets) that serves `blocks_by_range` from the devnet's chain exactly as an Alys node does
 * (ascending from the start height, up to `count`, stopping at its head) and gossips every new block
 * as the federation does (spec 3.3): the slot's proposer publishes it on `consensus_block` carrying
 * only its own signature, then every other member publishes its `approve_block`. A light node following
 * by gossip must aggregate the approvals itself (src/protocol/candidates.ts), as Alys nodes do.
 */
import { aggregateApprovals, signApproval } from '../protocol/approvals-sign.js';
import { createP2pHost, type P2pHost } from '../node/network/p2p-host.js';
import { LOOPBACK_LISTEN, nodeTransports } from '../platform/nodejs/p2p.js';
import type { Devnet } from './devnet.js';
import { createFaultView, FAULT_INFO, type FaultSelection, type FaultyDevnet } from './faults.js';
import { encodeBlockChunk, encodeResponseChunk, RESULT } from '../protocol/p2p/index.js';
import { concatBytes, fromHex } from '../protocol/bytes.js';
import type { StoredBlock } from './consensus/chain.js';
import type { SignedConsensusBlock } from '../protocol/types.js';

/** The chain a devnet peer serves: the live ChainStore, or a persisted devnet's (which never appends). */
export interface PeerChain {
  readonly height: number;
  at(number: number): { signed: SignedConsensusBlock } | undefined;
  onAppend?(fn: (block: StoredBlock) => void): () => void;
}

export interface DevnetPeerOptions {
  listen?: string[];
  /** Called for each block the peer fails to gossip (over 64 KiB, nobody subscribed). */
  log?: (line: string) => void;
}

export interface DevnetPeer {
  host: P2pHost;
  /** Listening multiaddrs (with /p2p/<id>): TCP first, then WebSockets. */
  addresses: string[];
  /** The start height of every blocks_by_range request served so far (tests: what came by request, not gossip). */
  readonly requests: readonly bigint[];
  stop(): Promise<void>;
}

/** Gossip a new block as Alys's federation does: the proposer's one-signature block, then the others' approvals. */
async function gossipAsFederation(
  host: P2pHost,
  devnet: Partial<Pick<Devnet, 'members' | 'bls' | 'authoritySets'>>,
  block: StoredBlock,
): Promise<boolean> {
  const { bls } = devnet;
  // the set in force at the block's height (the genesis members until a scheduled change)
  const members = devnet.authoritySets?.membersAt(block.number) ?? devnet.members;
  if (!members?.length || !bls) return false;
  const root = fromHex(block.hash);
  const proposer = members[block.signed.message.slot % members.length]!;
  const own = signApproval(proposer.blsSecretKey, root, proposer.index, bls);
  const sent = await host.publish({
    type: 'ConsensusBlock',
    block: { message: block.signed.message, signature: aggregateApprovals([own], { backend: bls }) },
  });
  for (const m of members)
    if (m !== proposer)
      await host.publish({
        type: 'ApproveBlock',
        approval: { blockHash: block.hash, signature: signApproval(m.blsSecretKey, root, m.index, bls) },
      });
  return sent;
}

/**
 * The devnet's federation peer. Without `members` (a frozen devnet served from disk, which never
 * appends), it only serves blocks_by_range.
 */
export async function startDevnetPeer(
  devnet: { chain: PeerChain } & Partial<Pick<Devnet, 'members' | 'bls' | 'authoritySets'>>,
  opts: DevnetPeerOptions = {},
): Promise<DevnetPeer> {
  const { chain } = devnet;
  const requests: bigint[] = [];
  const host = await createP2pHost({
    transports: nodeTransports(),
    listen: opts.listen ?? LOOPBACK_LISTEN,
    allowPrivateAddresses: true,
    server: true,
    serveBlocks: (start, count) => {
      requests.push(start);
      const out: SignedConsensusBlock[] = [];
      for (let h = start; h <= BigInt(chain.height) && out.length < count; h++) out.push(chain.at(Number(h))!.signed);
      return out;
    },
  });
  await host.start();
  const unsubscribe = chain.onAppend?.((block) => {
    void gossipAsFederation(host, devnet, block).then((sent) => {
      if (!sent) opts.log?.(`block ${block.number} not gossiped (no subscribers yet, or over 64 KiB)`);
    });
  });
  return {
    host,
    addresses: host.multiaddrs(),
    requests,
    async stop() {
      unsubscribe?.();
      await host.stop();
    },
  };
}

/**
 * An adversarial devnet peer: the devnet's fault modes (src/devnet/faults) over blocks_by_range.
 * Content and chain faults serve the fault view's blocks (mutated, re-signed, another height's,
 * withheld: the answer stops there); the transport faults become their p2p counterparts: `slow`
 * delays the answer, `truncated` cuts the stream inside the first affected block's chunk,
 * `malformed-json` sends a chunk whose payload is not a msgpack block.
 */
export async function startFaultyDevnetPeer(
  devnet: FaultyDevnet,
  selection: FaultSelection,
  opts: DevnetPeerOptions = {},
): Promise<DevnetPeer & { affects(h: number): boolean }> {
  const view = createFaultView(devnet, selection);
  const served = (start: number, count: number): SignedConsensusBlock[] => {
    const out: SignedConsensusBlock[] = [];
    for (let h = start; h < start + count; h++) {
      const b = view.blockAt(h);
      if (!b) break; // beyond the head, or withheld
      out.push(b);
    }
    return out;
  };
  const firstAffected = (start: number, count: number): number => {
    for (let h = start; h < start + count && h <= devnet.chain.height; h++) if (view.affects(h)) return h;
    return -1;
  };
  const kind = FAULT_INFO[selection.fault].kind;
  const host = await createP2pHost({
    transports: nodeTransports(),
    listen: opts.listen ?? LOOPBACK_LISTEN,
    allowPrivateAddresses: true,
    server: true,
    serveBlocks: (start, count) => (start > BigInt(devnet.chain.height) ? [] : served(Number(start), count)),
    respondRaw: async (start, count) => {
      if (kind !== 'transport' || start > BigInt(devnet.chain.height)) return undefined;
      const s = Number(start);
      const hit = firstAffected(s, count);
      if (hit < 0) return undefined;
      if (selection.fault === 'slow') return { delayMs: selection.delayMs ?? 2_000 };
      const before = served(s, hit - s).map((b) => encodeBlockChunk(b));
      const tail =
        selection.fault === 'truncated'
          ? encodeBlockChunk(devnet.chain.at(hit)!.signed).subarray(0, 24)
          : encodeResponseChunk(RESULT.success, new TextEncoder().encode(`{"not":"msgpack","height":${hit}}`));
      return { bytes: concatBytes(...before, tail) };
    },
  });
  await host.start();
  return { host, addresses: host.multiaddrs(), requests: [], affects: (h) => view.affects(h), stop: () => host.stop() };
}
