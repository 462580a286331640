/**
 * `alys-light query balance <address> [--at latest|safe|finalized|<number>]`: start the light node
 * (a warm start from the data dir when there is one), catch up with the sources, and read the
 * balance through the node's verified provider: the EL's eth_getProof checked against the state root
 * of a verified block. Prints one JSON line; exit 0 verified, 1 could not verify, 2 bad input.
 */
import { parseArgs } from 'node:util';
import { ConfigBaseError, configParseArgsOptions, type FlagValues } from '../config/index.js';
import { loadChainSpec, loadNodeConfig } from '../config/nodejs/index.js';
import { createLightNodeFrom } from '../node/node.js';
import type { LightNode } from '../node/public.js';
import { createNodePlatform } from '../platform/nodejs/platform.js';
import { toQuantity } from '../protocol/execution/json.js';
import { toJson } from './serve-status.js';
import { printErr, printOut } from './term-safe.js';

export const QUERY_USAGE = `usage: alys-light query balance <0xaddress> [--at latest|safe|finalized|<block number>] [--timeout-ms <ms>] [config flags, as for run]

Syncs (warm start from --data-dir), then prints {"query":"balance","address","balance","block":{"number","hash"},"verified":true}.`;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** What a node command (`query`, `prove`) read from its arguments; a number is the exit code (usage printed). */
export type NodeCommandArgs = { values: Record<string, unknown>; positionals: string[]; timeoutMs: number } | number;

/**
 * The shared prologue of the commands that start a node and read through it: the config flags, the
 * command's own `options`, `--config`, `--timeout-ms` (default 120 s) and `--help`.
 */
export function parseNodeCommand(
  argv: string[],
  command: string,
  usage: string,
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
): NodeCommandArgs {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...configParseArgsOptions(),
        ...options,
        config: { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    printErr(`${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    printOut(usage);
    return 0;
  }
  const timeoutMs = values['timeout-ms'] === undefined ? 120_000 : Number(values['timeout-ms']);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    printErr(`alys-light ${command}: --timeout-ms takes a positive number of milliseconds`);
    return 2;
  }
  return { values, positionals, timeoutMs };
}

export async function queryCommand(argv: string[]): Promise<number> {
  const parsed = parseNodeCommand(argv, 'query balance', QUERY_USAGE, { at: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals, timeoutMs } = parsed;
  const [what, address, extra] = positionals;
  if (what !== 'balance' || address === undefined || extra !== undefined) {
    printErr(QUERY_USAGE);
    return 2;
  }
  if (!ADDRESS.test(address)) {
    printErr(`alys-light query balance: ${JSON.stringify(address)} is not an address (0x and 40 hex digits)`);
    return 2;
  }
  const at = typeof values.at === 'string' ? values.at : 'latest';
  let tag: string;
  if (at === 'latest' || at === 'safe' || at === 'finalized') tag = at;
  else if (/^\d+$/.test(at)) tag = toQuantity(BigInt(at));
  else {
    printErr(
      `alys-light query balance: --at takes latest, safe, finalized or a block number, not ${JSON.stringify(at)}`,
    );
    return 2;
  }

  const n = await createCliNode(values);
  if (n === 2) return 2;
  try {
    await startAndCatchUp(n, timeoutMs, 'query');
    // pin one verified block, then read the balance at exactly that block
    const block = (await n.provider.request({ method: 'eth_getBlockByNumber', params: [tag, false] })) as {
      number: string;
      hash: string;
    } | null;
    if (!block) throw new Error(`no verified block for ${at} yet`);
    const balance = (await n.provider.request({ method: 'eth_getBalance', params: [address, block.number] })) as string;
    printOut(
      toJson({
        query: 'balance',
        address: address.toLowerCase(),
        balance: BigInt(balance).toString(),
        block: { number: Number(BigInt(block.number)), hash: block.hash },
        verified: true,
        mode: n.config.config.mode,
      }),
    );
    return 0;
  } catch (e) {
    const err = e as Error & { code?: number; data?: unknown };
    printOut(
      toJson({
        query: 'balance',
        address: address.toLowerCase(),
        verified: false,
        error: err.message.split('\n')[0],
        ...(err.code !== undefined ? { code: err.code } : {}),
        ...(err.data !== undefined ? { data: err.data } : {}),
      }),
    );
    return 1;
  } finally {
    await n.stop();
  }
}

/** The light node from the config flags (not started); a config error is printed and returned as exit code 2. */
export async function createCliNode(values: Record<string, unknown>): Promise<LightNode | 2> {
  try {
    const resolved = await loadNodeConfig({ flags: values as FlagValues });
    const spec = await loadChainSpec(resolved.config);
    return createLightNodeFrom({ spec, config: resolved, platform: createNodePlatform(resolved.config) });
  } catch (e) {
    if (e instanceof ConfigBaseError) {
      printErr(e.message);
      return 2;
    }
    throw e;
  }
}

/** Start the node and wait until it has caught up, at most `timeoutMs` (past it, say so on stderr and go on). */
export async function startAndCatchUp(n: LightNode, timeoutMs: number, command: string): Promise<void> {
  const synced = new Promise<void>((resolve) =>
    n.on('sync', (s) => s.phase === 'following' && s.current >= s.target && resolve()),
  );
  await n.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    synced.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    const s = await n.status();
    printErr(
      `alys-light ${command}: not caught up after ${timeoutMs} ms (at ${s.sync?.current ?? 0} of ${s.sync?.target ?? '?'}); answering from the verified head ${s.head?.number ?? '-'}`,
    );
  }
}
