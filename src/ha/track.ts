/**
 * Health tracking (keepalived's track_script weights, applied to tslvs's own services). A service is
 * "down" when the director says so (below quorum: with the default quorum of 1, every real server
 * failed). Pure: the caller passes the lookup.
 *
 * keepalived's sign convention: a negative weight is added while the service is down, a positive one
 * while it is up, so both prefer the director whose services work; weight 0 puts the instance in FAULT
 * while the service is down.
 */

export interface TrackOutcome {
  /** Base priority plus the weights in force (the machine clamps it to 1..254; the owner ignores it). */
  priority: number;
  fault: boolean;
  /** Services currently down, for status and logs. */
  down: string[];
}

export function trackedPriority(
  base: number,
  tracks: readonly { service: string; weight: number }[],
  isUp: (service: string) => boolean,
): TrackOutcome {
  let priority = base;
  let fault = false;
  const down: string[] = [];
  for (const t of tracks) {
    const up = isUp(t.service);
    if (!up) down.push(t.service);
    if (t.weight === 0) fault ||= !up;
    else if (t.weight < 0 && !up) priority += t.weight;
    else if (t.weight > 0 && up) priority += t.weight;
  }
  return { priority, fault, down };
}
