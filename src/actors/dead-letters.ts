/**
 * Dead letters: every message the runtime could not deliver or process, with the reason. Nothing
 * is dropped silently: overflow, timeouts, stopped targets, crashed workers and missing routes all
 * end here (bounded: the oldest records are discarded, but the counter keeps counting).
 */
import type { Envelope } from './envelope.js';
import type { Counter } from './metrics.js';

export type DeadLetterReason =
  | 'mailbox-full'
  | 'mailbox-evicted'
  | 'mailbox-timeout'
  | 'backoff-exhausted'
  | 'actor-stopped'
  | 'actor-failed'
  | 'worker-crashed'
  | 'no-route'
  | 'not-cloneable'
  | 'crashed-while-handling';

export interface DeadLetter {
  envelope: Envelope;
  reason: DeadLetterReason;
  /** Address the message was meant for. */
  target: string;
  at: number;
  detail?: string;
}

export class DeadLetterQueue {
  private readonly records: DeadLetter[] = [];
  private readonly listeners = new Set<(d: DeadLetter) => void>();

  constructor(
    private readonly capacity = 1000,
    private readonly counter?: Counter,
  ) {}

  add(letter: DeadLetter): void {
    this.records.push(letter);
    if (this.records.length > this.capacity) this.records.shift();
    this.counter?.inc({ reason: letter.reason });
    for (const l of this.listeners) l(letter);
  }

  /** The most recent records (up to the capacity). */
  list(): readonly DeadLetter[] {
    return this.records;
  }

  subscribe(listener: (d: DeadLetter) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
