// Hosts, networks and volumes: each a table read from the API, in the chosen vocabulary's words
// where the object has a view in it (a host is Nova's compute service and OpenNebula's host; a
// volume is Cinder's, OpenNebula's persistent image or Azure's data disk).
import { get } from './api';
import type { Vocabulary } from './model';
import type { VmStore } from './store';
import { clear, h, table } from './ui';

interface Host { name: string; state: string; state_id: number; connected: boolean; vcpus: number; memory_mib: number;
                 used_vcpus: number; used_memory_mib: number; vms: number[];
                 nova: { state: string; status: string; disabled_reason: string | null } }
interface Network { id: number; name: string; cidr: string; state: string; used_leases: number; size: number;
                    shared: boolean; neutron: { status: string }; opennebula: { STATE_STR: string } }
interface Volume { id: number; name: string; size_mib: number; status: string; attachments: Array<{ vm: number }>;
                   opennebula: { shown: string }; azure: { diskState: string }; stratuslab: { state: string } }

const bar = (used: number, total: number, unit: string) => {
  const pct = total > 0 ? Math.round((100 * used) / total) : 0;
  return h('span', { class: 'meter-cell' },
    h('meter', { min: 0, max: total, value: used, 'aria-label': `${used} of ${total} ${unit}` }),
    ` ${used} / ${total} ${unit} (${pct}%)`);
};

async function loadInto(root: HTMLElement, title: string, load: () => Promise<HTMLElement>): Promise<void> {
  try {
    const content = await load();
    clear(root);
    root.append(h('h1', {}, title), content);
  } catch (e) {
    clear(root);
    root.append(h('h1', {}, title), h('p', { class: 'error-text', role: 'alert' }, (e as Error).message));
  }
}

export function renderHostsPage(root: HTMLElement, store: VmStore, vocabulary: Vocabulary): () => void {
  const nova = vocabulary === 'nova';
  const load = () => loadInto(root, nova ? 'Compute services' : 'Hosts', async () => {
    const { hosts } = await get<{ hosts: Host[] }>('/v1/hosts');
    return table('Hosts', nova ? ['Host', 'Status', 'State', 'vCPUs used', 'Memory used', 'Instances']
                              : ['Name', 'State', 'Connected', 'CPU allocated', 'Memory allocated', 'VMs'],
      hosts.map((x) => [x.name,
        nova ? x.nova.status + (x.nova.disabled_reason ? ` (${x.nova.disabled_reason})` : '') : `${x.state} (${x.state_id})`,
        nova ? x.nova.state : x.connected ? 'yes' : 'no',
        bar(x.used_vcpus, x.vcpus, 'vCPUs'), bar(x.used_memory_mib, x.memory_mib, 'MiB'),
        h('span', {}, ...x.vms.slice(0, 20).flatMap((id, i) => [i > 0 ? ', ' : '', h('a', { href: `#/vms/${id}` }, String(id))]),
          x.vms.length > 20 ? ` and ${x.vms.length - 20} more` : '')]));
  });
  void load();
  let pending = 0;
  const later = () => { if (!pending) pending = window.setTimeout(() => { pending = 0; void load(); }, 1000); };
  const a = store.onHost(later);
  const b = store.subscribe(later);
  return () => { a(); b(); window.clearTimeout(pending); };
}

export function renderNetworksPage(root: HTMLElement, vocabulary: Vocabulary): () => void {
  void loadInto(root, 'Networks', async () => {
    const { networks } = await get<{ networks: Network[] }>('/v1/networks');
    if (networks.length === 0) return h('p', { class: 'muted' }, 'No network yet (corral network create, or POST /v1/networks).');
    return table('Networks', ['ID', 'Name', 'CIDR', vocabulary === 'nova' ? 'Status' : 'State', 'Leases', 'Shared'],
      networks.map((n) => [n.id, n.name, n.cidr,
        vocabulary === 'nova' ? n.neutron.status : vocabulary === 'opennebula' ? n.opennebula.STATE_STR : n.state,
        bar(n.used_leases, n.size, 'addresses'), n.shared ? 'yes' : 'no']));
  });
  return () => undefined;
}

export function renderVolumesPage(root: HTMLElement, vocabulary: Vocabulary): () => void {
  void loadInto(root, vocabulary === 'azure' ? 'Disks' : vocabulary === 'opennebula' ? 'Images' : 'Volumes', async () => {
    const { volumes } = await get<{ volumes: Volume[] }>('/v1/volumes');
    if (volumes.length === 0) return h('p', { class: 'muted' }, 'No volume yet (corral volume create, or POST /v1/volumes).');
    const status = (v: Volume) => vocabulary === 'opennebula' ? v.opennebula.shown : vocabulary === 'azure'
      ? v.azure.diskState : vocabulary === 'stratuslab' ? v.stratuslab.state : v.status;
    return table('Volumes', ['ID', 'Name', 'Size (MiB)', 'Status', 'Attached to'],
      volumes.map((v) => [v.id, v.name, v.size_mib, status(v),
        h('span', {}, ...v.attachments.map((a) => h('a', { href: `#/vms/${a.vm}` }, String(a.vm))))]));
  });
  return () => undefined;
}
