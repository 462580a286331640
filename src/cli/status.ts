/**
 * `alys-light status`: the state of a light node, as one JSON line.
 *
 * - A running node: `GET <url>/status` (the URL from --url, or 127.0.0.1:<metricsPort> from the
 *   config): head, finalized, historyFrom, sync progress, source scores, actor health.
 * - Otherwise the stored state in the data dir (LevelDB) of the configured chain spec: the verified
 *   head and finalized block the next start resumes from and the lowest block of verified history
 *   stored (`historyFrom`; a head-first start backfills below it), after the same integrity checks a warm
 *   start does (the records, the window's hash links, the head's approvals). A store made under
 *   another spec reports `stored: "other-spec"` and is left as it is (a `run` sets it aside).
 */
import { parseArgs } from 'node:util';
import { ConfigBaseError, configParseArgsOptions, type FlagValues } from '../config/index.js';
import { loadChainSpec, loadNodeConfig } from '../config/nodejs/index.js';
import { BlockStore, storedHeadProblem, type LoadResult } from '../node/storage/block-store.js';
import { prepareAuthorities } from '../protocol/approvals.js';
import { createBlsBackend } from '../protocol/bls/index.js';
import { shortSpecFingerprint, specFingerprint } from '../protocol/spec-fingerprint.js';
import type { ChainSpec } from '../protocol/types.js';
import type { KvStore } from '../node/storage/kv.js';
import { chainDataDir } from '../platform/nodejs/platform.js';
import { openLevelStore } from '../platform/nodejs/storage-level.js';
import { toJson } from './serve-status.js';
import { printErr, printOut } from './term-safe.js';

export const STATUS_USAGE = `usage: alys-light status [--url http://127.0.0.1:<metrics-port>] [--config <file>] [--network ...] [--data-dir <dir>] [--mode ...]

Prints one JSON line: the running node's status (from --url or the configured metrics port), or
the verified state stored in the data dir. Exit 0 with a status, 1 when there is none.`;

/** The warm start's BLS check of the stored head (a failing head makes the store `corrupt`). */
async function checkStoredHead(
  loaded: LoadResult,
  spec: ChainSpec,
  bls: Parameters<typeof createBlsBackend>[0],
): Promise<LoadResult> {
  if (loaded.kind !== 'ok') return loaded;
  const backend = await createBlsBackend(bls);
  const problem = storedHeadProblem(loaded.head, {
    authorities: prepareAuthorities(spec.authorities, backend),
    backend,
  });
  return problem ? { kind: 'corrupt', reason: problem } : loaded;
}

export async function statusCommand(argv: string[]): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...configParseArgsOptions(),
        config: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    printErr(`${(e as Error).message}\n\n${STATUS_USAGE}`);
    return 2;
  }
  if (values.help) {
    printOut(STATUS_USAGE);
    return 0;
  }
  try {
    const resolved = await loadNodeConfig({ flags: values as FlagValues });
    const config = resolved.config;
    const url =
      typeof values.url === 'string'
        ? values.url.replace(/\/$/, '')
        : config.metricsPort !== null
          ? `http://127.0.0.1:${config.metricsPort}`
          : null;
    if (url) {
      try {
        const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const live = (await res.json()) as Record<string, unknown>;
        printOut(toJson({ source: 'running node', url, ...live }));
        return 0;
      } catch (e) {
        if (typeof values.url === 'string') {
          printErr(`alys-light status: no node answers at ${url}/status (${(e as Error).message})`);
          return 1;
        }
        // the configured port is not served: fall back to the stored state
      }
    }
    if (config.storage !== 'level') {
      printErr(`alys-light status: storage is ${config.storage}; only a running node has a status (pass --url)`);
      return 1;
    }
    const spec = await loadChainSpec(config);
    const dir = chainDataDir(config.dataDir!, spec, config.mode);
    let kv: KvStore;
    try {
      kv = await openLevelStore(dir);
    } catch (e) {
      printErr(
        `alys-light status: cannot open ${dir}: ${(e as Error).message.split('\n')[0]} (a running node holds it: query it with --url)`,
      );
      return 1;
    }
    try {
      const fingerprint = specFingerprint(spec);
      const stored = await new BlockStore(kv, { chainId: spec.chainId, spec: fingerprint, mode: config.mode }).load();
      const loaded = await checkStoredHead(stored, spec, config.bls);
      const base = {
        source: 'storage',
        running: false,
        chainId: spec.chainId,
        spec: fingerprint,
        mode: config.mode,
        dataDir: dir,
      };
      const none = { head: null, finalized: null, historyFrom: null };
      if (loaded.kind === 'empty') printOut(toJson({ ...base, stored: 'empty', ...none }));
      else if (loaded.kind === 'corrupt')
        printOut(toJson({ ...base, stored: 'corrupt', reason: loaded.reason, ...none }));
      else if (loaded.kind === 'other-spec') {
        const other = loaded.stored;
        const reason = `made under chain ${other.chainId} ${other.spec ? `spec ${shortSpecFingerprint(other.spec)}` : `in an older store format (${other.format ?? 1})`}, not this spec ${shortSpecFingerprint(fingerprint)}`;
        printOut(toJson({ ...base, stored: 'other-spec', reason, ...none }));
      } else {
        const m = loaded.meta;
        const fin = m.snapshot.finality.lastFinalized;
        printOut(
          toJson({
            ...base,
            stored: 'ok',
            head: { number: m.head.number, hash: m.head.hash },
            finalized: { number: fin.blockNumber, hash: fin.hash },
            historyFrom: m.history.from,
          }),
        );
      }
      return loaded.kind === 'ok' ? 0 : 1;
    } finally {
      await kv.close();
    }
  } catch (e) {
    if (e instanceof ConfigBaseError) {
      printErr(e.message);
      return 2;
    }
    throw e;
  }
}
