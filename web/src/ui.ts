// Small DOM helpers: an element builder, the page's live status region (announced to screen
// readers), and a modal form built on <dialog> (focus kept inside, Escape closes).

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {},
                                                        ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (key === 'class') {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

export function clear(el: Element): void { el.replaceChildren(); }

// The status line under the header: what the last action did, or the API's refusal.
export function announce(message: string, kind: 'info' | 'error' = 'info'): void {
  const region = document.getElementById('status');
  if (!region) return;
  region.className = 'status ' + kind;
  region.textContent = message;
}

export interface Field { name: string; label: string; type: 'text' | 'number' | 'password' | 'select' | 'checkbox';
                         value?: string; options?: string[]; required?: boolean; min?: number }

// A modal form: resolves with the values entered, or null when canceled.
export function formDialog(title: string, fields: Field[], submitLabel: string,
                           submit: (values: Record<string, string>) => Promise<void>): void {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const inputs: Record<string, HTMLInputElement | HTMLSelectElement> = {};
  const rows = fields.map((f) => {
    const id = `field-${f.name}`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.type === 'select') {
      input = h('select', { id, name: f.name }, ...(f.options ?? []).map((o) => h('option', { value: o }, o)));
      if (f.value) input.value = f.value;
    } else {
      input = h('input', { id, name: f.name, type: f.type, value: f.type === 'checkbox' ? null : f.value ?? '',
                           required: !!f.required, min: f.min ?? null, autocomplete: 'off' });
      if (f.type === 'checkbox' && f.value === 'true') (input as HTMLInputElement).checked = true;
    }
    inputs[f.name] = input;
    return h('div', { class: 'form-row' }, h('label', { for: id }, f.label), input);
  });
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' });
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'dialog-title' }, title), ...rows, error,
    h('div', { class: 'form-buttons' }, cancel, h('button', { type: 'submit' }, submitLabel)));
  cancel.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values: Record<string, string> = {};
    for (const [name, input] of Object.entries(inputs)) {
      values[name] = input instanceof HTMLInputElement && input.type === 'checkbox'
        ? String(input.checked) : input.value;
    }
    submit(values).then(() => dialog.close(), (e: Error) => { error.textContent = e.message; });
  });
  dialog.addEventListener('close', () => dialog.remove());
  dialog.append(form);
  document.body.append(dialog);
  dialog.showModal();
}

export function since(iso: string | null): string {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function until(iso: string | null): string {
  if (!iso) return '';
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  return s >= 0 ? `in ${s} s` : `${-s} s overdue`;
}

// A plain table of `rows`, with a caption for screen readers.
export function table(caption: string, headers: string[], rows: Child[][]): HTMLTableElement {
  return h('table', { class: 'grid' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}
