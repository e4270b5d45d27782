/** Bounds how many requests are inside a section at once, such as reading a large body. */
export class InFlightLimit {
  private inside = 0;

  constructor(private readonly max: number) {}

  /** Enters the section and returns how to leave it; undefined when `max` requests are inside already. */
  tryEnter(): (() => void) | undefined {
    if (this.inside >= this.max) return undefined;
    this.inside += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inside -= 1;
    };
  }
}
