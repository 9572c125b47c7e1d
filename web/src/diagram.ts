// The lifecycle diagram: the canonical states (GET /v1/states) as boxes named in the chosen
// vocabulary, the transition table's state changes as arrows, and, for one VM, its state now
// and the changes it went through highlighted. Terminating reaches DONE from every state; those
// arrows are left out and said in the caption, or they would hide the rest.
import { stateName, theModel, type Vocabulary } from './model';

const kSvg = 'http://www.w3.org/2000/svg';
const kBoxW = 150;
const kBoxH = 44;

// Where each state is drawn (the states' names are the model's; a new state not placed here is
// drawn in the last row, so the diagram never loses one).
const kPlace: Record<string, [number, number]> = {
  INIT: [90, 50], PENDING: [290, 50], HOLD: [490, 50], FAILED: [690, 50], DONE: [890, 50],
  PAUSED: [90, 230], RUNNING: [290, 230], POWEROFF: [490, 230], RESCUED: [690, 230], RESIZED: [890, 230],
  SUSPENDED: [90, 410], DEALLOCATED: [290, 410], SHELVED: [490, 410], UNKNOWN: [690, 410], SOFT_DELETED: [890, 410],
  HIBERNATED: [90, 560],
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(kSvg, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// `current`: the VM's state (or null); `path`: the state changes it made, in order.
export function lifecycleDiagram(vocabulary: Vocabulary, current: string | null,
                                 path: Array<[string, string]>): SVGSVGElement {
  const model = theModel();
  const names = model.states.map((s) => s.name);
  let spare = 90;
  const at = (name: string): [number, number] => {
    if (!kPlace[name]) { kPlace[name] = [spare, 700]; spare += 200; }
    return kPlace[name];
  };
  names.forEach(at);
  const walked = new Set(path.map(([a, b]) => `${a}>${b}`));
  const edges = new Set<string>();
  for (const t of model.transitions) {
    if (!names.includes(t.to) || t.to === 'DONE') continue;
    for (const f of t.from) if (f !== t.to && names.includes(f)) edges.add(`${f}>${t.to}`);
  }
  for (const e of walked) edges.add(e);
  const height = Math.max(...names.map((n) => at(n)[1])) + 60;
  const root = svg('svg', { viewBox: `0 0 990 ${height}`, class: 'diagram', role: 'img' });
  const title = svg('title', {});
  title.textContent = `Lifecycle diagram${current ? `: the VM is ${current}` : ''}`;
  root.append(title);
  const defs = svg('defs', {});
  for (const [id, cls] of [['arrow', 'edge'], ['arrow-walked', 'edge walked']]) {
    const marker = svg('marker', { id, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: cls + ' head' }));
    defs.append(marker);
  }
  root.append(defs);
  // The walked arrows last, so that they are drawn over the others.
  const ordered = [...edges].sort((a, b) => Number(walked.has(a)) - Number(walked.has(b)));
  for (const e of ordered) {
    const [from, to] = e.split('>');
    const [x1, y1] = at(from);
    const [x2, y2] = at(to);
    // From the edge of one box to the edge of the other, bent a little so that the two
    // directions between a pair of states do not overlap.
    const clip = (x: number, y: number, dx: number, dy: number): [number, number] => {
      const sx = dx === 0 ? Infinity : (kBoxW / 2 + 4) / Math.abs(dx);
      const sy = dy === 0 ? Infinity : (kBoxH / 2 + 4) / Math.abs(dy);
      const s = Math.min(sx, sy);
      return [x + dx * s, y + dy * s];
    };
    const dx = x2 - x1;
    const dy = y2 - y1;
    const [ax, ay] = clip(x1, y1, dx, dy);
    const [bx, by] = clip(x2, y2, -dx, -dy);
    const len = Math.hypot(bx - ax, by - ay) || 1;
    const bend = 18;
    const cx = (ax + bx) / 2 + (-(by - ay) / len) * bend;
    const cy = (ay + by) / 2 + ((bx - ax) / len) * bend;
    const isWalked = walked.has(e);
    root.append(svg('path', { d: `M ${ax} ${ay} Q ${cx} ${cy} ${bx} ${by}`,
                              class: isWalked ? 'edge walked' : 'edge',
                              'marker-end': `url(#${isWalked ? 'arrow-walked' : 'arrow'})`,
                              'data-edge': e }));
  }
  for (const state of model.states) {
    const [x, y] = at(state.name);
    const visited = path.some(([a, b]) => a === state.name || b === state.name);
    const g = svg('g', { class: `node${state.name === current ? ' current' : ''}${visited ? ' visited' : ''}`,
                         'data-state': state.name });
    g.append(svg('rect', { x: x - kBoxW / 2, y: y - kBoxH / 2, width: kBoxW, height: kBoxH, rx: 8 }));
    const label = svg('text', { x, y: y + 5, 'text-anchor': 'middle' });
    label.textContent = stateName(state.views, state.name, vocabulary);
    g.append(label);
    root.append(g);
  }
  return root;
}
