/**
 * The devnet's control server refuses what a web page could send it (issue 13 item 11c): over real
 * HTTP on 127.0.0.1, a transfer request with a foreign Origin, a cross-site Sec-Fetch-Site or a
 * rebound Host gets 403 and sends nothing; the CLI's own requests (no Origin) and same-origin ones
 * go through.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreignRequestProblem, serveControl } from '../../src/devnet/control.js';
import type { Devnet } from '../../src/devnet/devnet.js';
import { Cleanup, startDevnet } from '../node/helpers.js';

const shared = new Cleanup();
let devnet: Devnet;
let control: { url: string; close(): Promise<void> };
const TO = '0x00000000000000000000000000000000c0ffee02';

beforeAll(async () => {
  devnet = await startDevnet(shared, 'control', { noServers: true });
  control = await serveControl(devnet, 0);
  shared.add(() => control.close());
}, 30_000);
afterAll(() => shared.run(), 30_000);

/** POST `path` with `headers` (Host included when given) over node:http; status and JSON body. */
function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const url = new URL(path, control.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Transactions user 0 has sent (pending included). */
async function sent(): Promise<number> {
  const r = (await devnet.engine.handleRpc({
    jsonrpc: '2.0',
    id: 1,
    method: 'eth_getTransactionCount',
    params: [devnet.users[0]!.address, 'pending'],
  })) as { result: string };
  return Number(BigInt(r.result));
}

const transfer = { to: TO, value: '1000' };

describe('devnet control server: cross-origin requests', () => {
  it('a page on another site (a simple text/plain POST with its Origin) gets 403 and sends nothing', async () => {
    const before = await sent();
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: `http://127.0.0.1:${new URL(control.url).port}.evil.example` },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { host: `evil.example:${new URL(control.url).port}` }, // DNS rebinding: the page's own origin, our address
    ]) {
      const r = await post('/devnet/send/transfer', transfer, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 403 });
      expect(r.json.error).toMatch(/refused/);
    }
    expect(await sent()).toBe(before);
  });

  it('the CLI (no Origin) and same-origin requests are served', async () => {
    const before = await sent();
    const cli = await fetch(`${control.url}/devnet/send/transfer`, { method: 'POST', body: JSON.stringify(transfer) });
    expect(cli.status).toBe(200);
    expect((await cli.json()).hash).toMatch(/^0x[0-9a-f]{64}$/);
    const same = await post('/devnet/info', {}, { origin: control.url, 'sec-fetch-site': 'same-origin' });
    expect(same.status).toBe(200);
    expect(same.json.users).toEqual(devnet.users.map((u) => u.address));
    expect((await post('/devnet/info', {}, { host: `localhost:${new URL(control.url).port}` })).status).toBe(200);
    expect(await sent()).toBe(before + 1);
  });

  it('foreignRequestProblem: the rules as a pure function', () => {
    expect(foreignRequestProblem({ host: '127.0.0.1:3003' }, 3003)).toBeNull();
    expect(foreignRequestProblem({ host: 'LOCALHOST:3003', 'sec-fetch-site': 'none' }, 3003)).toBeNull();
    expect(foreignRequestProblem({ host: '127.0.0.1:3003', origin: 'http://localhost:3003' }, 3003)).toBeNull();
    expect(foreignRequestProblem({ host: '127.0.0.1:3003', origin: 'http://127.0.0.1:3004' }, 3003)).toMatch(
      /cross-origin/,
    );
    expect(foreignRequestProblem({ host: '127.0.0.1:3004' }, 3003)).toMatch(/host/);
  });
});
