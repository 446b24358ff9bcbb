/**
 * A readers-writer gate for the library's labs: runs side by side hold it shared; a run
 * that must have the machine to itself (a re-measurement after the instrument said it was
 * starved) holds it alone, once the runs already going have ended. Waiting exclusive
 * holders go before new shared ones, so a re-measurement is not starved in turn.
 */
export class LabGate {
  private shared = 0;
  private alone = false;
  private wantAlone = 0;
  private waiters: (() => void)[] = [];

  async withShared<T>(f: () => Promise<T>): Promise<T> {
    while (this.alone || this.wantAlone > 0) await this.changed();
    this.shared++;
    try {
      return await f();
    } finally {
      this.shared--;
      this.wake();
    }
  }

  async withAlone<T>(f: () => Promise<T>): Promise<T> {
    this.wantAlone++;
    while (this.alone || this.shared > 0) await this.changed();
    this.wantAlone--;
    this.alone = true;
    try {
      return await f();
    } finally {
      this.alone = false;
      this.wake();
    }
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}
