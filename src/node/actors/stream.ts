/**
 * StreamActor: the node's outward event stream. It subscribes to the `node.*` topics and hands each
 * event to the listener of the public API (`node.on`), so subscribers never run inside another
 * actor's handler and a failing listener cannot hurt the node.
 */
import { defineActor } from '../../actors/actor.js';
import type { NodeEventMessage } from '../events.js';

export const StreamActor = defineActor<NodeEventMessage, { event: void }, { deliver(e: NodeEventMessage): void }>({
  name: 'stream',
  mailbox: { capacity: 4096, overflow: 'dropOldest' },
  create({ deliver }) {
    return {
      handle(msg) {
        try {
          deliver(msg);
        } catch {
          // a listener's own error is its problem
        }
      },
    };
  },
});
