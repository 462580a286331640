/**
 * Call simulation for eth_call and eth_estimateGas: an unsigned message "from" anyone, run on a
 * block's state with runTx in a checkpoint that is always reverted, so every run starts from the
 * block's state again. Not serialised here: the engine runs every simulation on its serial queue.
 */
import { createBlock } from '@ethereumjs/block';
import type { MerkleStateManager } from '@ethereumjs/statemanager';
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx, type TypedTransaction } from '@ethereumjs/tx';
import { Address } from '@ethereumjs/util';
import { runTx, type VM } from '@ethereumjs/vm';
import type { DevnetCommon } from './crypto.js';
import { RpcCode, RpcError } from './errors.js';
import type { BlockRecord, CallMessage, CallOutcome } from './records.js';
import { gethTxError } from './transaction.js';
import { bytesOf, hex } from './hex.js';

/** Runs one message with `gas`, from the block's state. */
export type RunCall = (msg: CallMessage, gas: bigint) => Promise<CallOutcome>;

export interface SimulatorDeps {
  common: DevnetCommon;
  chainId: bigint;
  /** Throws RpcError if the state of `block` is no longer kept. */
  assertAvailable(block: BlockRecord): void;
  /** A read-only state manager at `block`. */
  readerAt(block: BlockRecord): MerkleStateManager;
  /** A VM over `state` (BLOCKHASH reading the engine's blocks). */
  createVmOver(state: MerkleStateManager): Promise<VM>;
}

export interface Simulator {
  /** Run `fn` with a runner at `block` (and the block's state, read-only); throws if that state is gone. */
  at<T>(block: BlockRecord, fn: (run: RunCall, state: MerkleStateManager) => Promise<T>): Promise<T>;
}

export function createSimulator(deps: SimulatorDeps): Simulator {
  const { common, chainId } = deps;
  // One simulator per block, reused by later calls at the same block (creating a VM costs ~5 ms);
  // every run is checkpointed and reverted, so it always starts from the block's state.
  let current: { block: BlockRecord; reader: MerkleStateManager; vm: VM } | undefined;

  async function at<T>(block: BlockRecord, fn: (run: RunCall, state: MerkleStateManager) => Promise<T>): Promise<T> {
    deps.assertAvailable(block);
    if (current?.block !== block) {
      const reader = deps.readerAt(block);
      current = { block, reader, vm: await deps.createVmOver(reader) };
    }
    const { reader, vm } = current;
    return fn((msg, gas) => runCall(vm, reader, block, msg, gas), reader);
  }

  async function runCall(
    vm: VM,
    reader: MerkleStateManager,
    block: BlockRecord,
    msg: CallMessage,
    gas: bigint,
  ): Promise<CallOutcome> {
    const ctx = contextBlock(common, block, msg);
    const account = await reader.getAccount(msg.from);
    const tx = callTx(common, chainId, msg, gas, block.payload.baseFeePerGas, msg.nonce ?? account?.nonce ?? 0n);
    await vm.evm.journal.checkpoint();
    try {
      const result = await runTx(vm, {
        tx,
        block: ctx,
        skipNonce: true,
        skipBlockGasLimitValidation: true,
        skipHardForkValidation: true,
      });
      const err = result.execResult.exceptionError;
      return {
        success: err === undefined,
        reverted: err?.error === 'revert',
        error: err === undefined || err.error === 'revert' ? undefined : err.error,
        returnValue: result.execResult.returnValue,
        gasUsed: result.totalGasSpent,
        gasRefund: result.gasRefund,
      };
    } catch (e) {
      throw new RpcError(RpcCode.server, gethTxError(e, tx, hex(msg.from.bytes)));
    } finally {
      await vm.evm.journal.revert();
    }
  }

  return { at };
}

/** The block context a call runs in: `block`'s header, with base fee 0 when the message sets no fee. */
function contextBlock(common: DevnetCommon, block: BlockRecord, msg: CallMessage) {
  // geth: with no fee fields the call runs with gas price 0 and the block context's base fee 0.
  const noFees = msg.gasPrice === undefined && msg.maxFeePerGas === undefined && msg.maxPriorityFeePerGas === undefined;
  const baseFee = noFees ? 0n : block.payload.baseFeePerGas;
  return createBlock(
    {
      header: {
        parentHash: bytesOf(block.payload.parentHash),
        number: block.number,
        timestamp: block.payload.timestamp,
        gasLimit: block.payload.gasLimit,
        baseFeePerGas: baseFee,
        coinbase: new Address(bytesOf(block.payload.feeRecipient)),
        mixHash: bytesOf(block.payload.prevRandao),
        difficulty: 0n,
      },
    },
    { common, skipConsensusFormatValidation: true },
  );
}

/** The unsigned transaction of a call message, typed by the fee fields it sets. */
function callTx(
  common: DevnetCommon,
  chainId: bigint,
  msg: CallMessage,
  gas: bigint,
  baseFee: bigint,
  nonce: bigint,
): TypedTransaction {
  const base = { nonce, gasLimit: gas, to: msg.to, value: msg.value, data: msg.data };
  let tx: TypedTransaction;
  if (msg.maxFeePerGas !== undefined || msg.maxPriorityFeePerGas !== undefined) {
    const maxFeePerGas = msg.maxFeePerGas ?? baseFee * 2n + (msg.maxPriorityFeePerGas ?? 0n);
    tx = createFeeMarket1559Tx(
      {
        ...base,
        chainId,
        maxFeePerGas,
        maxPriorityFeePerGas: msg.maxPriorityFeePerGas ?? 0n,
        accessList: msg.accessList ?? [],
      },
      { common, freeze: false },
    );
  } else if (msg.accessList !== undefined) {
    tx = createAccessList2930Tx(
      { ...base, chainId, gasPrice: msg.gasPrice ?? 0n, accessList: msg.accessList },
      { common, freeze: false },
    );
  } else {
    tx = createLegacyTx({ ...base, gasPrice: msg.gasPrice ?? 0n }, { common, freeze: false });
  }
  // An unsigned message "from" anyone, as geth's eth_call (the simulator's tx is never broadcast).
  (tx as { getSenderAddress: () => Address }).getSenderAddress = () => msg.from;
  return tx;
}
