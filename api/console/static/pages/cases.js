// Piracy cases: the links found, where each leak came from, and how long links stay up.
import { WORK_READERS, api, chainBadge, date, duration, h, mount, short, t, table, workName } from '../app.js';

const BUCKETS = [[3600, '< 1 h'], [6 * 3600, '1–6 h'], [86400, '6–24 h'], [3 * 86400, '1–3 d'], [7 * 86400, '3–7 d'], [Infinity, '> 7 d']];

// Every life of a link that ended in a takedown, as /cases/lifetimes counts them: a closed case's
// current one, and the earlier lives of a link found again since.
function takedowns(items) {
  return items.flatMap((c) => [
    ...(c.history || []).map((life) => life.lifetime_seconds),
    ...(c.status === 'closed' && c.lifetime_seconds !== null ? [c.lifetime_seconds] : []),
  ]);
}

async function lifetimeChart(lives) {
  if (!lives.length) return h('p', { class: 'muted' }, t('cases.nolifetimes'));
  const { Chart } = await import('../console.js');
  const counts = BUCKETS.map(([limit], i) => lives.filter((s) => s < limit && (i === 0 || s >= BUCKETS[i - 1][0])).length);
  const canvas = h('canvas', { id: 'lifetimes', role: 'img', 'aria-label': t('cases.lifetimes') });
  queueMicrotask(() => new Chart(canvas, {
    type: 'bar',
    data: { labels: BUCKETS.map(([, label]) => label), datasets: [{ label: t('cases.links'), data: counts }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { ticks: { precision: 0 } } } },
  }));
  return canvas;
}

export async function render({ root, role }) {
  const status = new URLSearchParams(location.search).get('status') || '';
  const [page, lifetimes, every] = await Promise.all([
    api(`/cases?limit=500${status ? `&status=${encodeURIComponent(status)}` : ''}`), api('/cases/lifetimes'),
    status ? api('/cases?limit=500') : null, // the lifetimes are every case's, whichever are listed
  ]);
  const lives = takedowns((every || page).items);
  const linked = WORK_READERS.has(role);
  mount(root, 
    h('h1', {}, t('nav.cases')),
    h('div', { class: 'tiles' },
      h('a', { class: 'tile', href: '?status=open' }, h('strong', { 'data-testid': 'open-cases' }, String(lifetimes.open)), h('span', {}, t('cases.open'))),
      h('a', { class: 'tile', href: '?status=closed' }, h('strong', { 'data-testid': 'closed-cases' }, String(lifetimes.closed)), h('span', {}, t('cases.closed'))),
      h('div', { class: 'tile' }, h('strong', { 'data-testid': 'takedowns' }, String(lives.length)), h('span', {}, t('cases.takedowns'))),
      h('div', { class: 'tile' }, h('strong', { 'data-testid': 'median-lifetime' }, duration(lifetimes.median_lifetime_seconds)), h('span', {}, t('cases.median')))),
    h('section', { class: 'card chart' }, h('h2', {}, t('cases.lifetimes')), await lifetimeChart(lives)),
    table([
      { label: '#', value: (c) => h('a', { href: `/console/case?id=${c.id}`, 'data-testid': 'case-link' }, String(c.id)) },
      // two works may share a title: the work id beside it tells them apart
      { label: t('statement.work'), value: (c) => workName(c, { link: linked }) },
      { label: t('cases.url'), value: (c) => h('span', { class: 'mono', title: c.url }, short(c.url, 40)) },
      { label: t('cases.source'), value: (c) => c.leak.platform?.name || t('cases.unknown') },
      { label: t('cases.status'), value: (c) => t(`case.status.${c.status}`) },
      { label: t('cases.firstSeen'), value: (c) => date(c.first_seen_at) },
      { label: t('cases.lifetime'), value: (c) => duration(c.lifetime_seconds) },
      { label: t('cases.anchor'), value: (c) => chainBadge(c.anchor) },
    ], page.items, { testid: 'cases' }),
  );
}
