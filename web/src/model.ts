// The lifecycle model as GET /v1/states gives it (the same tables the server validates with),
// and what the dashboard derives from it: each vocabulary's words for states, columns and
// verbs, and which verbs a VM's state allows now.

export type Vocabulary = 'corral' | 'opennebula' | 'nova' | 'azure' | 'stratuslab';
export const kVocabularies: Array<{ id: Vocabulary; label: string }> = [
  { id: 'corral', label: 'Corral' },
  { id: 'opennebula', label: 'OpenNebula' },
  { id: 'nova', label: 'OpenStack Nova' },
  { id: 'azure', label: 'Azure' },
  { id: 'stratuslab', label: 'StratusLab' },
];

export interface Operation {
  id: number; vm_id: number; action: string; phase: string | null; status: string;
  undoing: string | null; origin: string; started_at: string; deadline: string | null;
  finished_at: string | null; error: string | null; actor: string; params: unknown;
}

export interface Views {
  opennebula?: { state: string; state_id: number; lcm_state: string; lcm_state_id: number; short: string };
  nova?: { vm_state: string; task_state: string | null; power_state: number; status: string };
  azure?: { provisioning_state: string; power_state: string; billing: string; billing_display: string;
            statuses: Array<{ code: string; level: string; displayStatus: string; time?: string }> };
  stratuslab?: { state: string };
}

export interface Vm {
  id: number; name: string; state: string; power: string; host: string | null;
  vcpus: number; memory_mib: number; image: string; operation: Operation | null;
  model: { effective: Record<string, unknown>; requested: Record<string, unknown> | null; error: string | null };
  pending_reason: string | null; lock: { by: string; reason: string | null } | null;
  created_at: string; updated_at: string; views: Views; project?: unknown;
  nics?: Array<Record<string, unknown>>; volumes?: Array<Record<string, unknown>>;
}

interface VerbRow { action: string; verb: string; from?: string[]; during?: string[]; note?: string;
                    variant?: { parameter: string; value: string } }
interface Transition { action: string; from: string[]; to: string; during: string[]; when_idle: boolean;
                       note?: string }
export interface StatesModel {
  actions: Array<{ name: string; number: number; summary: string; system: boolean }>;
  states: Array<{ name: string; number: number; nominal_power: string; views: Views }>;
  transitions: Transition[];
  vocabularies: Record<Vocabulary, { verbs: VerbRow[] }>;
}

let model: StatesModel | null = null;
export function setModel(m: StatesModel): void { model = m; }
export function theModel(): StatesModel {
  if (!model) throw new Error('the model is not loaded');
  return model;
}

// Actions the system takes by itself, and create/deploy (the scheduler's), are no buttons.
function offered(action: string): boolean {
  const a = theModel().actions.find((x) => x.name === action);
  return !!a && !a.system && action !== 'create' && action !== 'deploy';
}

// Whether the transition table lets `action` start on `vm` now: from its state, and either
// no operation runs or the running one is among those the action may interrupt.
export function actionAllowed(vm: Vm, action: string): boolean {
  const running = vm.operation && vm.operation.status === 'running' ? vm.operation.action : null;
  return theModel().transitions.some((t) => t.action === action && t.from.includes(vm.state) &&
    (running ? t.during.includes(running) : t.when_idle));
}

export interface Verb { verb: string; action: string; note?: string;
                        variant?: { parameter: string; value: string } }

// The verbs `vocabulary` offers for `vm` now: those whose row names its state (when the row
// narrows the action's states) and whose action the transition table allows.
export function verbsFor(vm: Vm, vocabulary: Vocabulary): Verb[] {
  const out: Verb[] = [];
  const seen = new Set<string>();
  for (const row of theModel().vocabularies[vocabulary].verbs) {
    if (!offered(row.action)) continue;
    if (row.from && !row.from.includes(vm.state)) continue;
    if (!actionAllowed(vm, row.action)) continue;
    const key = row.verb + '|' + (row.variant ? row.variant.value : '');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ verb: row.verb, action: row.action, note: row.note, variant: row.variant });
  }
  return out;
}

// Verbs whose action needs parameters the dashboard asks for before sending.
export const kParameters: Record<string, Array<{ name: string; label: string; type: 'text' | 'number' }>> = {
  resize: [{ name: 'vcpus', label: 'vCPUs', type: 'number' }, { name: 'memory_mib', label: 'Memory (MiB)', type: 'number' }],
  resize_migrate: [{ name: 'vcpus', label: 'vCPUs', type: 'number' }, { name: 'memory_mib', label: 'Memory (MiB)', type: 'number' }],
  rebuild: [{ name: 'image', label: 'Image', type: 'text' }],
  set_admin_password: [{ name: 'password', label: 'Password', type: 'text' }],
  disk_attach: [{ name: 'volume', label: 'Volume', type: 'text' }],
  disk_detach: [{ name: 'volume', label: 'Volume', type: 'text' }],
  nic_attach: [{ name: 'network', label: 'Network', type: 'text' }],
  nic_detach: [{ name: 'nic', label: 'NIC id', type: 'number' }],
};

// The VM's state in `vocabulary`'s words (the server's views).
export function stateLabel(vm: Vm, vocabulary: Vocabulary): string {
  return stateName(vm.views, vm.state, vocabulary);
}

