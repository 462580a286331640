/**
 * The devnet's adversarial consensus RPC: a second endpoint on 127.0.0.1 that
 * answers like the honest one (same methods, shapes, statuses and error codes: everything it does
 * not fault is the honest handler's reply) but serves one named defect, deterministically from a
 * seed. It is the devnet, so it holds the federation's keys: every mutated block is re-signed by
 * every authority and carries exactly the defect its fault names.
 *
 * Which methods a fault touches:
 * - block, AuxPoW and chain faults: `getblockbyheight`, `getblockbyhash`, `getheadblock`
 *   (`withheld` leaves `getheadblock` honest so that the gap is visible below the head);
 * - transport faults: the replies of those three methods that carry an affected block;
 * - `getqueuedpow`, `getdepositaddress`, `createauxblock`, `submitauxblock`, unknown methods and every
 *   error path are the honest server's (a miner mining through this endpoint mines the devnet).
 * Which heights: see view.ts (`from`, `density`, seeded).
 */
import { serveWire } from './wire.js';
import { createFaultView, type FaultSelection, type FaultView, type FaultyDevnet } from './view.js';

export * from './names.js';
export {
  createFaultView,
  FaultConfigError,
  type FaultPlan,
  type FaultSelection,
  type FaultView,
  type FaultyDevnet,
} from './view.js';
export { MALFORMED_VARIANTS, TRUNCATION_FRAMINGS, type MalformedVariant, type WireReply } from './wire.js';

export interface FaultyRpcOptions extends FaultSelection {
  /** Port on 127.0.0.1; 0 = any free port. */
  port: number;
}

export interface FaultyConsensusRpc extends Omit<FaultView, 'handle'> {
  readonly url: string;
  close(): Promise<void>;
}

/** Start the adversarial consensus RPC for `devnet`. Throws FaultConfigError for an impossible selection. */
export async function serveFaultyConsensusRpc(
  devnet: FaultyDevnet,
  opts: FaultyRpcOptions,
): Promise<FaultyConsensusRpc> {
  const view = createFaultView(devnet, opts);
  const server = await serveWire(opts.port, view.handle);
  return {
    url: server.url,
    fault: view.fault,
    affects: view.affects,
    plan: view.plan,
    blockAt: view.blockAt,
    blockByHash: view.blockByHash,
    close: server.close,
  };
}
