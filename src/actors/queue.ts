/** A FIFO queue on a growable ring buffer: O(1) push and shift, no per-item allocation. */
export class Fifo<T> {
  private buf: (T | undefined)[] = new Array(16);
  private head = 0;
  private count = 0;
  private mask = 15;

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count > this.mask) this.grow();
    this.buf[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.buf[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  /** Remove and return every item, in order. */
  drain(): T[] {
    const out: T[] = [];
    while (this.count > 0) out.push(this.shift() as T);
    this.head = 0;
    return out;
  }

  /** Remove the first item matching `pred` (O(n); only for rare paths such as timeouts). */
  removeFirst(pred: (item: T) => boolean): T | undefined {
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) & this.mask;
      const item = this.buf[at] as T;
      if (!pred(item)) continue;
      for (let j = i; j < this.count - 1; j++)
        this.buf[(this.head + j) & this.mask] = this.buf[(this.head + j + 1) & this.mask];
      this.buf[(this.head + this.count - 1) & this.mask] = undefined;
      this.count--;
      return item;
    }
    return undefined;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.buf[(this.head + i) & this.mask] as T;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.buf.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = next.length - 1;
  }
}
