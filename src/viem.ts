/**
 * alys-light/viem: the light node in viem's terms.
 *
 *   import { createPublicClient, createWalletClient } from 'viem';
 *   import { alysDev, lightNode, waitForVerifiedReceipt } from 'alys-light/viem';
 *   const client = createPublicClient({ chain: alysDev, transport: lightNode(node) }); // verified reads
 *   const wallet = createWalletClient({ account, chain: alysDev, transport: lightNode(node) });
 *   const hash = await wallet.sendTransaction({ to, value });   // needs passThrough: ['eth_sendRawTransaction'], ...
 *   const receipt = await waitForVerifiedReceipt(node, hash, { timeout: 60_000 });
 *
 * - `alysDev`, `alysTestnet`: `defineChain` definitions from the shipped chain specs (id, block time) and
 *   the config's default EVM RPC; `alysChain(node)` is the node's own chain with its configured `evmRpc`.
 * - `lightNode(node | provider)`: a viem transport over the node's EIP-1193 provider (verified answers;
 *   anything unverifiable rejects with 4200 unless allow-listed in `passThrough`, so sending a transaction
 *   is the caller's choice: `eth_sendRawTransaction` and what a wallet client asks first, such as
 *   `eth_estimateGas`, `eth_gasPrice`/`eth_maxPriorityFeePerGas`).
 * - `waitForVerifiedReceipt`: the receipt once it is in a verified block, asked again on each new
 *   verified head (a `newHeads` subscription), never by polling the endpoint on a timer.
 */
import {
  custom,
  defineChain,
  formatTransactionReceipt,
  type Chain,
  type CustomTransport,
  type CustomTransportConfig,
  type Hash,
  type TransactionReceipt,
} from 'viem';
import { getChainSpec } from './protocol/chainspec.js';
import type { ChainSpec } from './protocol/types.js';
import type { Eip1193Provider } from './node/engine/provider.js';
import { LightNodeError } from './node/errors.js';
import type { LightNode } from './node/types.js';

/** The config's default EVM JSON-RPC (a local devnet or node). */
const DEFAULT_EVM_RPC = 'http://127.0.0.1:8545';

/** Alys's native currency: BTC bridged 1:1, with 18 decimals on the EVM side. */
const NATIVE_CURRENCY = { name: 'Bitcoin', symbol: 'BTC', decimals: 18 } as const;

/** A viem chain for an Alys chain spec, with these EVM RPC URLs. */
export function defineAlysChain(
  spec: Pick<ChainSpec, 'chainId' | 'slotDuration'>,
  name: string,
  evmRpc: readonly string[],
): Chain {
  return defineChain({
    id: spec.chainId,
    name,
    nativeCurrency: NATIVE_CURRENCY,
    rpcUrls: { default: { http: [...evmRpc] } },
    blockTime: spec.slotDuration,
  });
}

/** Alys dev (`--dev`, the built-in DEV spec; chain id 121212). */
export const alysDev = /*#__PURE__*/ defineAlysChain(getChainSpec('dev'), 'Alys Dev', [DEFAULT_EVM_RPC]);

/** Alys testnet (the shipped testnet spec). Give the RPC you use with `defineAlysChain` or `alysChain(node)`. */
export const alysTestnet = /*#__PURE__*/ defineAlysChain(getChainSpec('testnet'), 'Alys Testnet', [DEFAULT_EVM_RPC]);

/** The node's chain: its spec's chain id and block time, its configured `evmRpc`. */
export function alysChain(node: LightNode, name = `Alys ${node.spec.chainId}`): Chain {
  return defineAlysChain(node.spec, name, node.config.config.evmRpc);
}

/** A LightNode (its `provider`) or an EIP-1193 provider made by this library. */
export type LightNodeSource = LightNode | Eip1193Provider;

function providerOf(source: LightNodeSource): Eip1193Provider {
  return 'provider' in source ? source.provider : source;
}

/**
 * A viem transport over the light node's verified provider. `retryCount` defaults to 0: the reads
 * already fail over across the EVM endpoints, and a refusal (4200) or a lie (-32002) does not improve
 * by asking again at once.
 */
export function lightNode(source: LightNodeSource, config: CustomTransportConfig = {}): CustomTransport {
  const provider = providerOf(source);
  return custom(provider, { key: 'lightNode', name: 'Alys light node', retryCount: 0, ...config });
}

export interface WaitForVerifiedReceiptOptions {
  /** Give up after this many ms (default 60,000): LightNodeError `receipt-timeout`. */
  timeout?: number;
}

interface SubscriptionMessage {
  type?: unknown;
  data?: { subscription?: unknown };
}

/**
 * Resolves with the transaction's receipt once it is in a verified block (viem's formatted
 * `TransactionReceipt`). The verified `eth_getTransactionReceipt` is asked now and again on each new
 * verified head; errors of those reads (an endpoint that lied, none reachable) do not end the wait, the
 * last one is the cause of the timeout error.
 */
export async function waitForVerifiedReceipt(
  source: LightNodeSource,
  hash: Hash,
  options: WaitForVerifiedReceiptOptions = {},
): Promise<TransactionReceipt> {
  const provider = providerOf(source);
  const timeout = options.timeout ?? 60_000;
  let subscription: unknown;
  let lastError: unknown;
  let checking = false;
  let again = false;
  let settled = false;
  return new Promise<TransactionReceipt>((resolve, reject) => {
    const finish = (end: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      provider.removeListener('message', onMessage);
      if (subscription !== undefined)
        provider.request({ method: 'eth_unsubscribe', params: [subscription] }).catch(() => {});
      end();
    };
    const check = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        const r = await provider.request({ method: 'eth_getTransactionReceipt', params: [hash] });
        if (r !== null && r !== undefined) finish(() => resolve(formatTransactionReceipt(r as never)));
      } catch (e) {
        lastError = e;
      } finally {
        checking = false;
      }
      if (again && !settled) {
        again = false;
        await check();
      }
    };
    function onMessage(m: unknown): void {
      const msg = m as SubscriptionMessage;
      if (msg?.type === 'eth_subscription' && msg.data?.subscription === subscription) void check();
    }
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new LightNodeError('receipt-timeout', `no verified receipt for ${hash} within ${timeout} ms`, {
              ...(lastError === undefined ? {} : { cause: lastError }),
              hint: 'the transaction may not be mined yet, or the node may not be following the chain (node.status())',
            }),
          ),
        ),
      timeout,
    );
    provider.on('message', onMessage);
    provider
      .request({ method: 'eth_subscribe', params: ['newHeads'] })
      .then((id) => {
        subscription = id;
        if (settled) provider.request({ method: 'eth_unsubscribe', params: [id] }).catch(() => {});
        return check();
      })
      .catch((e: unknown) => finish(() => reject(e)));
  });
}
