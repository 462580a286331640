/**
 * The generator's helper thread (see pipeline.ts): it signs the load's transactions ahead of the
 * block producer, recovers their senders from the signed bytes exactly as the engine would (the
 * engine then skips that step: PayloadAttributes.senders), and signs + aggregates the federation's BLS approvals of each block root while the
 * main thread executes the next block. Pure functions of the messages it gets: the chain it helps
 * produce is byte-identical to one produced without it (tested).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { registerNativeBlsBackend } from '../../platform/nodejs/bls-blst.js';
import { createBlsBackend } from '../../protocol/bls/index.js';
import { createDevnetCommon, recoverRawSender } from '../evm/crypto.js';
import { createLoad, type BlockLoad } from './load.js';
import { createApprover, type PipelineInit, type FromWorker, type ToWorker } from './pipeline-shared.js';

const init = (workerData as { init: PipelineInit }).init;
const port = parentPort!;
registerNativeBlsBackend(); // this thread's own module graph: the main thread's registration does not reach here
const bls = await createBlsBackend('auto');
const load = createLoad(init.load);
const approve = createApprover(init.members, bls);
const common = createDevnetCommon(init.load.chainId);
const withSenders = (l: BlockLoad): BlockLoad => ({
  ...l,
  senders: l.transactions.map((raw) => recoverRawSender(common, raw)),
});

function post(msg: FromWorker): void {
  port.postMessage(msg);
}

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.type === 'load') {
      const loads = Array.from({ length: msg.count }, () => withSenders(load.next()));
      post({ type: 'load', loads });
    } else if (msg.type === 'approve') {
      post({ type: 'approved', id: msg.id, signature: approve(msg.root).aggregateSignature });
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
});
post({ type: 'ready' });