// A state's name in `vocabulary`'s words, from its views (a VM's, or a state's nominal ones).
export function stateName(views: Views, canonical: string, vocabulary: Vocabulary): string {
  switch (vocabulary) {
    case 'corral': return canonical;
    case 'opennebula': return views.opennebula
      ? (views.opennebula.state === 'ACTIVE' ? views.opennebula.lcm_state : views.opennebula.state) : canonical;
    case 'nova': return views.nova?.status ?? canonical;
    case 'azure': return views.azure
      ? views.azure.statuses.find((s) => s.code.startsWith('PowerState/'))?.displayStatus ?? views.azure.provisioning_state
      : canonical;
    case 'stratuslab': return views.stratuslab?.state ?? canonical;
  }
}

export interface Column { key: string; label: string; value: (vm: Vm) => string | number; numeric?: boolean }

const opText = (vm: Vm) => vm.operation && vm.operation.status === 'running'
  ? `${vm.operation.action}${vm.operation.phase ? ' / ' + vm.operation.phase : ''}` : '';

// Each vocabulary's columns, after its own list command or portal page.
export function columnsFor(vocabulary: Vocabulary): Column[] {
  const id: Column = { key: 'id', label: 'ID', value: (vm) => vm.id, numeric: true };
  switch (vocabulary) {
    case 'corral': return [id,
      { key: 'name', label: 'Name', value: (vm) => vm.name },
      { key: 'state', label: 'State', value: (vm) => vm.state },
      { key: 'operation', label: 'Operation', value: opText },
      { key: 'power', label: 'Power', value: (vm) => vm.power },
      { key: 'host', label: 'Host', value: (vm) => vm.host ?? '' },
      { key: 'vcpus', label: 'vCPUs', value: (vm) => vm.vcpus, numeric: true },
      { key: 'memory', label: 'Memory (MiB)', value: (vm) => vm.memory_mib, numeric: true }];
    case 'opennebula': return [id,
      { key: 'name', label: 'NAME', value: (vm) => vm.name },
      { key: 'stat', label: 'STAT', value: (vm) => vm.views.opennebula?.short ?? '' },
      { key: 'state', label: 'STATE', value: (vm) => vm.views.opennebula?.state ?? '' },
      { key: 'lcm', label: 'LCM_STATE', value: (vm) => vm.views.opennebula?.lcm_state ?? '' },
      { key: 'host', label: 'HOST', value: (vm) => vm.host ?? '' },
      { key: 'vcpus', label: 'CPU', value: (vm) => vm.vcpus, numeric: true },
      { key: 'memory', label: 'MEM', value: (vm) => `${vm.memory_mib}M` }];
    case 'nova': return [id,
      { key: 'name', label: 'Name', value: (vm) => vm.name },
      { key: 'status', label: 'Status', value: (vm) => vm.views.nova?.status ?? '' },
      { key: 'task', label: 'Task State', value: (vm) => vm.views.nova?.task_state ?? 'None' },
      { key: 'power', label: 'Power State', value: (vm) => kNovaPower[vm.views.nova?.power_state ?? 0] ?? '' },
      { key: 'host', label: 'Host', value: (vm) => vm.host ?? '' },
      { key: 'flavor', label: 'Flavor', value: (vm) => `${vm.vcpus} vCPU, ${vm.memory_mib} MiB` }];
    case 'azure': return [id,
      { key: 'name', label: 'Name', value: (vm) => vm.name },
      { key: 'status', label: 'Status', value: (vm) => stateLabel(vm, 'azure') },
      { key: 'provisioning', label: 'Provisioning state', value: (vm) => vm.views.azure?.provisioning_state ?? '' },
      { key: 'billing', label: 'Billing', value: (vm) => vm.views.azure?.billing_display ?? '' },
      { key: 'size', label: 'Size', value: (vm) => `${vm.vcpus} vCPUs, ${(vm.memory_mib / 1024).toFixed(2)} GiB` }];
    case 'stratuslab': return [id,
      { key: 'state', label: 'state', value: (vm) => vm.views.stratuslab?.state ?? '' },
      { key: 'vcpu', label: 'vcpu', value: (vm) => vm.vcpus, numeric: true },
      { key: 'memory', label: 'memory', value: (vm) => vm.memory_mib * 1024, numeric: true },
      { key: 'name', label: 'name', value: (vm) => vm.name },
      { key: 'host', label: 'host', value: (vm) => vm.host ?? '' }];
  }
}

// Nova's power_state numbers (nova/compute/power_state.py).
const kNovaPower: Record<number, string> = { 0: 'NOSTATE', 1: 'Running', 3: 'Paused', 4: 'Shutdown', 6: 'Crashed', 7: 'Suspended' };

// Words on the page that change with the vocabulary: what a VM is called, the state column.
export function nouns(vocabulary: Vocabulary): { vm: string; vms: string; state: string; create: string; remove: string } {
  switch (vocabulary) {
    case 'corral': return { vm: 'VM', vms: 'VMs', state: 'State', create: 'Create VM', remove: 'Terminate' };
    case 'opennebula': return { vm: 'VM', vms: 'VMs', state: 'STAT', create: 'onevm create', remove: 'terminate' };
    case 'nova': return { vm: 'Instance', vms: 'Instances', state: 'Status', create: 'Launch Instance', remove: 'Delete Instance' };
    case 'azure': return { vm: 'Virtual machine', vms: 'Virtual machines', state: 'Status', create: 'Create', remove: 'Delete' };
    case 'stratuslab': return { vm: 'instance', vms: 'instances', state: 'state', create: 'stratus-run-instance', remove: 'stratus-kill-instance' };
  }
}
