// One case: the evidence bundle (and its on-chain anchor), the leak's source, the notices, the
// timeline (with the counter-notice, when one was filed, for the rights holder and auditors).
import { api, chainBadge, date, errorBox, h, mount, short, t, table, workName } from '../app.js';

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

const MARKS = ['acknowledged', 'action-filed', 'restored', 're-found'];

function steps(timeline) {
  const rows = table([
    { label: t('timeline.when'), value: (s) => date(s.at) },
    { label: t('timeline.step'), value: (s) => h('span', { 'data-testid': 'step', dataset: { kind: s.kind } }, t(`timeline.step.${s.kind}`)) },
    { label: t('timeline.actor'), value: (s) => s.actor },
    { label: t('timeline.detail'), value: (s) => s.detail || '—' },
    { label: t('timeline.anchor'), class: 'mono', value: (s) => (s.anchored_hash ? [s.anchored_hash, ' ', chainBadge(s.anchor)] : '—') },
  ], timeline.steps, { testid: 'timeline' });
  const restoration = timeline.restoration ? h('p', { 'data-testid': 'restoration', dataset: { state: timeline.restoration } },
    t('timeline.restoration', { state: t(`timeline.restoration.${timeline.restoration}`), due: date(timeline.restoration_due_at) })) : null;
  return [restoration, rows];
}

function timelineSection(caseId, timeline, canMark) {
  const holder = h('div', { 'data-testid': 'timeline-section' }, steps(timeline));
  const marks = canMark ? h('div', { class: 'actions' }, MARKS.map((step) => h('button', { type: 'button', dataset: { mark: step },
    onclick: async (event) => {
      event.target.disabled = true;
      try {
        const fresh = await api(`/cases/${caseId}/${step}`, { method: 'POST', json: {} });
        mount(holder, steps(fresh));
      } catch (error) {
        event.target.after(errorBox(error));
      } finally {
        event.target.disabled = false;
      }
    } }, t(`timeline.mark.${step}`)))) : null;
  return [h('h2', {}, t('timeline.title')), holder, marks];
}

function counterNotice(caseId, notice) {
  const doc = notice.document;
  return h('section', { class: 'card', 'data-testid': 'counter-notice' },
    h('h2', {}, t('counter.title')),
    h('dl', { class: 'facts' },
      h('dt', {}, t('counter.filer')), h('dd', {}, `${doc.filer.name} · ${date(notice.filed_at)}`),
      h('dt', {}, t('counter.contact')), h('dd', {}, [doc.filer.email, doc.filer.phone, doc.filer.address].filter(Boolean).join(' · ')),
      h('dt', {}, t('counter.urls')), h('dd', { class: 'mono' }, doc.urls.join(' ')),
      h('dt', {}, t('counter.explanation')), h('dd', {}, doc.explanation || '—'),
      h('dt', {}, t('counter.hash')), h('dd', { class: 'mono' }, notice.document_hash, ' ', chainBadge(notice.anchor)),
      h('dt', {}, t('counter.notified')), h('dd', {}, t(`notice.${notice.rights_holder_notified}`))),
    h('a', { href: `/cases/${caseId}/counter-notice/document`, download: `counter-notice-${caseId}.json` }, t('counter.document')));
}

// A still matches a picture, not a stretch of time: the work's frame it shows, or its picture.
// A video decided on its first seconds agrees with the work over at least the duration shown.
function matchText(item) {
  const m = item.match;
  const values = {
    offset: m.offset_seconds.toFixed(1),
    duration: m.duration_seconds.toFixed(1),
    confidence: (m.confidence * 100).toFixed(0),
    compared: (m.seconds_compared ?? 0).toFixed(1),
  };
  if (item.media_kind !== 'image') return t(m.whole_copy_compared === false ? 'case.matchFirst' : 'case.matchText', values);
  return t(item.work_media_kind === 'video' ? 'case.matchFrame' : 'case.matchPicture', values);
}

export async function render({ root, role }) {
  const id = new URLSearchParams(location.search).get('id') || '';
  const item = await api(`/cases/${encodeURIComponent(id)}`);
  const timeline = await api(`/cases/${item.id}/timeline`);
  // a counter-notice names a person: the rights holder and auditors read it, a crawler does not
  const countered = timeline.restoration && role !== 'crawler' ? await api(`/cases/${item.id}/counter-notice`) : null;
  mount(root, 
    h('h1', {}, `${t('case.title')} #${item.id} · ${item.title} (${short(item.work_id, 6)})`),
    h('dl', { class: 'facts', 'data-testid': 'case' },
      h('dt', {}, t('statement.work')), h('dd', { 'data-testid': 'case-work' }, workName(item)),
      h('dt', {}, t('cases.url')), h('dd', { class: 'mono' }, item.url),
      h('dt', {}, t('case.page')), h('dd', { class: 'mono' }, item.page_url || '—'),
      h('dt', {}, t('cases.status')), h('dd', {}, t(`case.status.${item.status}`)),
      h('dt', {}, t('cases.source')), h('dd', { 'data-testid': 'leak-source' }, item.leak.platform
        ? `${item.leak.platform.name} (${t('case.distribution')} #${item.leak.distribution_id})` : t('cases.unknown')),
      h('dt', {}, t('case.match')), h('dd', { 'data-testid': 'case-match' }, matchText(item)),
      item.derivative_of ? [h('dt', {}, t('case.derivativeOf')), h('dd', { 'data-testid': 'derivative-of' },
        h('a', { href: `/console/work?id=${encodeURIComponent(item.derivative_of.work_id)}` }, item.derivative_of.title), ' ',
        t('case.derivativeText', { kind: t(`derivative.kind.${item.derivative_of.kind}`), licence: item.derivative_of.licence_id }))] : null,
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
    timelineSection(item.id, timeline, role === 'rights_holder'),
    countered ? counterNotice(item.id, countered) : null,
  );
}
