import type { ActorRef, AskOptions, Message, ReplyMap, SendOptions } from './actor.js';
import type { Kernel } from './kernel.js';

/** A ref is an address plus the kernel to send through; sends from outside any actor carry no sender. */
export function createRef<M extends Message, R extends ReplyMap<M> = ReplyMap<M>>(
  address: string,
  kernel: Kernel,
): ActorRef<M, R> {
  const origin = {};
  let target: ReturnType<Kernel['target']> | undefined;
  return {
    address,
    tell: (msg: M, opts?: SendOptions) => kernel.tellVia((target ??= kernel.target(address)), msg, opts, origin),
    ask: (msg: Message, opts?: AskOptions) => kernel.ask(address, msg, opts, origin),
  } as ActorRef<M, R>;
}
