/**
 * `alys-light peg status <txid|hash|address>` and `alys-light peg watch [<key>...]`: where a peg-in or
 * peg-out stands (spec 6.5, docs/pegs.md), from the node's verified evidence. Both start the light node
 * (a warm start from the data dir when there is one; the tracked pegs resume from its store), catch up,
 * and ask `node.bridge`. `status` prints one JSON line and exits (0 answered, 1 could not answer, 2 bad
 * input); `watch` prints one JSON line per tracked key, then one per `peg` event until SIGINT/SIGTERM,
 * asking about its keys again every `--interval-ms` (each question makes the node look at Bitcoin).
 * The Bitcoin source is `--esplora <url>` (repeatable; the same as `--bitcoin-esplora`) or the config.
 */
import type { LightNode, PegEvent, PegView } from '../node/public.js';
import { createCliNode, parseNodeCommand, startAndCatchUp } from './query.js';
import { toJson } from './serve-status.js';
import { printErr, printOut } from './term-safe.js';

export const PEG_USAGE = `usage: alys-light peg status <btc-txid | 0xevm-tx-hash | 0xevm-address> [--esplora <url>]... [--timeout-ms <ms>] [config flags, as for run]
       alys-light peg watch [<btc-txid | 0xevm-tx-hash | 0xevm-address>...] [--interval-ms <ms>] [--esplora <url>]... [config flags]

status: syncs (warm start from --data-dir), tracks the key if it is new, prints
  {"peg":"status","key","pegs":[{"kind":"in"|"out","txid"|"evmTxHash","state":{"state",...}}]}
  (a txid or hash names one peg; an address every peg it minted to or requested).
watch: prints {"peg":"status",...} per key, then {"peg":"event","previous","view"} per state change
  of any tracked peg, until interrupted (SIGINT/SIGTERM: exit 0).
States (spec 6.5): peg-in broadcast (unverified) > confirming k/N > eligible > minted > finalized, or invalid;
peg-out requested > proposed > finalized-on-alys > broadcast > confirmed k, or ignored (below 0.01 BTC: burned, never paid).
Needs a Bitcoin source: --esplora <url> (= --bitcoin-esplora) or bitcoin.esplora in the config.`;

/** A Bitcoin txid (64 hex), an EVM tx hash (0x + 64 hex) or an EVM address (0x + 40 hex). */
const KEY = /^(0x[0-9a-fA-F]{40}|0x[0-9a-fA-F]{64}|[0-9a-fA-F]{64})$/;
const MAX_WATCHED = 64;

type Parsed = { values: Record<string, unknown>; keys: string[]; timeoutMs: number; intervalMs: number };

/** The arguments of `peg status|watch`; a number is the exit code (usage or a problem printed). */
function parsePeg(argv: string[], sub: 'status' | 'watch'): Parsed | number {
  const parsed = parseNodeCommand(argv, `peg ${sub}`, PEG_USAGE, {
    esplora: { type: 'string', multiple: true },
    'interval-ms': { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals, timeoutMs } = parsed;
  const keys = positionals;
  if ((sub === 'status' && keys.length !== 1) || keys.length > MAX_WATCHED) return usage();
  const bad = keys.find((k) => !KEY.test(k));
  if (bad !== undefined) {
    printErr(
      `alys-light peg ${sub}: ${JSON.stringify(bad.slice(0, 80))} is not a Bitcoin txid (64 hex digits), an EVM transaction hash or an EVM address`,
    );
    return 2;
  }
  const intervalMs = values['interval-ms'] === undefined ? 10_000 : Number(values['interval-ms']);
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 100) {
    printErr(`alys-light peg ${sub}: --interval-ms takes a number of milliseconds (at least 100)`);
    return 2;
  }
  const esplora = values.esplora as string[] | undefined;
  const flags = { ...values };
  delete flags.esplora;
  delete flags['interval-ms'];
  if (esplora) flags['bitcoin-esplora'] = [...((flags['bitcoin-esplora'] as string[] | undefined) ?? []), ...esplora];
  return { values: flags, keys, timeoutMs, intervalMs };
}

function usage(): number {
  printErr(PEG_USAGE);
  return 2;
}

/** `signal`: stop a `watch` as SIGINT/SIGTERM would (in-process callers and tests). */
export async function pegCommand(argv: string[], opts: { signal?: AbortSignal } = {}): Promise<number> {
  const sub = argv[0];
  if (sub === '--help' || sub === '-h') {
    printOut(PEG_USAGE);
    return 0;
  }
  if (sub !== 'status' && sub !== 'watch') return usage();
  const parsed = parsePeg(argv.slice(1), sub);
  if (typeof parsed === 'number') return parsed;
  const n = await createCliNode(parsed.values);
  if (n === 2) return 2;
  try {
    await startAndCatchUp(n, parsed.timeoutMs, `peg ${sub}`);
    if (sub === 'status') return await status(n, parsed.keys[0]!);
    return await watch(n, parsed, opts.signal);
  } finally {
    await n.stop();
  }
}

const statusLine = (key: string, pegs: PegView[]) => toJson({ peg: 'status', key: key.toLowerCase(), pegs });

/** One answer; a typed error (no Bitcoin source, a full tracker) is printed as {error, code} with exit 1. */
async function status(n: LightNode, key: string): Promise<number> {
  try {
    printOut(statusLine(key, await n.bridge.pegStatus(key)));
    return 0;
  } catch (e) {
    printOut(errorLine(key, e));
    return 1;
  }
}

function errorLine(key: string, e: unknown): string {
  const err = e as Error & { code?: unknown };
  return toJson({
    peg: 'status',
    key: key.toLowerCase(),
    error: err.message.split('\n')[0],
    ...(err.code !== undefined ? { code: err.code } : {}),
  });
}

/** Events until SIGINT/SIGTERM; the keys asked about again every `intervalMs`. */
async function watch(n: LightNode, p: Parsed, signal: AbortSignal | undefined): Promise<number> {
  const off = n.on('peg', (e: PegEvent) => printOut(toJson({ peg: 'event', previous: e.previous, view: e.peg })));
  const ask = async () => {
    for (const key of p.keys) {
      try {
        await n.bridge.pegStatus(key);
      } catch (e) {
        printOut(errorLine(key, e));
      }
    }
  };
  for (const key of p.keys) await status(n, key);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let stop = () => {};
  await new Promise<void>((resolve) => {
    stop = () => {
      stopped = true;
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    const again = () => {
      if (!stopped) timer = setTimeout(() => void ask().finally(again), p.intervalMs);
    };
    again();
  });
  clearTimeout(timer);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  signal?.removeEventListener('abort', stop);
  off();
  return 0;
}
