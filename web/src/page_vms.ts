// The VMs page: every VM the session sees, in the chosen vocabulary's columns, live. Only the
// rows in view are in the DOM (a fixed row height and two spacer rows stand for the rest), so
// ten thousand VMs scroll and update without lag.
import { post } from './api';
import { type Column, columnsFor, nouns, stateLabel, type Vm, type Vocabulary } from './model';
import type { VmStore } from './store';
import { announce, clear, formDialog, h } from './ui';

const kRowHeight = 34;
const kOverscan = 10;

export function renderVmsPage(root: HTMLElement, store: VmStore, vocabulary: Vocabulary,
                              canAct: boolean): () => void {
  const words = nouns(vocabulary);
  const columns = columnsFor(vocabulary);
  let sortKey = 'id';
  let sortAscending = true;
  let filterText = '';
  let filterState = '';
  let rows: Vm[] = [];

  const count = h('span', { class: 'count', 'aria-live': 'polite' });
  const search = h('input', { type: 'search', id: 'vm-filter', placeholder: 'name, id or host',
                              'aria-label': `Filter ${words.vms}` });
  const stateSelect = h('select', { id: 'vm-state-filter', 'aria-label': `Filter by ${words.state}` });
  const create = h('button', { type: 'button', id: 'create-vm', disabled: !canAct,
                               title: canAct ? null : 'your role may not create' }, words.create);
  const head = h('thead', {});
  const body = h('tbody', {});
  const scroller = h('div', { class: 'scroller', tabindex: 0, 'aria-label': `${words.vms} table` },
    h('table', { class: 'grid vms', id: 'vms-table' },
      h('caption', { class: 'visually-hidden' }, words.vms), head, body));

  const renderHead = () => {
    clear(head);
    head.append(h('tr', {}, ...columns.map((c) => {
      const sorted = c.key === sortKey;
      const button = h('button', { type: 'button', class: 'sort' }, c.label,
                       sorted ? (sortAscending ? ' ▲' : ' ▼') : '');
      button.addEventListener('click', () => {
        if (sortKey === c.key) sortAscending = !sortAscending;
        else { sortKey = c.key; sortAscending = true; }
        renderHead();
        recompute();
      });
      return h('th', { scope: 'col', 'aria-sort': sorted ? (sortAscending ? 'ascending' : 'descending') : null,
                       class: c.numeric ? 'num' : null }, button);
    })));
  };

  const compare = (column: Column) => (a: Vm, b: Vm) => {
    const x = column.value(a);
    const y = column.value(b);
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return (sortAscending ? order : -order) || a.id - b.id;
  };

  const recompute = () => {
    const needle = filterText.toLowerCase();
    const all = [...store.vms.values()];
    const labels = new Set(all.map((vm) => stateLabel(vm, vocabulary)));
    if (stateSelect.options.length !== labels.size + 1 ||
        [...labels].some((l) => ![...stateSelect.options].some((o) => o.value === l))) {
      const keep = stateSelect.value;
      clear(stateSelect);
      stateSelect.append(h('option', { value: '' }, `every ${words.state.toLowerCase()}`),
                         ...[...labels].sort().map((l) => h('option', { value: l }, l)));
      stateSelect.value = labels.has(keep) ? keep : '';
      filterState = stateSelect.value;
    }
    rows = all.filter((vm) =>
      (!filterState || stateLabel(vm, vocabulary) === filterState) &&
      (!needle || vm.name.toLowerCase().includes(needle) || String(vm.id) === needle ||
       (vm.host ?? '').toLowerCase().includes(needle)));
    const column = columns.find((c) => c.key === sortKey) ?? columns[0];
    rows.sort(compare(column));
    count.textContent = `${rows.length} of ${store.vms.size} ${words.vms}`;
    schedule();
  };

  let frame = 0;
  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => { frame = 0; paint(); });
  };
  const paint = () => {
    const first = Math.max(0, Math.floor(scroller.scrollTop / kRowHeight) - kOverscan);
    const visible = Math.ceil(scroller.clientHeight / kRowHeight) + 2 * kOverscan;
    const last = Math.min(rows.length, first + visible);
    const out: HTMLTableRowElement[] = [];
    out.push(h('tr', { class: 'spacer', 'aria-hidden': 'true', style: `height:${first * kRowHeight}px` }));
    for (let i = first; i < last; ++i) {
      const vm = rows[i];
      out.push(h('tr', { 'data-vm': vm.id },
        ...columns.map((c, n) => {
          const text = String(c.value(vm));
          const cell = n === 0 || c.key === 'name'
            ? h('a', { href: `#/vms/${vm.id}` }, text) : text;
          return h('td', { class: c.numeric ? 'num' : null, 'data-col': c.key }, cell);
        })));
    }
    out.push(h('tr', { class: 'spacer', 'aria-hidden': 'true', style: `height:${(rows.length - last) * kRowHeight}px` }));
    body.replaceChildren(...out);
  };

  search.addEventListener('input', () => { filterText = search.value; recompute(); });
  stateSelect.addEventListener('change', () => { filterState = stateSelect.value; recompute(); });
  scroller.addEventListener('scroll', schedule);
  create.addEventListener('click', () => formDialog(words.create, [
    { name: 'name', label: 'Name', type: 'text', required: true },
    { name: 'image', label: 'Image', type: 'text', value: 'tiny', required: true },
    { name: 'vcpus', label: 'vCPUs', type: 'number', value: '1', min: 1, required: true },
    { name: 'memory_mib', label: 'Memory (MiB)', type: 'number', value: '128', min: 16, required: true },
    { name: 'hold', label: 'Hold (do not schedule yet)', type: 'checkbox' },
  ], 'Create', async (v) => {
    const reply = await post<{ vm: Vm }>('/v1/vms', {
      name: v.name, image: v.image, vcpus: Number(v.vcpus), memory_mib: Number(v.memory_mib),
      hold: v.hold === 'true' });
    store.vms.set(reply.vm.id, reply.vm);
    recompute();
    announce(`${words.vm} ${reply.vm.name} (${reply.vm.id}) created`);
  }));

  clear(root);
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, words.vms), count, search, stateSelect, create),
    scroller);
  renderHead();
  recompute();
  return store.subscribe(() => recompute());
}
