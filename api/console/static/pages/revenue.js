// Revenue from statements: by platform, by work and over time, for the periods the account has
// lines in. Sums are BigInt minor units; charts get major units (with their fraction) only for drawing.
import { api, h, money, mount, short, t } from '../app.js';
import { minorExponent } from '../currency.js';
import { workName } from './statements.js';

function add(map, key, amount) {
  map.set(key, (map.get(key) || 0n) + amount);
}

// Drawing only (the tables show exact amounts): 102 fen is 1.02, not 1.
function toMajor(amount, currency) {
  const unit = 10n ** BigInt(minorExponent(currency));
  return Number(amount / unit) + Number(amount % unit) / Number(unit);
}

// An axis from 0 that holds the largest value with room above it, in the currency's major units.
function axis(values, currency) {
  const top = Math.max(0, ...values);
  return { beginAtZero: true, suggestedMax: top * 1.1, title: { display: true, text: currency } };
}

function chartCard({ Chart }, id, title, type, labels, values, currency) {
  const canvas = h('canvas', { id, 'aria-label': title, role: 'img' });
  const card = h('section', { class: 'card chart' }, h('h2', {}, title), canvas);
  const data = values.map((v) => toMajor(v, currency));
  // A value pointed at is the exact amount, as the tables give it (1.50 CNY, not 1.5).
  const exact = (context) => money(values[context.dataIndex].toString(), currency);
  const label = type === 'doughnut' ? (context) => `${context.label}: ${exact(context)}` : exact;
  queueMicrotask(() => new Chart(canvas, {
    type,
    data: { labels, datasets: [{ label: currency, data }] },
    options: {
      animation: false, responsive: true,
      plugins: { legend: { display: type === 'doughnut' }, tooltip: { callbacks: { label } } },
      scales: type === 'doughnut' ? {} : { y: axis(data, currency) },
    },
  }));
  return card;
}

export async function render({ root, role }) {
  const [bundle, periods, works, upstream] = await Promise.all([
    import('../console.js'), api('/periods'), api('/works?limit=500'), api('/statements/upstream')]);
  const titles = new Map(works.items.map((w) => [w.work_id, w.title]));
  const byCurrency = new Map();
  for (const period of periods) {
    const statement = await api(`/periods/${period.period_id}/statement?proofs=false`); // amounts only
    if (!byCurrency.has(statement.currency)) {
      byCurrency.set(statement.currency, { platform: new Map(), work: new Map(), month: new Map(), total: 0n });
    }
    const sums = byCurrency.get(statement.currency);
    for (const line of statement.lines) {
      // a line an upheld dispute voided pays nothing: its corrected amount is a later period's line
      if (line.dispute?.state === 'voided') continue;
      const amount = BigInt(line.amount);
      if (line.work_title && !titles.has(line.work_id)) titles.set(line.work_id, line.work_title); // a parent work of someone else's
      add(sums.platform, period.platform, amount); // by the platform's account name, not its address
      add(sums.work, line.work_id, amount);
      add(sums.month, statement.period.first_day.slice(0, 7), amount);
      sums.total += amount;
    }
  }
  const sections = [];
  for (const [currency, sums] of byCurrency) {
    const months = [...sums.month.keys()].sort();
    sections.push(
      h('p', { 'data-testid': 'revenue-total' }, `${t('revenue.total')}: ${money(sums.total.toString(), currency)}`),
      h('div', { class: 'charts' },
        chartCard(bundle, `by-platform-${currency}`, t('revenue.byPlatform'), 'doughnut',
          [...sums.platform.keys()], [...sums.platform.values()], currency),
        chartCard(bundle, `by-work-${currency}`, t('revenue.byWork'), 'bar',
          [...sums.work.keys()].map((w) => titles.get(w) || short(w, 8)), [...sums.work.values()], currency),
        chartCard(bundle, `by-month-${currency}`, t('revenue.overTime'), 'line', months, months.map((m) => sums.month.get(m)), currency)),
      h('table', { 'data-testid': 'revenue-by-work' },
        h('thead', {}, h('tr', {}, h('th', {}, t('statement.work')), h('th', {}, t('statement.amount')))),
        h('tbody', {}, [...sums.work].map(([work, amount]) => h('tr', {}, h('td', {}, titles.get(work) || work),
          h('td', { class: 'num' }, money(amount.toString(), currency)))))),
    );
  }
  mount(root, h('h1', {}, t('nav.revenue')), h('p', { class: 'muted' }, t(`revenue.${role === 'rights_holder' ? 'own' : 'all'}`)),
    ...(sections.length ? sections : [h('p', { class: 'muted' }, t('empty'))]),
    ...(upstream.length ? upstreamSection(upstream) : []));
}

// The caller's upstream lines: what reached them through each derivative, period by period.
function upstreamSection(entries) {
  return [
    h('h2', {}, t('revenue.upstream')),
    h('p', { class: 'muted' }, t('revenue.upstreamNote')),
    h('table', { 'data-testid': 'revenue-upstream' },
      h('thead', {}, h('tr', {}, h('th', {}, t('revenue.period')), h('th', {}, t('statement.work')),
        h('th', {}, t('statement.via')), h('th', {}, t('statement.amount')))),
      h('tbody', {}, entries.map((e) => h('tr', {},
        h('td', {}, h('a', { href: `/console/statements?period=${e.period_id}` }, `${e.period.first_day} → ${e.period.last_day}`)),
        h('td', {}, workName(e.work_id, e.work_title)),
        h('td', {}, workName(e.via_work_id, e.via_title)),
        h('td', { class: 'num' }, money(e.amount, e.currency)))))),
  ];
}
