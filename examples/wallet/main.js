/**
 * The example wallet (issue 14 item 6): a light node in the page, viem on top of its EIP-1193 provider.
 * Every number shown is verified by the node against Alys consensus; only the transfer itself is
 * forwarded unverified (`passThrough: ['eth_sendRawTransaction']`), and its receipt is read back verified.
 *
 * Configuration: `devnet.json` next to the page (or `?config=<url>`):
 *   { "chainSpec": {...}, "rpc": ["http://..."], "evmRpc": ["http://..."],
 *     "account": { "address": "0x...", "privateKey": "0x..." } }   // a devnet dev key, never a real one
 * `?address=0x...` shows another address (sending stays from the dev account).
 */
import { createLightNode } from 'alys-light';
import { parseChainSpecJson } from 'alys-light/protocol';
import { createPublicClient, createWalletClient, custom, parseEther } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const $ = (id) => document.getElementById(id);
const show = (id, text) => {
  $(id).textContent = String(text);
};
const fail = (e) => show('error', e instanceof Error ? `${e.name}: ${e.message}` : String(e));

const query = new URLSearchParams(location.search);
const config = await (await fetch(query.get('config') ?? './devnet.json')).json();
const account = privateKeyToAccount(config.account.privateKey);
const address = query.get('address') ?? account.address;
show('address', address);

const node = createLightNode({
  chainSpec: parseChainSpecJson(JSON.stringify(config.chainSpec)),
  rpc: config.rpc,
  evmRpc: config.evmRpc,
  passThrough: ['eth_sendRawTransaction'],
});
const transport = custom(node.provider);
const client = createPublicClient({ transport });
const wallet = createWalletClient({ account, transport });

// ------------------------------------------------------------------ hooks for what is still to land
// TODO(issue 14 items 3 and 4): the two features below wait for verified eth_call and eth_subscribe in the
// provider; this is the one place to change when they land.
// - tokenBalance: `client.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [address] })`
//   (a verified eth_call), shown in #token-balance; needs the token's address in devnet.json.
// - watchHeads: `client.watchBlocks({ onBlock })` over an eth_subscribe('newHeads') subscription instead of
//   the node's own 'head' event.
const hooks = {
  /** The ERC-20 balance to show, or undefined while the provider refuses eth_call. */
  tokenBalance: async () => undefined,
  /** Calls `onHead({ number, hash })` for every verified head. */
  watchHeads: (onHead) => node.on('head', (h) => onHead({ number: h.number, hash: h.hash })),
};
// ------------------------------------------------------------------

let pendingTx;

async function refresh(head) {
  show('status', 'light node running: following verified heads');
  show('head-number', head.number);
  show('head-hash', head.hash);
  const [balance, token] = await Promise.all([
    client.getBalance({ address, blockNumber: BigInt(head.number) }),
    hooks.tokenBalance(),
  ]);
  show('balance', balance);
  show('balance-block', head.number);
  if (token !== undefined) show('token-balance', token);
  if (pendingTx) {
    const receipt = await client.getTransactionReceipt({ hash: pendingTx }).catch(() => undefined);
    if (receipt) {
      show('tx-status', `landed in block ${receipt.blockNumber} (${receipt.status})`);
      pendingTx = undefined;
    }
  }
}

/** One refresh at a time; a head that arrives meanwhile is shown right after. */
let latest;
let running = false;
function onHead(head) {
  latest = head;
  if (running) return;
  running = true;
  void (async () => {
    while (latest) {
      const h = latest;
      latest = undefined;
      await refresh(h).catch(fail);
    }
    running = false;
  })();
}

async function send(event) {
  event.preventDefault();
  show('error', '');
  // every field given, so viem asks the provider only what it verifies (nonce, the base fee)
  const [nonce, block] = await Promise.all([
    client.getTransactionCount({ address: account.address, blockTag: 'latest' }),
    client.getBlock({ blockTag: 'latest' }),
  ]);
  const maxPriorityFeePerGas = 1_000_000_000n;
  const hash = await wallet.sendTransaction({
    chain: null,
    to: $('to').value,
    value: parseEther($('amount').value),
    gas: 21_000n,
    nonce,
    maxPriorityFeePerGas,
    maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + maxPriorityFeePerGas,
  });
  pendingTx = hash;
  show('tx', hash);
  show('tx-status', 'sent, waiting for a verified receipt');
}

hooks.watchHeads(onHead);
$('send').addEventListener('submit', (e) => send(e).catch(fail));
await node.start();
show('status', 'light node running: waiting for the first verified head');
document.querySelector('#send button').disabled = false;
