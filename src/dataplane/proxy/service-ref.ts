/**
 * A listener's engine service, found by the listener's endpoint. Accepts and datagrams ask for it every
 * time; it is looked up again only once a reload replaced the Service, so the hot path pays an id check
 * rather than a key string and a map lookup.
 */
import type { Endpoint } from '../../engine/addr.js';
import type { Service } from '../../engine/service.js';
import type { ServiceTable } from '../../engine/service-table.js';

export class ServiceRef {
  readonly protocol: 'tcp' | 'udp';
  #svc: Service | undefined;

  constructor(protocol: 'tcp' | 'udp') {
    this.protocol = protocol;
  }

  get(services: ServiceTable, at: Endpoint): Service | undefined {
    const cached = this.#svc;
    if (cached && services.get(cached.id) === cached) return cached;
    this.#svc = services.byEndpoint(this.protocol, at.addr, at.port);
    return this.#svc;
  }
}
