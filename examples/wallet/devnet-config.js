/**
 * Writes the example's config for a running local devnet (`npm start` in the repository root):
 *
 *   npm run devnet-config -- [where] [--seed alys-devnet] [--user 0] [--out public/devnet.json]
 *
 * `where` is the devnet.json that `npm start` serves for its dashboard (chain spec and endpoints;
 * default http://127.0.0.1:5173/devnet.json) or a file with the same fields. Added: `account`, the
 * devnet's prefunded user (its key derives from the devnet seed, as src/devnet/consensus/keys.ts
 * `devnetAccountKey` does), and `token`, the devnet's predeployed ERC-20 (LoadToken, anyone may mint).
 * Devnet keys only: never put a real key in a page.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256, stringToBytes } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string', default: 'alys-devnet' },
    user: { type: 'string', default: '0' },
    out: { type: 'string', default: 'public/devnet.json' },
  },
});
const where = positionals[0] ?? 'http://127.0.0.1:5173/devnet.json';
/** The devnet's predeployed LoadToken (src/devnet/evm/genesis.ts LOAD_TOKEN_ADDRESS). */
const LOAD_TOKEN = '0x00000000000000000000000000000000000010ad';
/** The secp256k1 group order: a derived key must be below it. */
const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function devnetUserKey(seed, index) {
  for (let attempt = 0; ; attempt++) {
    const key = sha256(stringToBytes(`alys-devnet/${seed}/user/${index}/${attempt}`));
    const n = BigInt(key);
    if (n > 0n && n < ORDER) return key;
  }
}

const base = /^https?:/.test(where) ? await (await fetch(where)).json() : JSON.parse(await readFile(where, 'utf8'));
const privateKey = devnetUserKey(values.seed, Number(values.user));
const { chainSpec, rpc, evmRpc } = base;
const account = { address: privateKeyToAccount(privateKey).address, privateKey };
const config = { chainSpec, rpc, evmRpc, token: base.token ?? LOAD_TOKEN, account };
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(config, null, 2)}\n`);
console.log(`${values.out}: devnet user ${values.user} ${account.address}, token ${config.token}`);
