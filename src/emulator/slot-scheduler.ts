/** A place in the engine: granted when a decode slot frees up; release or cancel exactly once. */
export interface SlotTicket {
  /** Resolves when the request holds a slot (at most `--max-running-requests` at once). */
  granted: Promise<void>;
  /** Whether no slot was free when it joined, so it waited in the queue. */
  wasQueued: boolean;
  /** Frees the slot, or leaves the queue if not yet granted; safe to call twice. */
  release(): void;
}

/** Caps concurrent decodes at `--max-running-requests`; the rest wait in FIFO order (SGLang's waiting queue). */
export class SlotScheduler {
  private runningCount = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly maxRunning: number) {}

  /** Requests decoding now. */
  get running(): number {
    return this.runningCount;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Joins the queue; the ticket is granted immediately when a slot is free. */
  enqueue(): SlotTicket {
    let state: 'waiting' | 'running' | 'done' = 'waiting';
    let grant!: () => void;
    const granted = new Promise<void>((resolve) => {
      grant = () => {
        state = 'running';
        this.runningCount++;
        resolve();
      };
    });
    const isFree = this.runningCount < this.maxRunning && this.waiting.length === 0;
    if (isFree) grant();
    else this.waiting.push(grant);
    return {
      granted,
      wasQueued: !isFree,
      release: () => {
        if (state === 'done') return;
        if (state === 'running') {
          this.runningCount--;
          this.admitNext();
        } else {
          const at = this.waiting.indexOf(grant);
          if (at !== -1) this.waiting.splice(at, 1);
        }
        state = 'done';
      },
    };
  }

  private admitNext(): void {
    while (this.runningCount < this.maxRunning && this.waiting.length > 0) this.waiting.shift()?.();
  }
}
