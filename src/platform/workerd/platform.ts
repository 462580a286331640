/**
 * The light node's Cloudflare Workers platform (a Durable Object, workers/edge/node/): the store is the
 * object's SQLite storage (storage-do.ts), one table per mode; verifiers run in-process (no
 * worker_threads, no Web Workers in workerd); the runtime's fetch. No Node globals.
 */
import type { LightNodePlatform } from '../../node/types.js';
import { createMemoryStore } from '../../node/storage/memory.js';
import { openDurableObjectStore, type DurableObjectStorageLike } from './storage-do.js';

export interface WorkerdPlatformOptions {
  /** The Durable Object's `ctx.storage` (a SQLite-backed class). */
  storage: DurableObjectStorageLike;
}

/** The table of the node's store for a mode (`pow-checkpoint` -> `alys_node_pow_checkpoint`). */
export function nodeTableName(mode: string): string {
  return `alys_node_${mode.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export function createWorkerdPlatform(options: WorkerdPlatformOptions): LightNodePlatform {
  return {
    // `storage` other than memory (the browser runtime's default `indexeddb` included) is the object's storage
    openStore: async (_spec, config) =>
      config.storage === 'memory'
        ? createMemoryStore()
        : openDurableObjectStore(options.storage, nodeTableName(config.mode)),
  };
}
