// One case: the evidence bundle (and its on-chain anchor), the leak's source, the notices.
import { api, chainBadge, date, errorBox, h, mount, t } from '../app.js';

function notice(caseId, item, canSend) {
  const state = h('span', { class: `badge ${item.delivery}`, 'data-testid': 'notice-delivery' }, t(`notice.${item.delivery}`));
  const send = canSend && item.delivery !== 'delivered' ? h('button', { type: 'button', onclick: async (event) => {
    event.target.disabled = true;
    try {
      const sent = await api(`/cases/${caseId}/notices/${item.format}/send`, { method: 'POST' });
      const fresh = sent.notices.find((n) => n.format === item.format);
      state.textContent = t(`notice.${fresh?.delivery || 'sending'}`);
    } catch (error) {
      event.target.after(errorBox(error));
    } finally {
      event.target.disabled = false;
    }
  } }, t('notice.send')) : null;
  return h('section', { class: 'card notice', 'data-testid': 'notice', dataset: { format: item.format } },
    h('h3', {}, `${t(`notice.format.${item.format}`)} · `, state, ' ', send),
    h('p', {}, h('strong', {}, item.subject)),
    h('pre', { class: 'notice-body' }, item.body),
    item.last_error ? h('p', { class: 'bad' }, item.last_error) : null);
}

export async function render({ root, role }) {
  const id = new URLSearchParams(location.search).get('id') || '';
  const item = await api(`/cases/${encodeURIComponent(id)}`);
  mount(root, 
    h('h1', {}, `${t('case.title')} #${item.id} · ${item.title}`),
    h('dl', { class: 'facts', 'data-testid': 'case' },
      h('dt', {}, t('cases.url')), h('dd', { class: 'mono' }, item.url),
      h('dt', {}, t('case.page')), h('dd', { class: 'mono' }, item.page_url || '—'),
      h('dt', {}, t('cases.status')), h('dd', {}, t(`case.status.${item.status}`)),
      h('dt', {}, t('cases.source')), h('dd', { 'data-testid': 'leak-source' }, item.leak.platform
        ? `${item.leak.platform.name} (${t('case.distribution')} #${item.leak.distribution_id})` : t('cases.unknown')),
      h('dt', {}, t('case.match')), h('dd', {}, t('case.matchText', {
        offset: item.match.offset_seconds.toFixed(1), duration: item.match.duration_seconds.toFixed(1),
        confidence: (item.match.confidence * 100).toFixed(0) })),
      h('dt', {}, t('case.copy')), h('dd', { class: 'mono' }, `${item.content_sha256} · ${item.content_size} B · ${item.media_kind}`),
      h('dt', {}, t('case.evidence')), h('dd', { class: 'mono' }, item.evidence_hash, ' ', chainBadge(item.anchor)),
      h('dt', {}, t('case.registry')), h('dd', { class: 'mono' }, item.evidence_registry || '—'),
      h('dt', {}, t('cases.firstSeen')), h('dd', {}, date(item.first_seen_at)),
      h('dt', {}, t('case.lastSeen')), h('dd', {}, `${date(item.last_seen_at)} · ${t('case.sightings', { n: item.sightings })}`),
      h('dt', {}, t('case.checks')), h('dd', {}, `${item.checks}${item.gone_at ? ` · ${t('case.gone')} ${date(item.gone_at)}` : ''}`)),
    h('div', { class: 'actions' },
      h('a', { href: `/cases/${item.id}/evidence`, download: `evidence-${item.id}.json`, 'data-testid': 'evidence-bundle' }, t('case.bundle')),
      h('a', { href: `/cases/${item.id}/evidence/copy`, download: '' }, t('case.download'))),
    item.screenshot ? h('figure', {}, h('img', { src: `/cases/${item.id}/evidence/screenshot`, alt: t('case.screenshot'), class: 'screenshot' }),
      h('figcaption', {}, t('case.screenshot'))) : null,
    h('h2', {}, t('case.notices')),
    item.notices.map((n) => notice(item.id, n, role === 'rights_holder' || role === 'admin')),
  );
}
