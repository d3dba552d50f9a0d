/**
 * Running code in another network namespace without a child process. `setns(CLONE_NEWNET)` moves only the
 * calling thread, and a socket (or TUN device) stays in the namespace it was created in, so opening a ring
 * inside `withNetns()` and using it afterwards from the original namespace is safe. libuv's thread pool is
 * unaffected because only this thread switches.
 *
 * Only synchronous code may run inside: an `await` would let unrelated callbacks run in the wrong namespace.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { CLONE_NEWNET, O_CLOEXEC, O_RDONLY } from './constants.js';
import { libc, syscallError } from './libc.js';

const NETNS_DIR = '/run/netns';

/** Path of a namespace created by `ip netns add NAME`, or the path itself when given one. */
export function netnsPath(nameOrPath: string): string {
  if (nameOrPath.startsWith('/')) return nameOrPath;
  if (!/^[A-Za-z0-9_.-]+$/.test(nameOrPath) || nameOrPath === '.' || nameOrPath === '..') {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `invalid network namespace name ${JSON.stringify(nameOrPath)}`,
      {
        netns: nameOrPath,
      },
    );
  }
  return `${NETNS_DIR}/${nameOrPath}`;
}

/**
 * Moves the calling thread into the namespace for good (a worker thread that serves one namespace).
 * Returns nothing; use `withNetns` when the thread must come back.
 */
export function enterNetns(nameOrPath: string): void {
  const path = netnsPath(nameOrPath);
  const c = libc();
  const fd = c.open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    const errno = c.errno();
    throw new TslvsError(
      ErrorCodes.ENVIRONMENT,
      `network namespace ${nameOrPath} cannot be opened (${path})`,
      {
        netns: nameOrPath,
        path,
        errno,
      },
    );
  }
  try {
    if (c.setns(fd, CLONE_NEWNET) < 0)
      throw syscallError('setns(CLONE_NEWNET)', c.errno(), { netns: nameOrPath });
  } finally {
    c.close(fd);
  }
}

/** Runs `fn` with the calling thread inside the namespace, then returns the thread to where it was. */
export function withNetns<T>(nameOrPath: string | undefined, fn: () => T): T {
  if (nameOrPath === undefined) return fn();
  const c = libc();
  const home = c.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC, 0);
  if (home < 0) throw syscallError('open(/proc/thread-self/ns/net)', c.errno());
  try {
    enterNetns(nameOrPath);
    let result: T | undefined;
    let failure: unknown;
    let failed = false;
    try {
      result = fn();
    } catch (err) {
      failed = true;
      failure = err;
    }
    // Staying in the wrong namespace would silently misdirect every later socket of this thread.
    if (c.setns(home, CLONE_NEWNET) < 0) {
      throw syscallError('setns(back to the original namespace)', c.errno(), { netns: nameOrPath });
    }
    if (failed) throw failure;
    if (result instanceof Promise) {
      throw new TslvsError(ErrorCodes.INTERNAL, 'withNetns() callbacks must be synchronous', {
        netns: nameOrPath,
      });
    }
    return result as T;
  } finally {
    c.close(home);
  }
}
