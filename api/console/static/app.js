// The console's shared parts: the catalogue, API calls with the session's CSRF token, a small
// DOM builder (text is always set as text, never parsed as HTML), and the page loader.

import { formatMinor } from './currency.js';

const csrf = document.querySelector('meta[name="csrf-token"]')?.content;
const root = document.getElementById('app');
const messages = JSON.parse(document.getElementById('console-messages')?.textContent || '{}');
export const config = JSON.parse(document.getElementById('console-config')?.textContent || '{}');

export function t(key, vars = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error;
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code;
    this.details = error?.details || {};
    this.body = body;
  }
}

function withCsrf(headers = {}) {
  return csrf ? { ...headers, 'X-CSRF-Token': csrf } : headers;
}

export async function api(path, { method = 'GET', json, headers = {}, raw = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: method === 'GET' ? headers : withCsrf(headers) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    location.assign(`/console/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, null);
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: { message: text.slice(0, 300) } }; }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// An upload with progress: fetch cannot report upload progress, XMLHttpRequest can.
export function upload(path, body, { headers = {}, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(withCsrf(headers))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress?.(event.loaded, event.total);
    xhr.onload = () => {
      let parsed = null;
      try { parsed = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { parsed = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, body: parsed });
      else reject(new ApiError(xhr.status, parsed));
    };
    xhr.onerror = () => reject(new ApiError(0, { error: { message: t('error.network') } }));
    xhr.send(body);
  });
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// replaceChildren, but with h()'s rules: nested lists flattened, null and false left out.
export function mount(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
}

// With `widths` (a CSS track size a column) the table is laid out as a long list: each row its
// own grid of those widths, so the browser lays out and paints only the rows on screen
// (content-visibility in app.css), and find-in-page still finds the rest. The roles keep it a
// table for assistive technology, which a display other than table's would otherwise hide.
export function table(columns, rows, { testid, empty = t('empty'), widths } = {}) {
  if (!rows.length) return h('p', { class: 'muted', 'data-testid': testid && `${testid}-empty` }, empty);
  const long = Array.isArray(widths);
  const role = (name) => (long ? name : undefined);
  return h('table', { 'data-testid': testid, class: long ? 'long' : undefined, role: role('table'),
    style: long ? `--columns: ${widths.join(' ')}` : undefined },
    h('thead', { role: role('rowgroup') }, h('tr', { role: role('row') }, columns.map((c) => h('th', { role: role('columnheader') }, c.label)))),
    h('tbody', { role: role('rowgroup') }, rows.map((row) => h('tr', { role: role('row') },
      columns.map((c) => h('td', { class: c.class, role: role('cell') }, c.value(row)))))));
}

export function progress(label) {
  const bar = h('progress', { max: 100, value: 0 });
  const text = h('span', { class: 'muted' }, '');
  const el = h('div', { class: 'progress', 'data-testid': 'progress' }, h('span', {}, label), bar, text);
  let latest = null;
  return {
    el,
    set(done, total) { // called once per line or chunk: drawn at most once a frame
      if (latest === null) {
        requestAnimationFrame(() => {
          const [d, n] = latest;
          latest = null;
          bar.max = n; bar.value = d;
          text.textContent = `${Math.floor((d * 100) / Math.max(n, 1))}%`;
        });
      }
      latest = [done, total];
    },
  };
}

// A form's submit: the button is disabled while `action` runs, and what it throws is shown in `status`.
// Follow a media job (GET /jobs/{id}) until it ends, moving `bar`; a failed job is thrown as
// the error it ended with, so that onSubmit shows it like any refusal.
export async function followJob(job, bar, pollMs = 500) {
  while (job.status !== 'done' && job.status !== 'failed') {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    job = await api(`/jobs/${job.id}`);
    if (job.progress.total) bar.set(job.progress.done, job.progress.total);
  }
  if (job.status === 'failed') throw new ApiError(422, { error: job.error });
  return job;
}

export function onSubmit(form, status, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
}

export function errorBox(error) {
  const lines = [error.message];
  if (error.details?.field) lines.push(`${t('error.field')}: ${error.details.field}`);
  return h('div', { class: 'error', role: 'alert' }, lines.join(' · '));
}

// Amounts are integer minor units in strings, formatted with BigInt (never floats) by the bundle.
export function money(amount, currency) {
  return `${formatMinor(amount, currency)} ${currency}`;
}

// The service's times are UTC; one written without a zone is read as UTC too, not as the
// browser's local time.
export function utc(value) {
  return /(Z|[+-]\d\d:?\d\d)$/.test(value) ? new Date(value) : new Date(`${value}Z`);
}

export function date(value) {
  if (value === null || value === undefined) return '';
  const when = typeof value === 'number' ? new Date(value * 1000) : utc(value);
  return when.toISOString().replace('T', ' ').slice(0, 16);
}

export function short(hex, keep = 10) {
  return hex && hex.length > keep + 4 ? `${hex.slice(0, keep)}…${hex.slice(-4)}` : hex || '';
}

// The roles that may open a work's page: others see a work named, not linked to a page refused to them.
export const WORK_READERS = new Set(['rights_holder', 'auditor', 'admin']);

// A work as a case names it: its title and its shortened id (in full on hover), a link to the work
// when `link` (the role may open the work's page).
export function workName(item, { link = true } = {}) {
  const attrs = { class: 'mono whole', title: item.work_id, 'data-testid': 'work-id' };
  return h('span', {}, `${item.title} `, link
    ? h('a', { ...attrs, href: `/console/work?id=${encodeURIComponent(item.work_id)}` }, short(item.work_id, 6))
    : h('span', attrs, short(item.work_id, 6)));
}

// A span of time in seconds, in the largest units that keep it readable: 73 is "1 min 13 s".
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t('duration.s', { s });
  if (s < 3600) return t('duration.ms', { m: Math.floor(s / 60), s: s % 60 });
  if (s < 86400) return t('duration.hm', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
  return t('duration.dh', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
}

// A text whose `backquoted` parts are commands or code: those drawn as code, the rest as text.
export function withCode(text) {
  return text.split(/`([^`]+)`/).map((part, i) => (i % 2 ? h('code', {}, part) : part)).filter((part) => part !== '');
}

// A value of an enumeration the API gives (a right, a kind...) in the console's language; the
// value itself when the catalogue has no text for it.
export function term(prefix, value) {
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

// Who an address is, as far as the caller may know: itself ("you"), an account named in `names`
// (address, lower case, to name), or the address shortened with the whole of it on hover.
export function accountName(address, { me, names } = {}) {
  if (!address) return '—';
  const key = address.toLowerCase();
  if (me && key === me.toLowerCase()) {
    return h('span', { title: address, 'data-testid': 'account-you' }, t('account.you'));
  }
  const name = names?.get(key);
  if (name) return h('span', { title: address, 'data-testid': 'account-name' }, name);
  return h('span', { class: 'mono whole', title: address }, short(address));
}

// The names of the accounts the caller may list (administrators and auditors read every account;
// other roles are given none: they see addresses, their own as "you"), by address in lower case.
export async function accountNames(role) {
  const names = new Map();
  if (role !== 'admin' && role !== 'auditor') return names;
  try {
    for (let offset = 0; ; offset += 500) {
      const page = await api(`/accounts?limit=500&offset=${offset}`);
      for (const account of page) names.set(account.address.toLowerCase(), account.name);
      if (page.length < 500) break;
    }
  } catch { /* names are a courtesy: addresses are shown without them */ }
  return names;
}

export function chainBadge(chain) {
  const state = chain?.status || 'unknown';
  return h('span', { class: `badge ${state}`, title: chain?.tx_hash || '' }, t(`chain.${state}`));
}

document.getElementById('sign-out')?.addEventListener('click', async () => {
  try { await api('/console/session/end', { method: 'POST' }); } catch { /* signed out either way */ }
  location.assign('/console/login');
});

if (root) {
  const context = { root, role: root.dataset.role, address: root.dataset.address, lang: root.dataset.lang };
  import(`./pages/${root.dataset.page}.js`)
    .then((page) => page.render(context))
    .catch((error) => { root.replaceChildren(errorBox(error)); });
}
