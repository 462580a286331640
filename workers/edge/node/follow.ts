/**
 * One alarm run's bounded follow step: ask the consensus sources for their head (untrusted claims, only
 * used to know how far to wait), then wait until the node's verified head reaches the lowest claim (a
 * source claiming too much cannot hold a run up, one claiming too little only ends it early), the sync
 * stalls, or `maxMs` passes. No source answering, a stall, or not catching up is the run's failure
 * (the alarm backs off); none of it changes the chain, which only the node's verified imports do.
 */
import type { LightNode, NodeStatus } from '../../../src/node/types.js';
import { createConsensusRpcSource } from '../../../src/node/sources/consensus-rpc.js';
import { claimedHeight } from '../../../src/node/sources/source.js';

export interface FollowOutcome {
  status: NodeStatus;
  /** The height waited for (the lowest head a source claimed), null when no source answered. */
  target: number | null;
  /** Why the run failed; undefined for a good run. */
  error?: string;
}

/** The heads the sources claim (those that answered), and why the others did not. */
export async function claimedHeads(
  urls: readonly string[],
  timeoutMs: number,
): Promise<{ heights: number[]; problems: string[] }> {
  const answers = await Promise.allSettled(
    urls.map(async (url) => claimedHeight(await createConsensusRpcSource({ url, timeoutMs }).head())),
  );
  const heights: number[] = [];
  const problems: string[] = [];
  answers.forEach((a, i) => {
    if (a.status === 'fulfilled') heights.push(a.value);
    else problems.push(`${urls[i]}: ${(a.reason as Error)?.message ?? String(a.reason)}`);
  });
  return { heights, problems };
}

export async function followStep(
  node: LightNode,
  sources: readonly string[],
  opts: { maxMs: number; timeoutMs: number },
): Promise<FollowOutcome> {
  const deadline = Date.now() + opts.maxMs;
  const { heights, problems } = await claimedHeads(sources, opts.timeoutMs);
  const target = heights.length > 0 ? Math.min(...heights) : null;
  for (;;) {
    const status = await node.status();
    if (target === null) return { status, target, error: `no consensus source answered (${problems.join('; ')})` };
    const head = status.head?.number ?? -1;
    if (head >= target) return { status, target };
    if (status.sync?.phase === 'stalled')
      return { status, target, error: `the sync is stalled: ${status.sync.detail ?? 'no usable source'}` };
    if (Date.now() >= deadline)
      return { status, target, error: `not at the sources' head ${target} within the run (head ${head})` };
    await new Promise((r) => setTimeout(r, 100));
  }
}
