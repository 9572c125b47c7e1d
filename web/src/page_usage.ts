// Usage by billing class: GET /v1/usage in the billing table chosen, per project, as a stacked
// bar chart (SVG, with the figures in a table beside it for screen readers and copying).
import { currentSession, get } from './api';
import { clear, h, table } from './ui';

interface ClassUse { hours: number; vcpu_hours: number; memory_mib_hours: number }
interface Usage { billing_table: string; from: string; to: string;
                  projects: Array<{ project: { id: number; name: string }; vms: number; existed_hours: number;
                                    by_class: Record<string, ClassUse> }> }

const kTables = ['azure-2021', 'azure-current', 'opennebula-showback'];
const kColors: Record<string, string> = { hardware_and_software: '#1d4e89', hardware_only: '#5b8fd1',
                                          not_billed: '#b8c4d6', billed: '#1d4e89' };

function chart(usage: Usage): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const el = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const rowH = 34;
  const width = 760;
  const left = 160;
  const max = Math.max(1e-9, ...usage.projects.map((p) => Object.values(p.by_class).reduce((s, c) => s + c.hours, 0)));
  const svg = el('svg', { viewBox: `0 0 ${width} ${usage.projects.length * rowH + 40}`, class: 'chart', role: 'img',
                          'aria-label': 'Hours by billing class per project' });
  usage.projects.forEach((p, i) => {
    const y = i * rowH + 8;
    svg.append(el('text', { x: left - 8, y: y + 17, 'text-anchor': 'end' }, p.project.name));
    let x = left;
    for (const [cls, use] of Object.entries(p.by_class)) {
      const w = ((width - left - 20) * use.hours) / max;
      const rect = el('rect', { x, y, width: Math.max(0, w), height: rowH - 10, fill: kColors[cls] ?? '#888' });
      rect.append(el('title', {}, `${cls}: ${use.hours.toFixed(3)} h`));
      svg.append(rect);
      x += w;
    }
  });
  const classes = [...new Set(usage.projects.flatMap((p) => Object.keys(p.by_class)))];
  classes.forEach((cls, i) => {
    const x = left + i * 190;
    const y = usage.projects.length * rowH + 18;
    svg.append(el('rect', { x, y, width: 12, height: 12, fill: kColors[cls] ?? '#888' }),
               el('text', { x: x + 18, y: y + 11 }, cls));
  });
  return svg;
}

export function renderUsagePage(root: HTMLElement): () => void {
  const select = h('select', { id: 'billing-table', 'aria-label': 'Billing table' },
                   ...kTables.map((t) => h('option', { value: t }, t)));
  const body = h('div', {});
  const load = async () => {
    clear(body);
    try {
      const all = currentSession()?.cloud_admin ? '&all_projects=true' : '';
      const usage = await get<Usage>(`/v1/usage?billing=${encodeURIComponent(select.value)}${all}`);
      body.append(h('p', {}, `From ${new Date(usage.from).toLocaleString()} to ${new Date(usage.to).toLocaleString()}`),
        chart(usage),
        table('Usage by project and billing class', ['Project', 'VMs', 'Class', 'Hours', 'vCPU-hours', 'MiB-hours'],
          usage.projects.flatMap((p) => Object.entries(p.by_class).map(([cls, c]) =>
            [p.project.name, p.vms, cls, c.hours.toFixed(3), c.vcpu_hours.toFixed(3), c.memory_mib_hours.toFixed(1)]))));
    } catch (e) {
      body.append(h('p', { class: 'error-text', role: 'alert' }, (e as Error).message));
    }
  };
  select.addEventListener('change', () => void load());
  clear(root);
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, 'Usage'), select), body);
  void load();
  return () => undefined;
}
