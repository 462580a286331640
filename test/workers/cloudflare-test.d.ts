/** The part of `cloudflare:test` (@cloudflare/vitest-pool-workers) these suites use, typed without workers-types. */
declare module 'cloudflare:test' {
  import type { DurableObjectStorageLike } from '../../src/platform/workerd/storage-do.js';

  /** The Worker of wrangler.toml's `main`, running in the tests' isolate. */
  export const SELF: { fetch(input: string | Request | URL, init?: RequestInit): Promise<Response> };

  export interface DurableObjectStubLike {
    fetch(input: string | Request | URL, init?: RequestInit): Promise<Response>;
  }
  export interface DurableObjectNamespaceLike {
    idFromName(name: string): unknown;
    get(id: unknown): DurableObjectStubLike;
  }
  export interface DurableObjectStateLike {
    storage: DurableObjectStorageLike & {
      getAlarm(): Promise<number | null>;
      setAlarm(at: number): Promise<void>;
      deleteAll(): Promise<void>;
    };
  }
  /** The Worker's bindings (wrangler.toml). */
  export const env: { ALYS_NODE: DurableObjectNamespaceLike } & Record<string, unknown>;
  /** Run `callback` inside the object behind `stub` (its instance and state). */
  export function runInDurableObject<O, R>(
    stub: DurableObjectStubLike,
    callback: (instance: O, state: DurableObjectStateLike) => R | Promise<R>,
  ): Promise<R>;
  /** Run the object's scheduled alarm now (true if one was scheduled). */
  export function runDurableObjectAlarm(stub: DurableObjectStubLike): Promise<boolean>;
  /** Reset every Durable Object instance (their storage stays). */
  export function abortAllDurableObjects(): Promise<void>;
}
