// A platform's play reports: upload one (every bad row listed before anything is sent for
// good), follow its status; auditors read them all. Below, the rows no licence covered: why each
// is held and what it would earn, or the period that settled it once a licence came.
import { api, chainBadge, config, h, money, mount, onSubmit, progress, short, t, table, upload } from '../app.js';

const TYPES = { csv: 'text/csv', json: 'application/json', ndjson: 'application/x-ndjson', jsonl: 'application/x-ndjson' };

function problemsTable(check) {
  return h('div', { class: 'error-block', role: 'alert', 'data-testid': 'row-problems' },
    h('p', {}, t('reports.problems', { count: check.total ?? check.problems.length, rows: check.rows })),
    table([
      { label: t('reports.row'), value: (p) => String(p.row) },
      { label: t('reports.field'), value: (p) => p.field },
      { label: t('reports.problem'), value: (p) => p.problem },
    ], check.problems, { testid: 'row-problem' }),
    check.truncated ? h('p', { class: 'muted' }, t('reports.truncated')) : null);
}

function uploadForm(onDone) {
  const status = h('div', { class: 'status' });
  const form = h('form', { class: 'card', id: 'post-report' },
    h('h2', {}, t('reports.upload')),
    h('label', { for: 'report-id' }, t('reports.id')), h('input', { id: 'report-id', name: 'report_id', required: true, maxlength: 200 }),
    h('label', { for: 'report-start' }, t('reports.start')), h('input', { id: 'report-start', name: 'period_start', type: 'date', required: true }),
    h('label', { for: 'report-end' }, t('reports.end')), h('input', { id: 'report-end', name: 'period_end', type: 'date', required: true }),
    h('label', { for: 'report-currency' }, t('reports.currency')),
    h('input', { id: 'report-currency', name: 'currency', required: true, maxlength: 3, minlength: 3, value: config.currency || 'CNY' }),
    h('label', { for: 'report-file' }, t('reports.file')), h('input', { id: 'report-file', name: 'file', type: 'file', required: true, accept: '.csv,.json,.ndjson,.jsonl' }),
    h('button', { type: 'submit' }, t('reports.submit')),
    status);
  onSubmit(form, status, async () => {
    const file = form.file.files[0];
    const type = TYPES[file.name.split('.').pop().toLowerCase()];
    if (!type) {
      status.replaceChildren(h('div', { class: 'error', role: 'alert' }, t('reports.type')));
      return;
    }
    const checking = progress(t('reports.checking'));
    status.replaceChildren(checking.el);
    const { body: check } = await upload('/reports/check', file, { headers: { 'Content-Type': type }, onProgress: checking.set });
    if (check.problems.length) {
      status.replaceChildren(problemsTable(check));
      return;
    }
    const sending = progress(t('reports.sending'));
    status.replaceChildren(sending.el);
    const query = new URLSearchParams({
      report_id: form.report_id.value.trim(), period_start: form.period_start.value, period_end: form.period_end.value,
      currency: form.currency.value.trim().toUpperCase(),
    });
    let posted;
    try {
      posted = await upload(`/reports?${query}`, file, { headers: { 'Content-Type': type }, onProgress: sending.set });
    } catch (error) {
      if (!error.details?.problems) throw error;
      // Problems only the period tells (a day outside it, two identical rows): listed like the check's.
      const { problems, total } = error.details;
      status.replaceChildren(problemsTable({ rows: check.rows, problems, total, truncated: total > problems.length }));
      return;
    }
    const { status: code, body: report } = posted;
    status.replaceChildren(h('p', { class: 'ok', 'data-testid': 'report-posted' },
      t(code === 201 ? 'reports.posted' : 'reports.again', { rows: report.rows, held: report.held_rows })));
    onDone();
  });
  return form;
}

function heldTable(held) {
  return table([
    { label: t('reports.id'), value: (r) => r.report_id },
    { label: t('held.work'), value: (r) => h('span', { title: r.work_id }, short(r.work_id)) },
    { label: t('held.territory'), value: (r) => r.territory },
    { label: t('held.date'), value: (r) => r.date },
    { label: t('reports.validPlays'), class: 'num', value: (r) => String(r.valid_plays) },
    { label: t('held.state'), value: (r) => t(`held.${r.state}`) },
    { label: t('held.reason'), value: (r) => h('span', { title: r.reason }, t(`held.reason.${r.reason_code}`)) },
    { label: t('held.wouldEarn'), class: 'num', value: (r) => (r.would_earn ? money(r.would_earn.amount, r.would_earn.currency) : '—') },
    { label: t('held.releasedInto'), value: (r) => (r.released_into ? h('span', { title: r.released_into }, short(r.released_into)) : '—') },
  ], held, { testid: 'held-rows' });
}

export async function render({ root, role }) {
  const list = h('div');
  const held = h('div');
  const load = async () => {
    held.replaceChildren(heldTable(await api('/reports/held?limit=500')));
    if (role === 'rights_holder') return; // a rights holder sends no reports: it sees the held rows on its works
    const reports = await api('/reports?limit=500');
    list.replaceChildren(table([
      { label: t('reports.id'), value: (r) => r.report_id },
      { label: t('period.dates'), value: (r) => `${r.period.first_day} → ${r.period.last_day}` },
      { label: t('reports.status'), value: (r) => t(`report.${r.status}`) },
      { label: t('reports.rows'), class: 'num', value: (r) => String(r.rows) },
      { label: t('reports.held'), class: 'num', value: (r) => String(r.held_rows) },
      { label: t('reports.validPlays'), class: 'num', value: (r) => r.totals.valid_plays },
      { label: t('field.chain'), value: (r) => (r.anchor ? chainBadge(r.anchor) : '—') },
    ], reports, { testid: 'reports' }));
  };
  mount(root, h('h1', {}, t('nav.reports')), role === 'platform' ? uploadForm(load) : null, list,
    h('h2', {}, t('held.title')), h('p', { class: 'muted' }, t('held.intro')), held);
  await load();
}
