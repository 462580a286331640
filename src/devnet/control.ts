/**
 * The devnet's control endpoint (127.0.0.1): the demo/test helper behind `npm run devnet -- send`.
 * The devnet process holds the users' EVM keys and the Bitcoin faucet, so transfers, peg-ins and
 * peg-outs are made here, as real signed transactions on the two chains.
 *
 * Only local tools may use it, not web pages: a page on any site could otherwise POST to
 * 127.0.0.1:3003 (a "simple" cross-origin request needs no preflight) or reach it by DNS rebinding.
 * So a request is refused with 403 when it carries a foreign `Origin`, a `Sec-Fetch-Site` other
 * than same-origin/none, or a `Host` that is not this server's loopback address
 * ({@link foreignRequestProblem}). The CLI's fetch sends none of these, and passes.
 */
import { listenLocal } from '../platform/nodejs/http.js';
import { encodeFunctionData, type Hex as ViemHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { bytesToHex, toHex } from '../protocol/bytes.js';
import type { Hex } from '../protocol/types.js';
import { BRIDGE_ARTIFACT } from './contracts/artifacts.js';
import type { Devnet } from './devnet.js';

export const BRIDGE_ADDRESS = '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB';
const WEI_PER_SAT = 10_000_000_000n;

class BadRequest extends Error {}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined || v === null) throw new BadRequest(`missing ${what}`);
  return v;
}

function bigintOf(v: unknown, what: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return BigInt(v);
  throw new BadRequest(`${what} must be a non-negative integer (number, decimal or 0x string)`);
}

async function rpc(devnet: Devnet, method: string, params: unknown[]): Promise<unknown> {
  const r = (await devnet.engine.handleRpc({ jsonrpc: '2.0', id: 1, method, params })) as {
    result?: unknown;
    error?: { message: string };
  };
  if (r.error) throw new Error(`${method}: ${r.error.message}`);
  return r.result;
}

/** Sign and submit an EIP-1559 transaction from devnet user `userIndex`. */
export async function sendFromUser(
  devnet: Devnet,
  userIndex: number,
  tx: { to: Hex; value: bigint; data?: Hex; gas?: bigint },
): Promise<Hex> {
  const user = devnet.users[userIndex];
  if (!user) throw new BadRequest(`no devnet user ${userIndex} (there are ${devnet.users.length})`);
  const account = privateKeyToAccount(user.privateKey);
  const nonce = BigInt((await rpc(devnet, 'eth_getTransactionCount', [user.address, 'pending'])) as string);
  const base = BigInt(
    ((await rpc(devnet, 'eth_getBlockByNumber', ['latest', false])) as { baseFeePerGas: string }).baseFeePerGas,
  );
  const raw = await account.signTransaction({
    type: 'eip1559',
    chainId: devnet.spec.chainId,
    nonce: Number(nonce),
    to: tx.to as ViemHex,
    value: tx.value,
    ...(tx.data ? { data: tx.data as ViemHex } : {}),
    gas: tx.gas ?? (tx.data ? 200_000n : 21_000n),
    maxFeePerGas: base * 2n + 1_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
  });
  return (await rpc(devnet, 'eth_sendRawTransaction', [raw])) as Hex;
}

/** Bounded whole number from a control body. */
function wholeNumber(v: unknown, what: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max)
    throw new BadRequest(`${what} must be a whole number from ${min} to ${max}`);
  return n;
}

/**
 * `/devnet/governance/change {at, authorities}`: the producer switches to `authorities` new members at `at`,
 * and the governance server pushes the update, signed by the set in force below it.
 */
function governanceChange(devnet: Devnet, body: Record<string, unknown>): unknown {
  const gov = devnet.governance;
  if (!gov) throw new BadRequest('this devnet runs no governance server (started with --no-governance)');
  const head = devnet.chain.height;
  const at = wholeNumber(need(body.at, 'at'), 'at', head + 1, Number.MAX_SAFE_INTEGER);
  const authorities = wholeNumber(need(body.authorities, 'authorities'), 'authorities', 1, 15);
  const last = devnet.authoritySets.changes().at(-1)?.effectiveHeight ?? 0;
  if (at <= last) throw new BadRequest(`at must be above the last change's height (${last})`);
  const { scheduled, pushed } = gov.changeFederation({ effectiveHeight: at, authorities });
  return {
    effectiveHeight: at,
    authorities: scheduled.publicKeys,
    federation: scheduled.members.map((m) => m.feeAddress),
    digest: pushed.digest,
    streams: gov.streams(),
  };
}

