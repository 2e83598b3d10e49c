// Settlement periods: a platform closes one (settled and committed on chain); auditors see each
// period's re-computation from the stored signed reports, compared with the chain. Below, the
// disputes of the periods the caller sees, which the arbiter decides from here.
import { accountNames, api, chainBadge, config, errorBox, h, money, mount, onSubmit, short, t, table } from '../app.js';
import { minorExponent, parseMajor } from '../currency.js';
import { disputesTable } from '../disputes.js';

function closeForm(onDone) {
  const status = h('div', { class: 'status' });
  const form = h('form', { class: 'card', id: 'close-period' },
    h('h2', {}, t('periods.close')),
    h('label', { for: 'period-start' }, t('reports.start')), h('input', { id: 'period-start', name: 'period_start', type: 'date', required: true }),
    h('label', { for: 'period-end' }, t('reports.end')), h('input', { id: 'period-end', name: 'period_end', type: 'date', required: true }),
    h('label', { for: 'period-currency' }, t('reports.currency')),
    h('input', { id: 'period-currency', name: 'currency', required: true, maxlength: 3, minlength: 3, value: config.currency || 'CNY' }),
    h('label', { for: 'period-pools' }, t('periods.pools')),
    h('textarea', { id: 'period-pools', name: 'pools', rows: 3, placeholder: t('periods.pools.help') }),
    h('button', { type: 'submit' }, t('periods.submit')),
    status);
  onSubmit(form, status, async () => {
    const currency = form.currency.value.trim().toUpperCase();
    const pools = {};
    const lines = form.pools.value.split('\n').map((l) => l.trim()).filter(Boolean);
    let known = true; // a currency the console does not know is the service's to refuse, with its reason
    try { minorExponent(currency); } catch { known = false; }
    for (const line of known ? lines : []) {
      const match = line.match(/^([^=]+)=(.*)$/);
      let amount = null;
      try {
        amount = match && match[1].trim() ? parseMajor(match[2], currency) : null;
      } catch { /* shown below, with what the line should be */ }
      if (amount === null) {
        status.replaceChildren(h('div', { class: 'error', role: 'alert' }, t('periods.pools.bad', { line, currency })));
        return;
      }
      pools[match[1].trim()] = amount; // typed in major units, sent as minor units (digits: read as an integer)
    }
    const period = await api('/periods/close', { method: 'POST', json: {
      period_start: form.period_start.value, period_end: form.period_end.value, currency, pools,
    } });
    status.replaceChildren(h('p', { class: 'ok', 'data-testid': 'period-closed' },
      t('periods.closed', { lines: period.line_count, total: money(period.total, period.currency) }), ' ', chainBadge(period.commit)));
    onDone();
  });
  return form;
}

function auditCell(period) {
  const cell = h('span', { class: 'muted' }, '…');
  api(`/periods/${period.period_id}/audit`).then((audit) => {
    cell.replaceWith(h('span', { class: audit.ok ? 'ok' : 'bad', 'data-testid': 'audit', title: audit.problems.join('\n') },
      audit.ok ? t('periods.audit.ok') : `${t('periods.audit.bad')}: ${audit.problems.join('; ')}`));
  }).catch((error) => cell.replaceWith(errorBox(error)));
  return cell;
}

// Offered only while the contract is owed something: the period's detail reads it from the chain.
function fundCell(period) {
  if (period.status === 'committing') return '';
  const cell = h('span', { class: 'muted' }, '…');
  api(`/periods/${period.period_id}`).then((detail) => {
    cell.replaceWith(detail.owed === '0'
      ? h('span', { class: 'ok', 'data-testid': 'fully-funded' }, t('periods.fullyFunded'))
      : fundButton(period, detail.owed));
  }).catch((error) => cell.replaceWith(errorBox(error)));
  return cell;
}

// `owed`: what the contract is still owed, in minor units (null when the chain did not say).
function fundButton(period, owed) {
  const button = h('button', { type: 'button', 'data-testid': 'fund' },
    owed ? t('periods.fundOwed', { amount: money(owed, period.currency) }) : t('periods.fund'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const funded = await api(`/periods/${period.period_id}/fund`, { method: 'POST', json: {} });
      button.replaceWith(h('span', { class: 'ok', 'data-testid': 'funded' }, t('periods.funded', { amount: money(funded.funded, period.currency) })));
    } catch (error) {
      button.disabled = false;
      button.after(errorBox(error));
    }
  });
  return button;
}

export async function render({ root, role, address }) {
  const list = h('div');
  const disputes = h('section', { class: 'card' });
  const auditing = role === 'auditor' || role === 'admin';
  const load = async () => {
    const [periods, found, names] = await Promise.all([api('/periods'), api('/disputes?limit=500'), accountNames(role)]);
    const currencies = new Map(periods.map((p) => [p.period_id, p.currency]));
    const byId = new Map(periods.map((p) => [p.period_id, p]));
    disputes.replaceChildren(h('h2', {}, t('dispute.title')), disputesTable(found, {
      currencyOf: (d) => currencies.get(d.period_id) || config.currency, arbiter: role === 'arbiter', reload: load,
      who: { me: address, names },
      periodName: (d) => {
        const p = byId.get(d.period_id);
        return p && `${p.period.first_day} → ${p.period.last_day} · ${p.platform}`;
      },
    }));
    list.replaceChildren(table([
      { label: t('period.dates'), value: (p) => h('a', { href: `/console/statements?period=${p.period_id}` }, `${p.period.first_day} → ${p.period.last_day}`) },
      { label: t('period.id'), value: (p) => h('span', { class: 'mono whole', title: p.period_id }, short(p.period_id)) },
      role === 'platform' ? null : { label: t('period.platform'), value: (p) => p.platform },
      { label: t('period.status'), value: (p) => t(`period.${p.status}`) },
      { label: t('period.lines'), class: 'num', value: (p) => String(p.line_count) },
      { label: t('period.periodTotal'), class: 'num', value: (p) => money(p.total, p.currency) },
      { label: t('field.chain'), value: (p) => chainBadge(p.commit) },
      auditing ? { label: t('periods.audit'), value: auditCell } : null,
      role === 'platform' ? { label: '', value: fundCell } : null,
    ].filter(Boolean), periods, { testid: 'periods' }));
  };
  mount(root, h('h1', {}, t('nav.periods')), role === 'platform' ? closeForm(load) : null, list, disputes);
  await load();
}
