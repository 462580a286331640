/**
 * The seam between the Bitcoin SPV client (`spv.ts`) and the peg tracking that consumes it: what the
 * bridge may believe about Bitcoin. Everything a `BitcoinView` returns as confirmed was verified
 * (a header chain from a checkpoint by proof of work and the network's retarget rules, the tx by its
 * recomputed txid and a merkle branch to a header on that chain); what an endpoint merely says
 * (a mempool sighting, an address listing) is marked so and never counted as a confirmation.
 */

/** A Bitcoin transaction as the bridge sees it. Hashes are display hex (Esplora's and explorers' order). */
export interface BtcTxSighting {
  /** display hex; equals the txid recomputed from `raw` */
  txid: string;
  /** the transaction's bytes (legacy or segwit serialization) */
  raw: Uint8Array;
  /**
   * Where it is mined: a merkle branch to the header `blockHash` at `height` on the verified chain was
   * checked. Null when it is only seen unconfirmed (an endpoint's word: unverified).
   */
  inclusion: { blockHash: string; height: number } | null;
}

/** The verified Bitcoin tip (most work among the verified chains the endpoints served). */
export interface BtcTip {
  height: number;
  /** display hex */
  hash: string;
}

export interface BitcoinView {
  /** The verified tip, or null before the first header sync. */
  tip(): BtcTip | null;
  /**
   * Fetch `txid` (display hex) from the endpoints and verify it: the raw bytes hash to `txid`, and a
   * claimed inclusion is checked by merkle branch against the verified chain (a false claim charges
   * the endpoint and is dropped). Null when no endpoint knows the transaction.
   */
  lookupTx(txid: string): Promise<BtcTxSighting | null>;
  /**
   * Confirmations of an inclusion on the current verified chain: `tip - height + 1` while `blockHash`
   * is still the verified block at `height`, 0 when a reorg took it out (or the height is unknown).
   */
  confirmations(inclusion: { blockHash: string; height: number }): number;
  /**
   * Txids (display hex) that endpoints list for a Bitcoin address, newest first, bounded. An unverified
   * hint: each must still go through `lookupTx` before anything is believed.
   */
  addressTxids(address: string, limit?: number): Promise<string[]>;
}
