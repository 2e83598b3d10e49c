// Disputes of statement lines, as the periods and statements pages show them: each one's state,
// deadline and outcome; the arbiter decides an open one from here before its deadline.
import { accountName, api, errorBox, h, money, short, t, table } from './app.js';
import { formatMinor, parseMajor } from './currency.js';

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

// The corrected amount is typed in major units of the period's currency, as every amount is shown,
// and sent in minor units.
function decideForm(d, currency, onDone) {
  const status = h('span');
  const choice = h('select', { name: 'outcome', 'data-testid': 'decide-outcome' },
    h('option', { value: 'upheld' }, t('dispute.upheld')), h('option', { value: 'rejected' }, t('dispute.rejected')));
  const corrected = h('input', { name: 'corrected', inputmode: 'decimal', size: 12, value: formatMinor(d.claimed_amount, currency),
    'aria-label': t('dispute.correctedAmount', { currency }), title: t('dispute.correctedAmount', { currency }),
    'data-testid': 'decide-corrected' });
  const unit = h('span', { class: 'muted' }, ` ${currency} `);
  const reason = h('input', { name: 'reason', required: true, maxlength: 2000, placeholder: t('dispute.reason'),
    'aria-label': t('dispute.reason'), 'data-testid': 'decide-reason' });
  const button = h('button', { type: 'submit', 'data-testid': 'decide' }, t('dispute.decide'));
  choice.addEventListener('change', () => { corrected.disabled = choice.value !== 'upheld'; });
  const form = h('form', { class: 'inline' }, choice, corrected, unit, reason, button, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const body = { outcome: choice.value, reason: reason.value };
    if (choice.value === 'upheld') {
      try {
        body.corrected_amount = parseMajor(corrected.value, currency); // minor units as digits: read as an integer
      } catch {
        status.replaceChildren(h('div', { class: 'error', role: 'alert' }, t('dispute.correctedBad', { amount: corrected.value, currency })));
        return;
      }
    }
    button.disabled = true;
    try {
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
// Each dispute names its period's currency; `currency(d)` gives it where a dispute does not.
// `who`: the signed-in account's address and the account names it may read, for the payees;
// `periodName(d)`: how the dispute's period is named (its id, shortened, when not given).
export function disputesTable(list, { currencyOf, arbiter = false, reload, who = {}, periodName } = {}) {
  const currency = (d) => d.currency || currencyOf(d);
  return table([
    { label: t('dispute.period'), value: (d) => {
      const named = periodName?.(d); // its days and platform, where the page knows the period
      return h('a', { class: named ? undefined : 'mono whole', href: `/console/statements?period=${d.period_id}`, title: d.period_id,
        'data-testid': 'dispute-period' }, named || short(d.period_id));
    } },
    { label: '#', value: (d) => `${d.dispute_id} · ${t('dispute.lineNo', { index: d.line_index })}` },
    { label: t('statement.payee'), value: (d) => accountName(d.payee, who) },
    { label: t('dispute.amounts'), class: 'num', value: (d) => `${money(d.line_amount, currency(d))} → ${money(d.claimed_amount, currency(d))}` },
    { label: t('dispute.state'), value: (d) => h('span', { 'data-testid': 'dispute-state', dataset: { state: d.state } }, outcome(d, currency(d))) },
    { label: t('dispute.reason'), value: (d) => d.decision_reason || d.reason || h('span', { class: 'muted mono' }, short(d.reason_hash)) },
    arbiter ? { label: '', value: (d) => (d.state === 'open' ? decideForm(d, currency(d), reload) : '') } : null,
  ].filter(Boolean), list, { testid: 'disputes', empty: t('dispute.none') });
}
