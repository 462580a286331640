/** Typed errors of the node worker's page side (`node-worker.*` codes). */
import { LightNodeError } from '../../../node/errors.js';

/**
 * The node worker crashed more often than its restart intensity allows (`node-worker.failed`), or
 * this page closed its connection (`node-worker.closed`): calls made then reject with it.
 */
export class NodeWorkerError extends LightNodeError {
  override name = 'NodeWorkerError';
  constructor(code: 'node-worker.failed' | 'node-worker.closed', message: string, options?: { cause?: unknown }) {
    super(code, message, {
      cause: options?.cause,
      hint:
        code === 'node-worker.failed'
          ? 'the node worker kept crashing; see the browser console of the worker, or create the node with placement: "page"'
          : 'create a new node',
    });
  }
}
