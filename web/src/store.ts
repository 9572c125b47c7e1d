// Every VM the session may see, kept current: read page by page from GET /v1/vms, then
// followed on GET /v1/events. An event names the VM that changed; the VMs named within one
// short window are read back in one GET /v1/vms?ids=... so that the views shown are the
// server's, never guessed, and a thousand changes a second cost a few requests.
import { currentSession, followEvents, get } from './api';
import type { Vm } from './model';

type Listener = (changed: Set<number>) => void;

const kBatchMs = 150;
const kIdsPerRequest = 500;

// How far behind the server the page is: for each VM read back after an event, the time from
// the event's commit to the read; kept for the tests and the bench (window.corralStats).
export interface Stats { events: number; reads: number; lagMs: number[] }
export const stats: Stats = { events: 0, reads: 0, lagMs: [] };
(window as unknown as { corralStats: Stats }).corralStats = stats;
const kLagSamples = 20000;

export class VmStore {
  readonly vms = new Map<number, Vm>();
  loaded = false;
  private committedAt = new Map<number, number>();
  private listeners = new Set<Listener>();
  private dirty = new Set<number>();
  private timer: number | null = null;
  private abort = new AbortController();
  private hostListeners = new Set<() => void>();

  async start(): Promise<void> {
    await this.reload();
    void followEvents('/v1/events', this.abort.signal, (e) => {
      if (e.event === 'transition' || e.event === 'vm') {  // vm: a lock set or lifted
        const data = JSON.parse(e.data) as { vm_id: number; at?: string };
        ++stats.events;
        if (data.at && !this.committedAt.has(data.vm_id)) this.committedAt.set(data.vm_id, Date.parse(data.at));
        this.markDirty(data.vm_id);
      } else if (e.event === 'host') {
        for (const l of this.hostListeners) l();
      }
    }, () => { void this.reload(); });
  }

  stop(): void { this.abort.abort(); }

  private query(): string {
    return currentSession()?.cloud_admin ? '&all_projects=true' : '';
  }

  async reload(): Promise<void> {
    // The first page, then the rest four at a time (by offset: a VM made meanwhile comes on
    // the event stream anyway), so that ten thousand VMs load in the time of a few requests.
    const kPage = 1000;
    const kParallel = 4;
    const next = new Map<number, Vm>();
    type Page = { vms: Vm[]; next_marker: number | null };
    const first = await get<Page>(`/v1/vms?limit=${kPage}${this.query()}`);
    for (const vm of first.vms) next.set(vm.id, vm);
    for (let offset = kPage, more = !!first.next_marker; more; offset += kPage * kParallel) {
      const pages = await Promise.all(Array.from({ length: kParallel }, (_, k) =>
        get<Page>(`/v1/vms?limit=${kPage}&offset=${offset + k * kPage}${this.query()}`)));
      for (const page of pages) for (const vm of page.vms) next.set(vm.id, vm);
      more = pages.every((page) => page.vms.length === kPage && !!page.next_marker);
    }
    const changed = new Set<number>([...this.vms.keys(), ...next.keys()]);
    this.vms.clear();
    for (const [id, vm] of next) this.vms.set(id, vm);
    this.loaded = true;
    this.emit(changed);
  }

  markDirty(id: number): void {
    this.dirty.add(id);
    if (this.timer === null) this.timer = window.setTimeout(() => void this.flush(), kBatchMs);
  }

  private async flush(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    const changed = new Set<number>(ids);
    try {
      for (let i = 0; i < ids.length; i += kIdsPerRequest) {
        const chunk = ids.slice(i, i + kIdsPerRequest);
        const page = await get<{ vms: Vm[] }>(`/v1/vms?ids=${chunk.join(',')}&limit=1000${this.query()}`);
        const found = new Set<number>();
        for (const vm of page.vms) {
          this.vms.set(vm.id, vm);
          found.add(vm.id);
        }
        for (const id of chunk) if (!found.has(id)) this.vms.delete(id);
      }
    } catch {
      for (const id of ids) this.dirty.add(id);  // read again with the next batch
    }
    const now = Date.now();
    for (const id of ids) {
      const at = this.committedAt.get(id);
      if (at === undefined || this.dirty.has(id)) continue;
      this.committedAt.delete(id);
      if (stats.lagMs.length < kLagSamples) stats.lagMs.push(now - at);
      else stats.lagMs[stats.reads % kLagSamples] = now - at;  // a ring of the latest
      ++stats.reads;
    }
    this.timer = null;
    if (this.dirty.size > 0) this.timer = window.setTimeout(() => void this.flush(), kBatchMs);
    this.emit(changed);
  }

  private emit(changed: Set<number>): void {
    for (const l of this.listeners) l(changed);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onHost(listener: () => void): () => void {
    this.hostListeners.add(listener);
    return () => this.hostListeners.delete(listener);
  }
}
