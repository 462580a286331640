/**
 * What the Chromium test files share: `waitFor` (poll a probe until it gives a value), the devnet's
 * control server (test/setup/browser-devnet.ts: `devnetInfo`, `devnetHead`, `produce`, `synced`), the big-chain
 * proxy's control server (test/setup/browser-big-chain.ts: `control`), a run-unique id for database
 * names (`newRun`) and the clean-up of a file's worker nodes and databases (`cleanUpAfterAll`), and the
 * genesis-replay sync settings (`GENESIS_SYNC`).
 */
import { afterAll, inject } from 'vitest';
import type { NodeStatus, WorkerLightNode } from '../../src/index.js';
import { deleteIdbDatabase } from '../storage/conformance.js';

export interface WaitOptions {
  /** Give up (throw "timed out waiting for …") after this long. Default 25 s. */
  timeoutMs?: number;
  /** Between probes. Default 100 ms. */
  intervalMs?: number;
  /** A probe that throws counts as "not yet" (default); false: its error ends the wait. */
  ignoreErrors?: boolean;
}

/** Poll `probe` until it returns something other than undefined or false; `what` names it in the timeout error. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: () => Promise<string> | string,
  { timeoutMs = 25_000, intervalMs = 100, ignoreErrors = true }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const attempt = Promise.resolve().then(probe);
    const v = await (ignoreErrors ? attempt.catch(() => undefined) : attempt);
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${await what()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A fresh id for this test file's database names (unique per file and run). */
export const newRun = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** After this file's tests, close its worker nodes, then delete its databases (errors ignored). */
export function cleanUpAfterAll(nodes: WorkerLightNode[], databases: string[]): void {
  afterAll(async () => {
    for (const n of nodes) await n.close().catch(() => {});
    for (const name of databases) await deleteIdbDatabase(name).catch(() => {});
  });
}

export interface DevnetInfo {
  head: { number: number; hash: string };
  finalized: number;
}

/** The devnet's head and finalized height (GET /info on its control server). */
export async function devnetInfo(): Promise<DevnetInfo> {
  return (await fetch(`${inject('devnet').control}/info`)).json();
}

/** Have the devnet produce `blocks` blocks (then a PoW block if `pow`): POST /produce. */
export async function produce(blocks: number, pow: boolean): Promise<DevnetInfo> {
  const r = await fetch(`${inject('devnet').control}/produce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ blocks, pow }),
  });
  if (!r.ok) throw new Error(`produce: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

export async function devnetHead(): Promise<DevnetInfo['head']> {
  return (await devnetInfo()).head;
}

/**
 * Wait until the node's head is the devnet's head (number and hash) as it is now; `show` picks what of
 * the node's status the timeout error prints (all of it by default).
 */
export async function synced<S extends NodeStatus>(
  node: { status(): Promise<S> },
  label: string,
  options: WaitOptions & { show?: (s: S) => unknown } = {},
): Promise<S> {
  const { show = (s: S): unknown => s, ...wait } = options;
  const head = await devnetHead();
  return waitFor(
    async () => {
      const s = await node.status();
      return s.head?.number === head.number && s.head.hash === head.hash ? s : undefined;
    },
    async () => `${label} at the devnet head ${head.number}: ${JSON.stringify(show(await node.status()))}`,
    wait,
  );
}

/** The big-chain proxy's control server: GET with no body, POST with one. */
export async function control<T = unknown>(path: string, body?: unknown): Promise<T> {
  const r = await fetch(
    `${inject('bigChain').control}${path}`,
    body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json() as Promise<T>;
}

/** A genesis replay (the cases that check the sync from block 0; test/browser/head-start.test.ts starts at the head). */
export const GENESIS_SYNC = {
  start: 'genesis' as const,
  batchSize: 8,
  parallelism: 4,
  requestTimeoutMs: 5_000,
  retries: 5,
  backoffInitialMs: 50,
  backoffMaxMs: 500,
  followIntervalMs: 100,
};
