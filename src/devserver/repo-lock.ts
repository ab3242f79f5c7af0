/**
 * @module devserver/repo-lock — serialises everything that moves refs (pushes, path-commit creation, CL
 * merges), as Mega holds a lock around root updates.
 */
export class RepoLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
