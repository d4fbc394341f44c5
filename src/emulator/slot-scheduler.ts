/** A place in the engine: granted when a decode slot and KV room free up; release or cancel exactly once. */
export interface SlotTicket {
  /** Resolves when the request holds a slot (at most `--max-running-requests` at once) and its KV reservation. */
  granted: Promise<void>;
  /** Whether it could not start at once, so it waited in the queue. */
  wasQueued: boolean;
  /** Whether it waited, at some point, while a decode slot was free: its KV reservation did not fit. */
  waitedForKv(): boolean;
  /** Frees the slot and the reservation, or leaves the queue if not yet granted; safe to call twice. */
  release(): void;
}

interface Waiter {
  tokens: number;
  grant: () => void;
  waitedForKv: boolean;
}

/**
 * SGLang's admission: at most `--max-running-requests` decode, and a request starts only when its KV reservation
 * (`kvReservation`) fits in the pool beside the running ones'. The rest wait first come, first served: the queue's
 * head blocks the ones behind it (SGLang's PrefillAdder stops at the first request that does not fit).
 */
export class SlotScheduler {
  private runningCount = 0;
  private reserved = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly maxRunning: number,
    /** The KV pool in tokens (`max_total_num_tokens`). */
    private readonly poolTokens: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Requests decoding now. */
  get running(): number {
    return this.runningCount;
  }

  /** Requests waiting for a slot or KV room (`#queue-req`, `sglang:num_queue_reqs`). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Tokens reserved by the running requests. */
  get reservedTokens(): number {
    return this.reserved;
  }

  /** Joins the queue with a reservation of `tokens` (capped at the pool); granted at once when it fits. */
  enqueue(tokens = 0): SlotTicket {
    let state: 'waiting' | 'running' | 'done' = 'waiting';
    const need = Math.min(Math.max(0, tokens), this.poolTokens);
    let grant!: () => void;
    const granted = new Promise<void>((resolve) => {
      grant = () => {
        state = 'running';
        this.runningCount++;
        this.reserved += need;
        resolve();
      };
    });
    const waiter: Waiter = { tokens: need, grant, waitedForKv: false };
    const canStart = this.waiting.length === 0 && this.fits(waiter);
    if (canStart) grant();
    else {
      this.waiting.push(waiter);
      this.noteKvWait(waiter);
    }
    return {
      granted,
      wasQueued: !canStart,
      waitedForKv: () => waiter.waitedForKv,
      release: () => {
        if (state === 'done') return;
        if (state === 'running') {
          this.runningCount--;
          this.reserved -= need;
          this.admitNext();
        } else {
          const at = this.waiting.indexOf(waiter);
          if (at !== -1) this.waiting.splice(at, 1);
          // The head leaving may unblock the ones behind it.
          if (at === 0) this.admitNext();
        }
        state = 'done';
      },
    };
  }

  private fits(waiter: Waiter): boolean {
    return this.runningCount < this.maxRunning && this.reserved + waiter.tokens <= this.poolTokens;
  }

  private noteKvWait(waiter: Waiter): void {
    if (this.waiting[0] === waiter && this.runningCount < this.maxRunning) waiter.waitedForKv = true;
  }

  private admitNext(): void {
    for (;;) {
      const head = this.waiting[0];
      if (!head) return;
      if (!this.fits(head)) {
        this.noteKvWait(head);
        return;
      }
      this.waiting.shift();
      head.grant();
    }
  }
}
