/**
 * Bounds how many requests are inside a section at once, such as reading a body before anything
 * proves who sent it. When the section is full, the request that entered first is pushed out (its
 * `evict` runs) to make room: a client that holds a place by stalling loses it to the next one,
 * instead of keeping everyone else out. Genuine senders are inside for milliseconds.
 */
export class InFlightLimit {
  /** In the order they entered. */
  private readonly inside = new Set<() => void>();

  constructor(private readonly max: number) {}

  /** Enters the section and returns how to leave it; `evict` is how to push this request out. */
  enter(evict: () => void): () => void {
    if (this.inside.size >= this.max) {
      const oldest = this.inside.values().next().value as () => void;
      this.inside.delete(oldest);
      oldest();
    }
    // Its own function, so that leaving removes this entry even when one `evict` is entered twice.
    const entry = () => evict();
    this.inside.add(entry);
    return () => this.inside.delete(entry);
  }
}
