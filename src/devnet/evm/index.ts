/** The devnet's execution layer (Node only): see engine.ts. */
export {
  createEngine,
  gethTxError,
  type DevnetEngine,
  type EngineOptions,
  type EngineCore,
  type BlockRecord,
  type ReceiptRecord,
  type LogRecord,
  type CallMessage,
} from './engine.js';
export {
  DEFAULT_CHAIN_ID,
  DEFAULT_GAS_LIMIT,
  DEFAULT_GENESIS_EXTRA_DATA,
  DEFAULT_GENESIS_TIMESTAMP,
  GENESIS_BASE_FEE,
  GENESIS_DIFFICULTY,
  GENESIS_NONCE,
  LOAD_TOKEN_ADDRESS,
  genesisAlloc,
  type GenesisAccount,
} from './genesis.js';
export { createDevnetCommon, DevnetCommon, keccak256, ecrecover, ecsign, nativeCrypto } from './crypto.js';
export { EngineError, RpcError, RpcCode } from './errors.js';
export { revertReason } from './rpc.js';
