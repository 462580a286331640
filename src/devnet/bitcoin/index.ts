/** The devnet's Bitcoin regtest chain, its wallets and its Esplora REST subset (Node only). */
export { createBitcoinChain, importChain, DEFAULT_GENESIS_TIME } from './chain.js';
export type {
  BitcoinChainOptions,
  ImportOptions,
  MempoolEntry,
  RegtestChain,
  RegtestUtxo,
  TxLocation,
} from './chain.js';
export { createWallet, createFaucet, REGTEST_NETWORK, P2WPKH_DUST } from './wallet.js';
export type { BitcoinWallet, FaucetWallet, SendOptions, SentTransaction, WalletOptions } from './wallet.js';
export { handleEsploraRequest, serveEsplora, transactionValue } from './esplora.js';
export type { EsploraResponse } from './esplora.js';
export { TxRejectedError, BitcoinChainError } from './errors.js';
export { verifyInputScripts, parseMultisigLeaf } from './verify.js';
export {
  blockSubsidy,
  buildCoinbase,
  decodeBlock,
  encodeBlock,
  findWitnessCommitment,
  isCoinbase,
  REGTEST_BITS,
  txWeight,
} from './block.js';
export { opReturnScript, scriptToAddress, scriptToAsm, esploraScriptType } from './script.js';
