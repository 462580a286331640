/**
 * The example wallet (issue 14 item 6): a light node in the page, viem on top of it through
 * `alys-light/viem`. Every number shown is verified by the node against Alys consensus: the balance
 * (a proof against the verified state root), the ERC-20 token balance (a verified `eth_call`: the EVM
 * runs locally on proven state) and the head (an `eth_subscribe('newHeads')` subscription, which
 * delivers every verified block in order, without gaps). Only the transfer itself is forwarded
 * unverified (`passThrough: ['eth_sendRawTransaction']`); `waitForVerifiedReceipt` waits until its
 * receipt is in a verified block.
 *
 * Configuration: `devnet.json` next to the page (or `?config=<url>`):
 *   { "chainSpec": {...}, "rpc": ["http://..."], "evmRpc": ["http://..."],
 *     "token": "0x...",                                                  // optional: an ERC-20 to show
 *     "account": { "address": "0x...", "privateKey": "0x..." } }       // optional: a devnet dev key, never a real one
 * `?address=0x...` shows another address (sending stays from the dev account); without `account` the
 * page is read-only.
 */
import { createLightNode } from 'alys-light';
import { alysChain, lightNode, waitForVerifiedReceipt } from 'alys-light/viem';
import { createPublicClient, createWalletClient, erc20Abi, parseEther, parseUnits } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const $ = (id) => document.getElementById(id);
const show = (id, text) => {
  $(id).textContent = String(text);
};
const fail = (e) => show('error', e instanceof Error ? `${e.name}: ${e.message}` : String(e));

const query = new URLSearchParams(location.search);
const config = await (await fetch(query.get('config') ?? './devnet.json')).json();
const account = config.account ? privateKeyToAccount(config.account.privateKey) : undefined;
const address = query.get('address') ?? account?.address;
if (!address) throw new Error('no address: give ?address=0x... or an account in the config');
show('address', address);

const node = createLightNode({
  // the spec as JSON text: the node worker checks its keys (no curve code on the page)
  chainSpec: JSON.stringify(config.chainSpec),
  rpc: config.rpc,
  evmRpc: config.evmRpc,
  passThrough: ['eth_sendRawTransaction'],
});
// the node's chain (its chain id and block time, the configured EVM RPC) and a transport over its provider
const chain = alysChain(node, 'Alys devnet');
const client = createPublicClient({ chain, transport: lightNode(node) });
const wallet = account && createWalletClient({ account, chain, transport: lightNode(node) });
const token = config.token;

/** The balance and (with a token) the token balance at one verified block, read together. */
async function balances(blockNumber) {
  const [balance, tokenBalance] = await Promise.all([
    client.getBalance({ address, blockNumber }),
    token &&
      client.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [address], blockNumber }),
  ]);
  return { balance, tokenBalance };
}

async function refresh(head) {
  show('status', 'light node running: following verified heads');
  show('head-number', head.number);
  show('head-hash', head.hash);
  const { balance, tokenBalance } = await balances(head.number);
  show('balance', balance);
  if (tokenBalance !== undefined) show('token-balance', tokenBalance);
  show('balance-block', head.number);
}

/** One refresh at a time; a head that arrives meanwhile is shown right after. */
let latest;
let running = false;
function refreshSoon(head) {
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

/** The last verified heads, newest first: each one the subscription delivered, none skipped. */
const RECENT = 16;
function listHead(head) {
  const li = document.createElement('li');
  li.dataset.number = String(head.number);
  li.dataset.hash = head.hash;
  li.textContent = `#${head.number} ${head.hash}`;
  $('heads').prepend(li);
  while ($('heads').children.length > RECENT) $('heads').lastElementChild.remove();
}

// the live verified head: an EIP-1193 subscription (`message` events), every verified block in order
const subscription = await node.provider.request({ method: 'eth_subscribe', params: ['newHeads'] });
node.provider.on('message', (message) => {
  if (message.type !== 'eth_subscription' || message.data.subscription !== subscription) return;
  try {
    const head = { number: BigInt(message.data.result.number), hash: message.data.result.hash };
    listHead(head);
    refreshSoon(head);
  } catch (e) {
    fail(e); // the provider swallows a listener's errors: show them
  }
});

async function send(event) {
  event.preventDefault();
  show('error', '');
  const to = $('to').value;
  const isToken = $('asset').value === 'token';
  const amount = isToken
    ? parseUnits(
        $('amount').value,
        await client.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' }),
      )
    : parseEther($('amount').value);
  const transfer = { address: token, abi: erc20Abi, functionName: 'transfer', args: [to, amount] };
  // every field given, so viem asks the provider only what it verifies (the nonce, the base fee, the gas)
  const [nonce, block, gas] = await Promise.all([
    client.getTransactionCount({ address: account.address, blockTag: 'latest' }),
    client.getBlock({ blockTag: 'latest' }),
    // a verified eth_estimateGas; the address, not the local account, or viem first fills in fees (unverifiable)
    isToken ? client.estimateContractGas({ account: account.address, ...transfer }) : 21_000n,
  ]);
  const maxPriorityFeePerGas = 1_000_000_000n;
  const fields = {
    nonce,
    gas,
    maxPriorityFeePerGas,
    maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + maxPriorityFeePerGas,
  };
  const hash = isToken
    ? await wallet.writeContract({ ...transfer, ...fields })
    : await wallet.sendTransaction({ to, value: amount, ...fields });
  show('tx', hash);
  show('tx-status', 'sent, waiting for a verified receipt');
  const receipt = await waitForVerifiedReceipt(node, hash, { timeout: 120_000 });
  show('tx-status', `landed in block ${receipt.blockNumber} (${receipt.status})`);
}

if (!token) {
  show('token-balance', 'no token configured (`token` in the config)');
  $('asset').querySelector('option[value=token]').disabled = true;
}
$('send').addEventListener('submit', (e) => send(e).catch(fail));
await node.start();
if ($('head-number').textContent === '-') show('status', 'light node running: waiting for the first verified head');
if (wallet) document.querySelector('#send button').disabled = false;
