/**
 * The prefetch hint of a verified call: `eth_createAccessList` from an endpoint (UNVERIFIED) names the
 * accounts and slots the call will touch, so their proofs can be fetched in one parallel round instead
 * of one round per SLOAD. It only decides what is fetched early: every value the EVM reads is proven
 * (call/state.ts), whatever the list says. A wrong, incomplete or missing list costs time (the EVM
 * fetches what it lacks on demand), never a different result; an over-long one is cut (MAX_*).
 */
import type { Hex } from '../../../protocol/bytes.js';
import { toQuantity } from '../../../protocol/execution/json.js';
import { lower, type ReadContext } from '../reads/context.js';
import type { CallRequest } from './request.js';
import { slotKey, type PrefetchItem } from './state.js';

/** The most accounts / slots taken from a hint (a lying endpoint must not make the node fetch without end). */
export const MAX_HINT_ACCOUNTS = 64;
export const MAX_HINT_SLOTS = 512;

/** The call object as JSON-RPC (what the endpoint is asked). */
export function callJson(req: CallRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (req.from !== undefined) out['from'] = req.from;
  if (req.to !== undefined && req.to !== null) out['to'] = req.to;
  if (req.gas !== undefined) out['gas'] = toQuantity(req.gas);
  if (req.gasPrice !== undefined) out['gasPrice'] = toQuantity(req.gasPrice);
  if (req.maxFeePerGas !== undefined) out['maxFeePerGas'] = toQuantity(req.maxFeePerGas);
  if (req.maxPriorityFeePerGas !== undefined) out['maxPriorityFeePerGas'] = toQuantity(req.maxPriorityFeePerGas);
  if (req.value !== undefined) out['value'] = toQuantity(req.value);
  if (req.data !== undefined) out['input'] = req.data;
  if (req.accessList !== undefined) out['accessList'] = req.accessList;
  return out;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const KEY = /^0x[0-9a-fA-F]{1,64}$/;

/** The accounts and slots of an `eth_createAccessList` answer, cut to the limits; [] for anything malformed. */
export function hintItems(answer: unknown): PrefetchItem[] {
  const list = (answer as { accessList?: unknown } | null)?.accessList;
  if (!Array.isArray(list)) return [];
  const items: PrefetchItem[] = [];
  let slots = 0;
  for (const e of list.slice(0, MAX_HINT_ACCOUNTS)) {
    const address = (e as { address?: unknown } | null)?.address;
    if (typeof address !== 'string' || !ADDRESS.test(address)) continue;
    const keys = (e as { storageKeys?: unknown }).storageKeys;
    const good = Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string' && KEY.test(k)) : [];
    const taken = good.slice(0, Math.max(0, MAX_HINT_SLOTS - slots)).map((k) => slotKey(k as Hex));
    slots += taken.length;
    items.push({ address: lower(address), slots: taken });
  }
  return items;
}

/** Ask the endpoints for the access list of the call at `blockHash`; [] when none answers (it is only a hint). */
export async function fetchHint(ctx: ReadContext, req: CallRequest, blockHash: Hex): Promise<PrefetchItem[]> {
  try {
    return hintItems(await ctx.pool.forward('eth_createAccessList', [callJson(req), { blockHash }]));
  } catch {
    return [];
  }
}
