// Owners a socket layer's tasklet is to wake (Tasklet in softirq.ts): a fixed list of table
// indexes, each listed at most once, so a socket layer's callbacks into the application run
// from the loop instead of on top of the receive path's frames.

export class WakeList {
  readonly #ids: Int16Array;
  readonly #listed: Uint8Array;
  #count = 0;

  constructor(size: number) {
    this.#ids = new Int16Array(size);
    this.#listed = new Uint8Array(size);
  }

  add(id: number): void {
    if (this.#listed[id] !== 0) return;
    this.#listed[id] = 1;
    this.#ids[this.#count++] = id;
  }

  get count(): number {
    return this.#count;
  }

  /** The i-th id listed (0 to count - 1), no longer listed. */
  take(i: number): number {
    const id = this.#ids[i];
    this.#listed[id] = 0;
    return id;
  }

  clear(): void {
    this.#count = 0;
  }
}
