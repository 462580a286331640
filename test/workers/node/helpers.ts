/** Helpers of the Durable Object suites (inside workerd): the control server of the global setup, the object's routes. */
import { env, type DurableObjectStubLike } from 'cloudflare:test';
import { inject } from 'vitest';

export const setup = () => inject('edgeNode');

/** Call the global setup's control server (setup.ts). */
export async function control<T = any>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${setup().control}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The light node object named `name` (a test's own; the Worker names its object by the spec fingerprint). */
export function nodeObject(name: string): DurableObjectStubLike {
  return env.ALYS_NODE.get(env.ALYS_NODE.idFromName(name));
}

export async function status(stub: DurableObjectStubLike): Promise<any> {
  const res = await stub.fetch('http://node/status');
  if (res.status !== 200) throw new Error(`/status: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

export async function rpc(stub: DurableObjectStubLike, body: unknown): Promise<any> {
  const res = await stub.fetch('http://node/rpc', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return res.status === 204 ? undefined : res.json();
}

/** Poll `probe` until it returns something other than undefined/false (20 s at most). */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
