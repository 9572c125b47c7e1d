// The dashboard's shell: the login form, the header (pages, the vocabulary switch, who is
// logged in), and the hash router (#/vms, #/vms/ID, #/hosts, #/networks, #/volumes, #/usage,
// #/lifecycle). Every page reads the API with the session's token; what a role may not do is
// shown disabled, and the API stays the judge.
import './style.css';
import { ApiError, currentSession, get, login, logout, onSessionChange } from './api';
import { lifecycleDiagram } from './diagram';
import { kVocabularies, setModel, type StatesModel, type Vocabulary } from './model';
import { renderHostsPage, renderNetworksPage, renderVolumesPage } from './page_cloud';
import { renderUsagePage } from './page_usage';
import { renderVmPage } from './page_vm';
import { renderVmsPage } from './page_vms';
import { VmStore } from './store';
import { clear, h } from './ui';

const app = document.getElementById('app') as HTMLElement;
let store: VmStore | null = null;
let leave: () => void = () => undefined;
let vocabulary: Vocabulary = (localStorage.getItem('corral.vocabulary') as Vocabulary | null) ?? 'corral';
if (!kVocabularies.some((v) => v.id === vocabulary)) vocabulary = 'corral';

function renderLogin(message = ''): void {
  leave();
  store?.stop();
  store = null;
  clear(app);
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' }, message);
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password',
                                autocomplete: 'current-password', required: true });
  const project = h('input', { id: 'login-project', name: 'project', placeholder: 'your only project if left empty' });
  const form = h('form', { class: 'login card', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in to Corral'),
    h('div', { class: 'form-row' }, h('label', { for: 'login-user' }, 'User'), user),
    h('div', { class: 'form-row' }, h('label', { for: 'login-password' }, 'Password'), password),
    h('div', { class: 'form-row' }, h('label', { for: 'login-project' }, 'Project'), project),
    error, h('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    login(user.value, password.value, project.value).catch((e: Error) => {
      error.textContent = e.message;
    });
  });
  app.append(h('main', { class: 'center' }, form));
  user.focus();
}

async function renderShell(): Promise<void> {
  const s = currentSession();
  if (!s) { renderLogin(); return; }
  // The model and the VMs load at the same time: neither needs the other.
  store = new VmStore();
  (window as unknown as { corralStore: VmStore }).corralStore = store;  // for the tests and the bench
  const started = store.start().then(() => null, (e: Error) => e);
  try {
    setModel(await get<StatesModel>('/v1/states'));
  } catch (e) {
    store.stop();
    renderLogin(e instanceof ApiError ? e.message : String(e));
    return;
  }
  const main = h('main', { id: 'main', tabindex: -1 });
  const vocabularySelect = h('select', { id: 'vocabulary', 'aria-label': 'Vocabulary' },
    ...kVocabularies.map((v) => h('option', { value: v.id }, v.label)));
  vocabularySelect.value = vocabulary;
  vocabularySelect.addEventListener('change', () => {
    vocabulary = vocabularySelect.value as Vocabulary;
    localStorage.setItem('corral.vocabulary', vocabulary);
    route();
  });
  const out = h('button', { type: 'button', class: 'secondary', id: 'logout' }, 'Log out');
  out.addEventListener('click', () => void logout());
  const links: Array<[string, string]> = [['#/vms', 'VMs'], ['#/hosts', 'Hosts'], ['#/networks', 'Networks'],
                                          ['#/volumes', 'Volumes'], ['#/usage', 'Usage'], ['#/lifecycle', 'Lifecycle']];
  const nav = h('nav', { 'aria-label': 'Pages' }, ...links.map(([href, text]) => h('a', { href }, text)));
  clear(app);
  app.append(
    h('a', { class: 'skip', href: '#main', onclick: ((e: Event) => { e.preventDefault(); main.focus(); }) as EventListener }, 'Skip to content'),
    h('header', {}, h('span', { class: 'brand' }, 'Corral'), nav,
      h('span', { class: 'who', id: 'who' }, `${s.user.name} · ${s.project.name} · ${s.role}`),
      h('label', { class: 'vocab' }, 'Vocabulary ', vocabularySelect), out),
    h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' }),
    main);
  const failed = await started;
  if (failed) main.append(h('p', { class: 'error-text', role: 'alert' }, failed.message));
  route();
}

function route(): void {
  const main = document.getElementById('main');
  if (!main || !store) return;
  leave();
  const s = currentSession();
  const canAct = !!s && s.role !== 'reader';
  const hash = location.hash || '#/vms';
  for (const a of document.querySelectorAll('nav a')) {
    const here = hash === a.getAttribute('href') || (a.getAttribute('href') === '#/vms' && hash.startsWith('#/vms'));
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const vm = /^#\/vms\/(\d+)$/.exec(hash);
  if (vm) leave = renderVmPage(main, store, Number(vm[1]), vocabulary, canAct);
  else if (hash === '#/hosts') leave = renderHostsPage(main, store, vocabulary);
  else if (hash === '#/networks') leave = renderNetworksPage(main, vocabulary);
  else if (hash === '#/volumes') leave = renderVolumesPage(main, vocabulary);
  else if (hash === '#/usage') leave = renderUsagePage(main);
  else if (hash === '#/lifecycle') {
    clear(main);
    main.append(h('h1', {}, 'Lifecycle'), h('div', { class: 'card wide' }, lifecycleDiagram(vocabulary, null, [])));
    leave = () => undefined;
  } else leave = renderVmsPage(main, store, vocabulary, canAct);
  document.title = `Corral — ${main.querySelector('h1')?.textContent ?? ''}`;
}

window.addEventListener('hashchange', route);
onSessionChange((s) => { if (s) void renderShell(); else renderLogin('Logged out.'); });
void renderShell();
