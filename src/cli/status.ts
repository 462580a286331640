/**
 * `alys-light status`: the state of a light node, as one JSON line.
 *
 * - A running node: `GET <url>/status` (the URL from --url, or 127.0.0.1:<metricsPort> from the
 *   config): head, finalized, sync progress, source scores, actor health.
 * - Otherwise the stored state in the data dir (LevelDB): the verified head and finalized block the
 *   next start resumes from, after the same integrity checks a warm start does.
 */
import { parseArgs } from 'node:util';
import { ConfigBaseError, configParseArgsOptions, type FlagValues } from '../config/index.js';
import { loadChainSpec, loadNodeConfig } from '../config/nodejs/index.js';
import { BlockStore } from '../node/storage/block-store.js';
import type { KvStore } from '../node/storage/kv.js';
import { chainDataDir } from '../platform/nodejs/platform.js';
import { openLevelStore } from '../platform/nodejs/storage-level.js';
import { toJson } from './serve-status.js';

export const STATUS_USAGE = `usage: alys-light status [--url http://127.0.0.1:<metrics-port>] [--config <file>] [--network ...] [--data-dir <dir>] [--mode ...]

Prints one JSON line: the running node's status (from --url or the configured metrics port), or
the verified state stored in the data dir. Exit 0 with a status, 1 when there is none.`;

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
    console.error(`${(e as Error).message}\n\n${STATUS_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(STATUS_USAGE);
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
        console.log(toJson({ source: 'running node', url, ...live }));
        return 0;
      } catch (e) {
        if (typeof values.url === 'string') {
          console.error(`alys-light status: no node answers at ${url}/status (${(e as Error).message})`);
          return 1;
        }
        // the configured port is not served: fall back to the stored state
      }
    }
    if (config.storage !== 'level') {
      console.error(`alys-light status: storage is ${config.storage}; only a running node has a status (pass --url)`);
      return 1;
    }
    const spec = await loadChainSpec(config);
    const dir = chainDataDir(config.dataDir!, spec, config.mode);
    let kv: KvStore;
    try {
      kv = await openLevelStore(dir);
    } catch (e) {
      console.error(
        `alys-light status: cannot open ${dir}: ${(e as Error).message.split('\n')[0]} (a running node holds it: query it with --url)`,
      );
      return 1;
    }
    try {
      const loaded = await new BlockStore(kv, { chainId: spec.chainId, mode: config.mode }).load();
      const base = { source: 'storage', running: false, chainId: spec.chainId, mode: config.mode, dataDir: dir };
      if (loaded.kind === 'empty') console.log(toJson({ ...base, stored: 'empty', head: null, finalized: null }));
      else if (loaded.kind === 'corrupt')
        console.log(toJson({ ...base, stored: 'corrupt', reason: loaded.reason, head: null, finalized: null }));
      else {
        const m = loaded.meta;
        const fin = m.snapshot.finality.lastFinalized;
        console.log(
          toJson({
            ...base,
            stored: 'ok',
            head: { number: m.head.number, hash: m.head.hash },
            finalized: { number: fin.blockNumber, hash: fin.hash },
          }),
        );
      }
      return loaded.kind === 'ok' ? 0 : 1;
    } finally {
      await kv.close();
    }
  } catch (e) {
    if (e instanceof ConfigBaseError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
}
