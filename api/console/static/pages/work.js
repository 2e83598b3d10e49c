// One work: its on-chain record, licences as a tree (revoked branches greyed), split versions.
import { api, chainBadge, date, h, mount, short, t, table } from '../app.js';

function licenceTree(licences) {
  const children = new Map();
  for (const licence of licences) {
    const key = licence.parent_id ?? 'root';
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(licence);
  }
  const known = new Set(licences.map((l) => l.id));
  const roots = licences.filter((l) => l.parent_id === null || !known.has(l.parent_id));
  const node = (licence, revokedAbove) => {
    const revoked = revokedAbove || licence.status === 'revoked';
    return h('li', { class: revoked ? 'revoked' : '', 'data-testid': 'licence', dataset: { status: licence.status } },
      h('span', {}, `#${licence.id} · ${t('licence.to')} ${licence.licensee_account_id} · ${licence.rights.join(', ')} · `
        + `${licence.territories.join(', ')} · ${date(licence.start)} → ${date(licence.end)}`
        + `${licence.exclusive ? ` · ${t('licence.exclusive')}` : ''} · ${revokedAbove && licence.status !== 'revoked' ? t('licence.revokedAbove') : t(`licence.${licence.status}`)}`),
      ' ', chainBadge(licence.chain),
      (children.get(licence.id) || []).length ? h('ul', {}, children.get(licence.id).map((c) => node(c, revoked))) : null);
  };
  if (!licences.length) return h('p', { class: 'muted' }, t('empty'));
  return h('ul', { class: 'tree', 'data-testid': 'licence-tree' }, roots.map((l) => node(l, false)));
}

export async function render({ root }) {
  const id = new URLSearchParams(location.search).get('id') || '';
  const work = await api(`/works/${encodeURIComponent(id)}`);
  const chain = work.on_chain;
  mount(root, 
    h('h1', {}, work.title),
    h('dl', { class: 'facts', 'data-testid': 'work-record' },
      h('dt', {}, t('works.id')), h('dd', { class: 'mono' }, work.work_id),
      h('dt', {}, t('works.kind')), h('dd', {}, t(`kind.${work.kind}`)),
      h('dt', {}, t('field.chain')), h('dd', {}, chainBadge(work.chain), ' ', h('span', { class: 'mono' }, short(work.chain.tx_hash || ''))),
      h('dt', {}, t('work.owner')), h('dd', { class: 'mono' }, chain?.owner || '—'),
      h('dt', {}, t('work.registered')), h('dd', {}, chain ? date(chain.registered_at) : t('chain.pending')),
      h('dt', {}, t('work.fingerprint')), h('dd', { class: 'mono' }, chain?.fingerprint || work.fingerprint.digest),
      h('dt', {}, t('work.metadata')), h('dd', { class: 'mono' }, work.metadata_hash),
      h('dt', {}, t('work.parties')), h('dd', {}, work.parties.map((p) => `${p.name} (${p.role})`).join(', ') || '—')),
    h('h2', {}, t('work.licences')), licenceTree(work.licences),
    h('h2', {}, t('work.splits')),
    table([
      { label: t('split.version'), value: (s) => String(s.version) },
      { label: t('split.from'), value: (s) => date(s.effective_from) },
      { label: t('split.payees'), value: (s) => s.payees.map((p) => `${short(p.address, 8)} ${(p.bps / 100).toFixed(2)}%`).join(' · ') },
    ], work.splits, { testid: 'splits' }),
  );
}
