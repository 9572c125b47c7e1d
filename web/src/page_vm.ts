// One VM: its state in every vocabulary side by side, the running operation with its phase and
// deadline, the verbs the chosen vocabulary offers now (exactly those the transition table
// allows), the model requested vs effective, its usage, its history as a timeline, and the
// lifecycle diagram with where it is and the path it took.
import { ApiError, currentSession, get, post, request } from './api';
import { type ConsoleHandle, openConsole } from './console';
import { lifecycleDiagram } from './diagram';
import { kParameters, kVocabularies, nouns, stateLabel, verbsFor, type Verb, type Vm,
         type Vocabulary } from './model';
import type { VmStore } from './store';
import { announce, append, clear, formDialog, h, since, table, until } from './ui';

interface HistoryEntry { id: number; action: string | null; from: string; to: string; phase: string | null;
                         status: string | null; actor: string; at: string; reason: string | null }

function viewCard(vm: Vm, vocabulary: Vocabulary): HTMLElement {
  const label = kVocabularies.find((v) => v.id === vocabulary)?.label ?? vocabulary;
  const pairs: Array<[string, string]> = [];
  switch (vocabulary) {
    case 'corral':
      pairs.push(['state', vm.state], ['power', vm.power],
                 ['operation', vm.operation ? `${vm.operation.action} (${vm.operation.status})` : '—']);
      break;
    case 'opennebula': {
      const v = vm.views.opennebula;
      if (v) pairs.push(['STATE', `${v.state} (${v.state_id})`], ['LCM_STATE', `${v.lcm_state} (${v.lcm_state_id})`], ['STAT', v.short]);
      break;
    }
    case 'nova': {
      const v = vm.views.nova;
      if (v) pairs.push(['vm_state', v.vm_state], ['task_state', v.task_state ?? 'None'],
                        ['power_state', String(v.power_state)], ['status', v.status]);
      break;
    }
    case 'azure': {
      const v = vm.views.azure;
      if (v) {
        pairs.push(['provisioningState', v.provisioning_state], ['PowerState', v.power_state], ['billing', v.billing_display]);
        for (const s of v.statuses) pairs.push([s.code, s.displayStatus]);
      }
      break;
    }
    case 'stratuslab':
      if (vm.views.stratuslab) pairs.push(['state', vm.views.stratuslab.state]);
      break;
  }
  return h('section', { class: 'card view', 'data-vocabulary': vocabulary, 'aria-label': `${label} view` },
    h('h3', {}, label),
    h('dl', {}, ...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

// Verbs that end the VM: asked again before they are sent.
const kDestructive = new Set(['terminate', 'terminate_hard', 'soft_delete', 'recover_recreate']);

function paramsOf(verb: Verb): Record<string, unknown> {
  if (!verb.variant) return {};
  const v = verb.variant.value;
  return { [verb.variant.parameter]: v === 'true' ? true : v === 'false' ? false : v };
}

export function renderVmPage(root: HTMLElement, store: VmStore, id: number, vocabulary: Vocabulary,
                             canAct: boolean): () => void {
  const words = nouns(vocabulary);
  const title = h('h1', {});
  const badge = h('span', { class: 'state-badge', id: 'vm-state', 'aria-live': 'polite' });
  const lock = h('span', { class: 'lock' });
  const actions = h('div', { class: 'actions', id: 'vm-actions', role: 'group', 'aria-label': 'Actions' });
  const views = h('div', { class: 'views', id: 'vm-views' });
  const operation = h('section', { class: 'card', id: 'vm-operation', 'aria-label': 'Operation' });
  const modelBox = h('section', { class: 'card', id: 'vm-model', 'aria-label': 'Model' });
  const usageBox = h('section', { class: 'card', id: 'vm-usage', 'aria-label': 'Usage' });
  const diagramBox = h('section', { class: 'card wide', id: 'vm-diagram', 'aria-label': 'Lifecycle diagram' });
  const historyBox = h('section', { class: 'card wide', id: 'vm-history', 'aria-label': 'History' });
  const consoleBox = h('section', { class: 'card wide', id: 'vm-console', 'aria-label': 'Console' });
  let consoleHandle: ConsoleHandle | null = null;
  const consoleButton = h('button', { type: 'button', id: 'console-open', disabled: !canAct || null,
                                      title: canAct ? null : 'your role may not use the console' }, 'Open console');
  consoleButton.addEventListener('click', () => {
    if (consoleHandle) {
      consoleHandle.close();
      consoleHandle = null;
      consoleButton.textContent = 'Open console';
      return;
    }
    consoleButton.disabled = true;
    openConsole(consoleBox, id, (text, error) => announce(text, error ? 'error' : 'info')).then((handle) => {
      consoleHandle = handle;
      consoleButton.disabled = false;
      if (handle) consoleButton.textContent = 'Close console';
    }, () => { consoleButton.disabled = false; });
  });
  consoleBox.append(h('h3', {}, 'Console'), consoleButton);
  let history: HistoryEntry[] = [];
  let driver = '';
  get<{ driver: string }>('/healthz').then((s) => { driver = s.driver; const vm = store.vms.get(id); if (vm) renderActions(vm); },
                                          () => undefined);
  let lastState = '';

  const act = async (verb: Verb, extra: Record<string, unknown>) => {
    try {
      await post(`/v1/vms/${id}/actions`, { action: verb.verb, vocabulary, ...paramsOf(verb), ...extra });
      announce(`${verb.verb}: accepted`);
      store.markDirty(id);
    } catch (e) {
      announce(e instanceof ApiError ? e.message : String(e), 'error');
      throw e;
    }
  };

  const renderActions = (vm: Vm) => {
    clear(actions);
    const verbs = verbsFor(vm, vocabulary);
    // Offered: what the state allows; enabled: what the role may also ask (the login's list).
    const permitted = new Set(currentSession()?.actions ?? []);
    const role = currentSession()?.role ?? '';
    for (const verb of verbs) {
      const label = verb.verb + (verb.variant ? ` (${verb.variant.parameter}=${verb.variant.value})` : '');
      const may = canAct && permitted.has(verb.action);
      const button = h('button', { type: 'button', 'data-verb': verb.verb, 'data-action': verb.action,
                                   disabled: !may || null,
                                   title: may ? (verb.note ?? verb.action) : `your role (${role}) may not ${verb.action}` }, label);
      button.addEventListener('click', () => {
        const fields = kParameters[verb.action];
        if (kDestructive.has(verb.action)) {
          formDialog(`${label} ${vm.name} (${vm.id})? This cannot be undone.`, [], label,
                     async () => act(verb, {}));
        } else if (fields) {
          formDialog(label, fields.map((f) => ({ ...f, required: verb.action !== 'rebuild' })), 'Send', async (v) => {
            const extra: Record<string, unknown> = {};
            for (const f of fields) if (v[f.name] !== '') extra[f.name] = f.type === 'number' ? Number(v[f.name]) : v[f.name];
            await act(verb, extra);
          });
        } else {
          act(verb, {}).catch(() => undefined);
        }
      });
      actions.append(button);
    }
    if (verbs.length === 0) actions.append(h('p', { class: 'muted' }, 'No action is allowed in this state now.'));
    const lockButton = h('button', { type: 'button', class: 'secondary', id: 'lock-toggle', disabled: !canAct || null },
                         vm.lock ? 'Unlock' : 'Lock');
    lockButton.addEventListener('click', () => {
      request(vm.lock ? 'DELETE' : 'PUT', `/v1/vms/${id}/lock`, vm.lock ? undefined : {})
        .then(() => { announce(vm.lock ? 'unlocked' : 'locked'); store.markDirty(id); },
              (e: Error) => announce(e.message, 'error'));
    });
    actions.append(lockButton);
    if (currentSession()?.cloud_admin && driver === 'sim') {
      const fault = h('button', { type: 'button', class: 'secondary', id: 'inject-fault' }, 'Inject a fault…');
      fault.addEventListener('click', () => formDialog(`Inject a fault for ${vm.name} (sim driver)`, [
        { name: 'kind', label: 'Kind', type: 'select', options: ['fail', 'fail_intact', 'hang', 'crash'] },
        { name: 'action', label: 'Action (canonical name; empty: any)', type: 'text' },
        { name: 'phase', label: 'Phase (empty: any)', type: 'text' },
        { name: 'times', label: 'Times (-1: until removed)', type: 'number', value: '1' },
        { name: 'message', label: 'Message (for fail)', type: 'text' },
      ], 'Inject', async (v) => {
        const body: Record<string, unknown> = { kind: v.kind, vm: id, times: Number(v.times || 1) };
        if (v.action) body.action = v.action;
        if (v.phase) body.phase = v.phase;
        if (v.message) body.message = v.message;
        const made = await post<{ id: number }>('/v1/admin/faults', body);
        announce(`fault ${made.id} armed: the next matching phase of VM ${id} will ${v.kind}`);
      }));
      actions.append(fault);
    }
  };

  const renderOperation = (vm: Vm) => {
    clear(operation);
    operation.append(h('h3', {}, 'Operation'));
    const op = vm.operation;
    if (!op) { operation.append(h('p', { class: 'muted' }, 'None yet.')); return; }
    operation.append(h('dl', {},
      h('dt', {}, 'action'), h('dd', {}, op.action),
      h('dt', {}, 'status'), h('dd', { id: 'op-status' }, op.status + (op.undoing ? ` (undoing → ${op.undoing})` : '')),
      h('dt', {}, 'phase'), h('dd', { id: 'op-phase' }, op.phase ?? '—'),
      h('dt', {}, 'deadline'), h('dd', {}, op.deadline ? `${new Date(op.deadline).toLocaleTimeString()} (${until(op.deadline)})` : '—'),
      h('dt', {}, 'started'), h('dd', {}, `${since(op.started_at)} by ${op.actor}`),
      op.error ? h('dt', {}, 'error') : null, op.error ? h('dd', { class: 'error-text' }, op.error) : null));
  };

  const renderModel = (vm: Vm) => {
    clear(modelBox);
    const keys = [...new Set([...Object.keys(vm.model.effective), ...Object.keys(vm.model.requested ?? {})])];
    append(modelBox, h('h3', {}, 'Model'),
      table('Model requested and effective', ['', 'effective', 'requested'],
            keys.map((k) => [k, String(vm.model.effective[k] ?? ''),
                             vm.model.requested ? String(vm.model.requested[k] ?? '') : '—'])),
      vm.model.error ? h('p', { class: 'error-text' }, vm.model.error) : null,
      vm.pending_reason ? h('p', {}, `pending: ${vm.pending_reason}`) : null);
  };

  const loadUsage = async () => {
    try {
      const admin = currentSession()?.cloud_admin ? '?all_projects=true' : '';
      const usage = await get<{ billing_table: string; projects: Array<{ servers: Array<{ id: number;
        existed_hours: number; by_class: Record<string, { hours: number; vcpu_hours: number }> }> }> }>(`/v1/usage${admin}`);
      const server = usage.projects.flatMap((p) => p.servers).find((s) => s.id === id);
      clear(usageBox);
      usageBox.append(h('h3', {}, `Usage this month (${usage.billing_table})`));
      if (!server) { usageBox.append(h('p', { class: 'muted' }, 'No usage yet.')); return; }
      usageBox.append(table('Usage by billing class', ['class', 'hours', 'vCPU-hours'],
        Object.entries(server.by_class).map(([k, v]) => [k, v.hours.toFixed(3), v.vcpu_hours.toFixed(3)])));
    } catch (e) {
      clear(usageBox);
      usageBox.append(h('h3', {}, 'Usage'), h('p', { class: 'muted' }, (e as Error).message));
    }
  };

  const loadHistory = async () => {
    try {
      const reply = await get<{ transitions: HistoryEntry[] }>(`/v1/vms/${id}/history?limit=1000`);
      history = reply.transitions;
    } catch { /* shown as it was */ }
    renderHistory();
  };

  const renderHistory = () => {
    const vm = store.vms.get(id);
    clear(historyBox);
    historyBox.append(h('h3', {}, 'History'),
      h('ol', { class: 'timeline' }, ...history.slice().reverse().map((e) =>
        h('li', { class: e.status === 'failed' ? 'failed' : e.from !== e.to ? 'moved' : '' },
          h('time', { datetime: e.at }, new Date(e.at).toLocaleTimeString()),
          ` ${e.action ?? ''}${e.phase ? ' / ' + e.phase : ''} ${e.status ?? ''} — ${e.from}${e.from !== e.to ? ' → ' + e.to : ''} (${e.actor})`,
          e.reason ? h('span', { class: 'muted' }, ` ${e.reason}`) : null))));
    clear(diagramBox);
    const path = history.filter((e) => e.from !== e.to).map((e): [string, string] => [e.from, e.to]);
    diagramBox.append(h('h3', {}, 'Lifecycle'), lifecycleDiagram(vocabulary, vm?.state ?? null, path),
      h('p', { class: 'muted' }, 'Highlighted: the state now and the changes this VM made. Terminating reaches DONE from every state (not drawn).'));
  };

  const render = () => {
    const vm = store.vms.get(id);
    if (!vm) {
      clear(root);
      root.append(h('h1', {}, `${words.vm} ${id}`),
                  h('p', {}, store.loaded ? `No ${words.vm.toLowerCase()} ${id} here.` : 'Loading…'));
      return;
    }
    if (!root.contains(title)) {
      clear(root);
      root.append(h('p', {}, h('a', { href: '#/vms' }, `← ${words.vms}`)),
        h('div', { class: 'vm-head' }, title, badge, lock), actions,
        h('div', { class: 'cards' }, views, operation, modelBox, usageBox), consoleBox, diagramBox, historyBox);
    }
    title.textContent = `${vm.name} (${words.vm} ${vm.id})`;
    badge.textContent = stateLabel(vm, vocabulary);
    lock.textContent = vm.lock ? `locked by ${vm.lock.by}${vm.lock.reason ? ': ' + vm.lock.reason : ''}` : '';
    clear(views);
    for (const v of kVocabularies) views.append(viewCard(vm, v.id));
    renderActions(vm);
    renderOperation(vm);
    renderModel(vm);
    if (vm.state + (vm.operation?.id ?? '') + (vm.operation?.phase ?? '') + (vm.operation?.status ?? '') !== lastState) {
      lastState = vm.state + (vm.operation?.id ?? '') + (vm.operation?.phase ?? '') + (vm.operation?.status ?? '');
      void loadHistory();
    }
  };

  render();
  void loadUsage();
  const ticker = window.setInterval(() => { const vm = store.vms.get(id); if (vm) renderOperation(vm); }, 1000);
  const unsubscribe = store.subscribe((changed) => { if (changed.has(id)) render(); });
  return () => { unsubscribe(); window.clearInterval(ticker); consoleHandle?.close(); };
}
