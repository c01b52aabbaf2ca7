/** An in-memory fixed-window counter per key, pruned as windows pass (for cheap per-process limits). */
export class FixedWindowCounter {
  private window = 0;
  private counts = new Map<string, number>();
  constructor(private readonly windowMs: number, private readonly now: () => number) {}

  private roll(): void {
    const w = Math.floor(this.now() / this.windowMs);
    if (w !== this.window) { this.window = w; this.counts = new Map(); }
  }

  count(key: string): number {
    this.roll();
    return this.counts.get(key) ?? 0;
  }

  hit(key: string): number {
    this.roll();
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }
}
