/**
 * EngineActor: verified EVM reads (eth_getProof against verified state roots, receipts against
 * verified receipts roots) through viem clients to the configured EVM endpoints; checks the EL block
 * of each new verified head against its payload. The node runs a small group of them so concurrent
 * provider requests do not queue behind one slow endpoint; each has its own circuit breaker.
 */
import { defineActor, replyError, type ActorContext } from '../../actors/actor.js';
import { NoSourceError } from '../errors.js';
import { createVerifiedReads, type VerifiedReads } from '../engine/index.js';
import type { BlockRef } from '../engine/types.js';
import type { NodeEventMessage } from '../events.js';
import type { ExecutionPayloadCapella } from '../../protocol/types.js';
import type { ChainMsg } from './chain.js';

type ReadMethod = Exclude<keyof VerifiedReads, 'endpoints'>;

export type EngineMsg =
  | { type: 'read'; method: ReadMethod; args: unknown[] }
  /** Hot reload: new EVM endpoints (a fresh client set; reads in progress finish on the old one). */
  | { type: 'configure'; evmRpc: string[]; timeoutMs: number }
  | NodeEventMessage;

export interface EngineArgs {
  evmRpc: string[];
  chain: string;
  network: string;
  timeoutMs: number;
  /** Cap on one EVM JSON-RPC response body (bytes). */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
  /** Check the EL block of verified heads at most this often (ms). */
  checkEveryMs?: number;
}

export const EngineActor = defineActor<EngineMsg, { read: unknown; configure: void; event: void }, EngineArgs>({
  name: 'engine',
  mailbox: { capacity: 1024, overflow: 'block' },
  create(args) {
    let reads: VerifiedReads | undefined;
    let lastCheck = 0;
    return {
      preStart(ctx) {
        reads = connect(ctx);
      },
      async handle(msg, ctx) {
        if (msg.type === 'configure') {
          args.evmRpc = [...msg.evmRpc];
          args.timeoutMs = msg.timeoutMs;
          reads = connect(ctx);
          return;
        }
        const r = reads;
        if (msg.type === 'read') {
          if (!r)
            return replyError(
              new NoSourceError('verified EVM reads', 'no EVM JSON-RPC endpoint is configured (evmRpc)'),
            );
          // a read that cannot be verified fails the caller, not this actor (its state is just the clients)
          try {
            return await (r[msg.method] as (...a: unknown[]) => Promise<unknown>)(...msg.args);
          } catch (e) {
            return replyError(e instanceof Error ? e : new Error(String(e)));
          }
        }
        if (msg.name !== 'head' || !r) return;
        const now = ctx.clock.now();
        if (now - lastCheck < (args.checkEveryMs ?? 1000)) return;
        lastCheck = now;
        const payload = await ctx.ask<ExecutionPayloadCapella | undefined, ChainMsg>(args.chain, {
          type: 'payload',
          ref: 'latest',
        });
        // a lying EL endpoint is reported through onEndpointFault; the check itself must not crash us
        if (payload) await r.checkElBlock(payload).catch(() => {});
      },
    };

    /** Clients for the configured endpoints; none configured: no reads (they fail with NoSourceError). */
    function connect(ctx: ActorContext<EngineMsg, EngineArgs>): VerifiedReads | undefined {
      if (args.evmRpc.length === 0) return undefined;
      return createVerifiedReads({
        evmRpc: args.evmRpc,
        timeoutMs: args.timeoutMs,
        ...(args.maxResponseBytes ? { maxResponseBytes: args.maxResponseBytes } : {}),
        ...(args.fetch ? { fetch: args.fetch } : {}),
        payloads: {
          payload: (ref: BlockRef) =>
            ctx.ask<ExecutionPayloadCapella | undefined, ChainMsg>(
              args.chain,
              { type: 'payload', ref },
              { timeoutMs: 30_000 },
            ),
        },
        onEndpointFault: (url, error) =>
          void ctx.tell(args.network, {
            type: 'fault',
            id: url,
            kind: error.name === 'EndpointVerificationError' ? 'invalid' : 'network',
            reason: error.message.split('\n')[0],
          }),
      });
    }
  },
});
