// The serial console in the browser: xterm.js over the console's WebSocket
// (GET /v1/vms/{id}/console/ws, subprotocol corral.console.v1). A browser's WebSocket cannot send
// an Authorization header, so the token goes as the subprotocol "bearer.<token>" (the server
// never echoes it). What the guest wrote before the page opened comes from /console/log first.
import '@xterm/xterm/css/xterm.css';
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { ApiError, currentSession, get } from './api';
import { h } from './ui';

export interface ConsoleHandle { close(): void }

export async function openConsole(container: HTMLElement, vmId: number,
                                  onStatus: (text: string, error: boolean) => void): Promise<ConsoleHandle | null> {
  let log = '';
  try {
    log = (await get<{ log: string }>(`/v1/vms/${vmId}/console/log?bytes=8192`)).log;
  } catch (e) {
    onStatus(e instanceof ApiError ? e.message : String(e), true);
    return null;  // refused before any socket: the sim, a VM with no process
  }
  const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, rows: 24,
                              screenReaderMode: true, theme: { background: '#101418' } });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const host = h('div', { class: 'terminal', id: 'console-terminal' });
  container.append(host);
  term.open(host);
  fit.fit();
  if (log) term.write(log);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const protocols = ['corral.console.v1'];
  const token = currentSession()?.token;
  if (token) protocols.push(`bearer.${token}`);
  const socket = new WebSocket(`${scheme}//${location.host}/v1/vms/${vmId}/console/ws`, protocols);
  socket.binaryType = 'arraybuffer';
  const encoder = new TextEncoder();
  socket.addEventListener('open', () => { onStatus('console connected', false); term.focus(); });
  socket.addEventListener('message', (event) => {
    term.write(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer));
  });
  socket.addEventListener('close', (event) => {
    onStatus(`console closed${event.reason ? ': ' + event.reason : ''}`, event.code !== 1000 && event.code !== 1005);
    term.write('\r\n[console closed]\r\n');
  });
  const typed = term.onData((data) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
  });
  const onResize = () => fit.fit();
  window.addEventListener('resize', onResize);
  return {
    close() {
      typed.dispose();
      window.removeEventListener('resize', onResize);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000);
      term.dispose();
      host.remove();
    },
  };
}
