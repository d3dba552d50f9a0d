/**
 * Per-peer replay protection and loss accounting for authenticated datagrams (after the anti-replay
 * window of RFC 4303 section 3.4.3, with an epoch in front): a datagram is taken once, only from the
 * peer's newest epoch, and only within WINDOW sequence numbers of the highest seen. A larger epoch means
 * the peer restarted: the window starts over. A smaller one is an old capture (or a peer whose clock went
 * back; it is refused until its epoch passes the one we know).
 */

export const WINDOW = 256;

export const ReplayVerdict = Object.freeze({
  /** New datagram of the known epoch. */
  OK: 0,
  /** First datagram heard from this peer, or the first of a larger epoch (the peer restarted). */
  NEW_EPOCH: 1,
  /** Seen already, or older than the window. */
  REPLAY: 2,
  /** From an epoch before the one we know. */
  STALE_EPOCH: 3,
});

export class ReplayWindow {
  epoch = 0;
  highest = 0;
  /** Datagrams skipped over (lost, or still to come out of order). */
  gaps = 0;
  readonly #seen = new Uint32Array(WINDOW);

  /** Judges (epoch, seq) and, unless refused, records it. `seq` is never 0 (checked by the codec). */
  accept(epoch: number, seq: number): number {
    if (epoch < this.epoch) return ReplayVerdict.STALE_EPOCH;
    let verdict: number = ReplayVerdict.OK;
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.highest = 0;
      this.#seen.fill(0);
      verdict = ReplayVerdict.NEW_EPOCH;
    }
    const slot = seq % WINDOW;
    if (seq > this.highest) {
      if (this.highest !== 0 && seq > this.highest + 1) this.gaps += seq - this.highest - 1;
      this.highest = seq;
    } else if (seq + WINDOW <= this.highest || this.#seen[slot] === seq) {
      return ReplayVerdict.REPLAY;
    }
    this.#seen[slot] = seq;
    return verdict;
  }
}