export async function handleControl(devnet: Devnet, path: string, body: Record<string, unknown>): Promise<unknown> {
  switch (path) {
    case '/devnet/info':
      return {
        specFile: devnet.specFile,
        urls: devnet.urls,
        depositAddress: devnet.depositAddress,
        users: devnet.users.map((u) => u.address),
        head: { number: devnet.chain.height, hash: devnet.chain.head.hash },
        finalized: devnet.chain.lastFinalized.number,
        bitcoinHeight: devnet.bitcoin.tipHeight(),
      };
    case '/devnet/send/transfer': {
      const to = need(body.to, 'to') as Hex;
      if (!/^0x[0-9a-fA-F]{40}$/.test(to)) throw new BadRequest('to must be an EVM address');
      return {
        hash: await sendFromUser(devnet, Number(body.user ?? 0), {
          to,
          value: bigintOf(need(body.value, 'value'), 'value'),
        }),
      };
    }
    case '/devnet/send/pegin': {
      const to = need(body.to, 'to') as Hex;
      if (!/^0x[0-9a-fA-F]{40}$/.test(to)) throw new BadRequest('to must be the EVM address to mint to');
      const sats = bigintOf(need(body.sats, 'sats'), 'sats');
      const sent = devnet.faucet.pegIn(to, sats, devnet.depositAddress);
      devnet.mineBitcoin(devnet.spec.requiredBtcTxnConfirmations);
      return {
        txid: bytesToHex(sent.txid.slice().reverse()),
        sats: String(sats),
        confirmations: devnet.spec.requiredBtcTxnConfirmations,
      };
    }
    case '/devnet/send/pegout': {
      const to = need(body.to, 'to');
      if (typeof to !== 'string' || to.length > 100) throw new BadRequest('to must be a Bitcoin address');
      const sats = bigintOf(need(body.sats, 'sats'), 'sats');
      const data = encodeFunctionData({
        abi: BRIDGE_ARTIFACT.abi,
        functionName: 'requestPegOut',
        args: [toHex(new TextEncoder().encode(to)) as ViemHex],
      }) as Hex;
      return {
        hash: await sendFromUser(devnet, Number(body.user ?? 0), {
          to: BRIDGE_ADDRESS,
          value: sats * WEI_PER_SAT,
          data,
        }),
      };
    }
    case '/devnet/governance/change':
      return governanceChange(devnet, body);
    case '/devnet/mine-bitcoin': {
      const blocks = Number(bigintOf(body.blocks ?? 1, 'blocks'));
      if (blocks < 1 || blocks > 1000) throw new BadRequest('blocks must be 1..1000');
      devnet.mineBitcoin(blocks);
      return { height: devnet.bitcoin.tipHeight() };
    }
    default:
      throw new BadRequest(`unknown path ${path}`);
  }
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Why a request to the control server at `port` (on loopback) comes from somewhere it must not, or
 * null: a foreign `Origin` (anything but `http://127.0.0.1:<port>` / `http://localhost:<port>`), a
 * cross-site or same-site `Sec-Fetch-Site`, or a `Host` other than those addresses (DNS rebinding).
 */
export function foreignRequestProblem(headers: Headers, port: number): string | null {
  const own = [`127.0.0.1:${port}`, `localhost:${port}`];
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
  const origin = one(headers['origin']);
  if (origin !== undefined && !own.map((h) => `http://${h}`).includes(origin))
    return `cross-origin request from ${JSON.stringify(origin).slice(0, 100)} refused`;
  const site = one(headers['sec-fetch-site']);
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `cross-site request (Sec-Fetch-Site: ${JSON.stringify(site).slice(0, 40)}) refused`;
  const host = one(headers['host']);
  if (host !== undefined && !own.includes(host.toLowerCase()))
    return `request for host ${JSON.stringify(host).slice(0, 100)} refused (only 127.0.0.1:${port} / localhost:${port})`;
  return null;
}

export async function serveControl(devnet: Devnet, port: number): Promise<{ url: string; close(): Promise<void> }> {
  let bound = port;
  const {
    url,
    close,
    port: boundPort,
  } = await listenLocal((req, res) => {
    const refused = foreignRequestProblem(req.headers, bound);
    if (refused !== null) {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: refused }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let status = 200;
      let out: unknown;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? JSON.parse(text) : {};
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new BadRequest('the body must be a JSON object');
        out = await handleControl(devnet, (req.url ?? '/').split('?')[0]!, body as Record<string, unknown>);
      } catch (e) {
        status = e instanceof BadRequest || e instanceof SyntaxError ? 400 : 500;
        out = { error: (e as Error).message };
      }
      const text = JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    });
  }, port);
  bound = boundPort;
  return { url, close };
}
