/**
 * What a service is still starting in the background while it already serves: its consumer groups
 * join only once the dead members of a killed predecessor have expired (the broker cannot tell a dead
 * process from a slow one), so the API must not wait for them. `/ready` lists them under `starting`.
 */
export class BackgroundStarts {
  private readonly pending = new Map<number, string>();
  private next = 0;

  /** Lists `what` until `starting` settles (resolved or rejected); returns `starting` itself. */
  track<T>(what: string, starting: Promise<T>): Promise<T> {
    const id = this.next++;
    this.pending.set(id, what);
    const done = () => this.pending.delete(id);
    starting.then(done, done);
    return starting;
  }

  /** What is still starting, in the order it began. */
  list(): string[] {
    return [...this.pending.values()];
  }
}
