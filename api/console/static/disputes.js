// Disputes of statement lines, as the periods and statements pages show them: each one's state,
// deadline and outcome; the arbiter decides an open one from here before its deadline.
import { api, errorBox, h, money, short, t, table } from './app.js';

function when(seconds) {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

// A line's dispute state (held, voided, released) as a badge, for a statement line.
export function lineBadge(dispute) {
  if (!dispute) return '';
  return h('span', { class: `badge dispute-${dispute.state}`, 'data-testid': 'line-dispute', dataset: { state: dispute.state },
    title: t('dispute.deadline', { when: when(dispute.deadline) }) }, t(`dispute.line.${dispute.state}`));
}

function outcome(d, currency) {
  if (d.state === 'open') return t('dispute.open', { when: when(d.deadline) });
  const how = d.by_default ? t('dispute.byDefault') : '';
  const corrected = d.state === 'upheld' ? ` · ${t('dispute.corrected', { amount: money(d.corrected_amount, currency) })}` : '';
  return `${t(`dispute.${d.state}`)}${how}${corrected}`;
}

function decideForm(d, onDone) {
  const status = h('span');
  const choice = h('select', { name: 'outcome', 'data-testid': 'decide-outcome' },
    h('option', { value: 'upheld' }, t('dispute.upheld')), h('option', { value: 'rejected' }, t('dispute.rejected')));
  const corrected = h('input', { name: 'corrected', type: 'number', min: 0, step: 1, value: d.claimed_amount,
    'aria-label': t('dispute.correctedAmount'), 'data-testid': 'decide-corrected' });
  const reason = h('input', { name: 'reason', required: true, maxlength: 2000, placeholder: t('dispute.reason'),
    'aria-label': t('dispute.reason'), 'data-testid': 'decide-reason' });
  const button = h('button', { type: 'submit', 'data-testid': 'decide' }, t('dispute.decide'));
  choice.addEventListener('change', () => { corrected.disabled = choice.value !== 'upheld'; });
  const form = h('form', { class: 'inline' }, choice, corrected, reason, button, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const body = { outcome: choice.value, reason: reason.value };
      if (choice.value === 'upheld') body.corrected_amount = corrected.value; // digits: read as an integer
      await api(`/periods/${d.period_id}/disputes/${d.dispute_id}/decide`, { method: 'POST', json: body });
      onDone();
    } catch (error) {
      button.disabled = false;
      status.replaceChildren(errorBox(error));
    }
  });
  return form;
}

// The disputes in `list`, with a decide form on the open ones when `arbiter` (reload: after a decision).
// `currencyOf(d)`: the currency of the dispute's period.
export function disputesTable(list, { currencyOf, arbiter = false, reload } = {}) {
  return table([
    { label: t('dispute.period'), value: (d) => h('a', { class: 'mono', href: `/console/statements?period=${d.period_id}`, title: d.period_id }, short(d.period_id)) },
    { label: '#', value: (d) => `${d.dispute_id} · ${t('dispute.lineNo', { index: d.line_index })}` },
    { label: t('statement.payee'), value: (d) => h('span', { class: 'mono', title: d.payee }, short(d.payee)) },
    { label: t('dispute.amounts'), class: 'num', value: (d) => `${money(d.line_amount, currencyOf(d))} → ${money(d.claimed_amount, currencyOf(d))}` },
    { label: t('dispute.state'), value: (d) => h('span', { 'data-testid': 'dispute-state', dataset: { state: d.state } }, outcome(d, currencyOf(d))) },
    { label: t('dispute.reason'), value: (d) => d.decision_reason || d.reason || h('span', { class: 'muted mono' }, short(d.reason_hash)) },
    arbiter ? { label: '', value: (d) => (d.state === 'open' ? decideForm(d, reload) : '') } : null,
  ].filter(Boolean), list, { testid: 'disputes', empty: t('dispute.none') });
}
