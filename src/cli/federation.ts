/**
 * `alys-light federation [--at <height>]`: start the light node (a warm start from the data dir when there is
 * one: the applied governance updates are stored there), catch up, and print the federation in force at
 * `height` (default: the verified head) as one JSON object: the authorities' BLS keys, the federation's EVM
 * addresses and Bitcoin keys, the approvals a block needs, the peg-in deposit address, and where each part
 * comes from (the chain spec, or the verified governance update: its digest and effective height).
 * Exit 0 printed, 1 could not answer, 2 bad input.
 */
import type { FederationActor, FederationSetAt } from '../node/actors/federation.js';
import type { AuthoritySetSource } from '../protocol/authority-schedule.js';
import type { LightNode } from '../node/public.js';
import { ACTOR_ADDRESSES } from '../node/tree.js';
import { createCliNode, parseNodeCommand, startAndCatchUp } from './query.js';
import { toJson } from './serve-status.js';
import { printErr, printOut } from './term-safe.js';

export const FEDERATION_USAGE = `usage: alys-light federation [--at <block number>] [--timeout-ms <ms>] [config flags, as for run]

Syncs (warm start from --data-dir), then prints the federation in force at the block (default: the verified head):
{"federation":{"height","from","until","authorities","required","federation","bitcoinKeys","depositAddress",
"source","federationSource","bitcoinSource"}}; a source is {"kind":"spec"} or
{"kind":"governance","digest","effectiveHeight"} (a signed update from the governance stream, verified).`;

const HEIGHT = /^\d{1,15}$/;

/** A source with the height its change took effect (the digest alone does not say when). */
function sourceOf(source: AuthoritySetSource, changes: { effectiveHeight: number; source: AuthoritySetSource }[]) {
  if (source.kind === 'spec') return source;
  const change = changes.find((c) => c.source.kind === 'governance' && c.source.digest === source.digest);
  return { ...source, ...(change ? { effectiveHeight: change.effectiveHeight } : {}) };
}

async function federationAt(n: LightNode, height: number | undefined) {
  const system = n.system!;
  const federation = system.ref<typeof FederationActor>(ACTOR_ADDRESSES.federation);
  const at = height ?? (await n.status()).head?.number ?? 0;
  const opts = { timeoutMs: 30_000 };
  const set: FederationSetAt = await federation.ask({ type: 'set-at', height: at }, opts);
  const network = n.config.config.bitcoin.network;
  // testnet4 addresses are testnet's (tb1...)
  const addressNetwork = network === 'testnet4' ? 'testnet' : network;
  const depositAddress = await federation.ask({ type: 'deposit-address', network: addressNetwork, height: at }, opts);
  const { changes } = await federation.ask({ type: 'changes' }, opts);
  return {
    height: at,
    from: set.from,
    until: set.until,
    authorities: set.authorities,
    required: set.required,
    federation: set.federation,
    bitcoinKeys: set.federationBitcoinPubkeys,
    depositAddress,
    bitcoinNetwork: network,
    source: sourceOf(set.source, changes),
    federationSource: sourceOf(set.federationSource, changes),
    bitcoinSource: sourceOf(set.bitcoinSource, changes),
  };
}

export async function federationCommand(argv: string[]): Promise<number> {
  const parsed = parseNodeCommand(argv, 'federation', FEDERATION_USAGE, { at: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals, timeoutMs } = parsed;
  if (positionals.length > 0) {
    printErr(`alys-light federation: unexpected ${JSON.stringify(positionals[0])}\n\n${FEDERATION_USAGE}`);
    return 2;
  }
  const at = values.at;
  if (at !== undefined && (typeof at !== 'string' || !HEIGHT.test(at))) {
    printErr(`alys-light federation: --at takes a block number, not ${JSON.stringify(at)}`);
    return 2;
  }
  const n = await createCliNode(values);
  if (n === 2) return 2;
  try {
    await startAndCatchUp(n, timeoutMs, 'federation');
    printOut(toJson({ federation: await federationAt(n, at === undefined ? undefined : Number(at)) }));
    return 0;
  } catch (e) {
    printOut(toJson({ federation: null, error: (e as Error).message.split('\n')[0] }));
    return 1;
  } finally {
    await n.stop();
  }
}
