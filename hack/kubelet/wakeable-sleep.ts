// Sleeps a pod worker can cut short: when its pod is deleted or the kubelet stops, every wait (setup
// retries, crash backoff, the delete retries) ends at once so the worker sees the change.

export class WakeableSleep {
  private readonly wakers = new Set<() => void>();

  /** Resolves after ms, or earlier when wakeAll() is called. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}
