/**
 * Spawn anvil (foundry 1.7.1, from the pinned npm package) on a free loopback port for comparison
 * tests: Shanghai, our chain id, our gas limit and genesis base fee, no default accounts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { listenLocal } from '../../../src/platform/nodejs/http.js';

const require = createRequire(import.meta.url);

export function anvilBinary(): string {
  return join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
}

/** A port that was free a moment ago (anvil cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const probe = await listenLocal(() => {});
  await probe.close();
  return probe.port;
}

export interface Anvil {
  url: string;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** the raw JSON-RPC response object */
  raw(
    method: string,
    params?: unknown[],
  ): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }>;
  stop(): Promise<void>;
}

export async function startAnvil(opts: { chainId: bigint; baseFee: bigint; gasLimit: bigint }): Promise<Anvil> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      anvilBinary(),
      [
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--chain-id',
        opts.chainId.toString(),
        '--hardfork',
        'shanghai',
        '--block-base-fee-per-gas',
        opts.baseFee.toString(),
        '--gas-limit',
        opts.gasLimit.toString(),
        '--accounts',
        '0',
        '--silent',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    let id = 1;
    const raw = async (method: string, params: unknown[] = []) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: id++, method, params }),
      });
      return (await res.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    };
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const r = await raw('eth_chainId');
        if (r.result !== undefined)
          return {
            url,
            raw,
            stop,
            async rpc<T>(method: string, params: unknown[] = []): Promise<T> {
              const res = await raw(method, params);
              if (res.error !== undefined) throw new Error(`anvil ${method}: ${res.error.code} ${res.error.message}`);
              return res.result as T;
            },
          };
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    lastError = new Error(`anvil did not start on port ${port}: ${stderr.slice(0, 500)}`);
    await stop();
  }
  throw lastError;
}
