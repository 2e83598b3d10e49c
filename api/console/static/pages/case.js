// One case: the evidence bundle (and its on-chain anchor), the leak's source, the notices, the
// timeline (with the counter-notice, when one was filed, for the rights holder and auditors).
import { WORK_READERS, api, chainBadge, date, errorBox, h, mount, short, t, table, term, workName } from '../app.js';

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

// The steps a rights holder marks (by their address under /cases/{id}/), and when the service takes
// each: a step is marked once; a court action only while the waiting period of a counter-notice
// runs, and not once restored; a restoration only after a counter-notice, unless a court action
// stopped it; found again only once the link was removed (or restored).
const MARKS = [
  ['acknowledged', 'acknowledged', () => true],
  ['action-filed', 'action_filed', ({ timeline, marked }) => timeline.restoration === 'waiting' && !marked.has('restored')],
  ['restored', 'restored', ({ timeline }) => timeline.restoration === 'waiting' || timeline.restoration === 'due'],
  ['re-found', 're_found', ({ item, marked }) => Boolean(item.gone_at) || marked.has('restored')],
];

// The kinds the rights holder marked: a re-found step the crawler's own finding made (one per
// earlier life of the link) is not a mark.
function markedKinds(item, timeline) {
  const marked = new Set(timeline.steps.map((s) => s.kind).filter((kind) => MARKS.some(([, k]) => k === kind) && kind !== 're_found'));
  if (timeline.steps.filter((s) => s.kind === 're_found').length > (item.history || []).length) marked.add('re_found');
  return marked;
}

function offeredMarks(item, timeline) {
  const marked = markedKinds(item, timeline);
  return MARKS.filter(([, kind, allowed]) => !marked.has(kind) && allowed({ item, timeline, marked })).map(([path]) => path);
}

// The service's own words for who did a step or what it was, in the console's language.
const ACTORS = { 'waiting period': 'timeline.actor.waiting', "the notice's recipient": 'timeline.actor.recipient' };
const DETAILS = { 'found again by the crawler after its removal': 'timeline.detail.found_again' };

function stepDetail(s) {
  if (!s.detail) return '—';
  if (s.kind === 'notice_sent') return term('notice.format', s.detail);
  return DETAILS[s.detail] ? t(DETAILS[s.detail]) : s.detail;
}

function steps(timeline) {
  const rows = table([
    { label: t('timeline.when'), value: (s) => date(s.at) },
    { label: t('timeline.step'), value: (s) => h('span', { 'data-testid': 'step', dataset: { kind: s.kind } }, t(`timeline.step.${s.kind}`)) },
    { label: t('timeline.actor'), value: (s) => (ACTORS[s.actor] ? t(ACTORS[s.actor]) : s.actor) },
    { label: t('timeline.detail'), value: stepDetail },
    { label: t('timeline.anchor'), class: 'mono', value: (s) => (s.anchored_hash ? [s.anchored_hash, ' ', chainBadge(s.anchor)] : '—') },
  ], timeline.steps, { testid: 'timeline' });
  const restoration = timeline.restoration ? h('p', { 'data-testid': 'restoration', dataset: { state: timeline.restoration } },
    t('timeline.restoration', { state: t(`timeline.restoration.${timeline.restoration}`), due: date(timeline.restoration_due_at) })) : null;
  return [restoration, rows];
}

// Only the steps the service would take in the case's state are offered; after a mark, the
// buttons follow the case's new state.
function timelineSection(item, timeline, canMark) {
  const holder = h('div', { 'data-testid': 'timeline-section' }, steps(timeline));
  const marks = h('div', { class: 'actions', 'data-testid': 'marks' });
  const drawMarks = (current) => {
    const offered = offeredMarks(item, current);
    mount(marks, offered.length ? offered.map((step) => h('button', { type: 'button', dataset: { mark: step },
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try {
          const fresh = await api(`/cases/${item.id}/${step}`, { method: 'POST', json: {} });
          mount(holder, steps(fresh));
          drawMarks(fresh);
        } catch (error) {
          button.disabled = false;
          button.after(errorBox(error));
        }
      } }, t(`timeline.mark.${step}`))) : h('p', { class: 'muted' }, t('timeline.noMarks')));
  };
  if (canMark) drawMarks(timeline);
  return [h('h2', {}, t('timeline.title')), holder, canMark ? marks : null];
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
  const linked = WORK_READERS.has(role); // a crawler reads the case, not the work's page
  const id = new URLSearchParams(location.search).get('id') || '';
  const item = await api(`/cases/${encodeURIComponent(id)}`);
  const timeline = await api(`/cases/${item.id}/timeline`);
  // a counter-notice names a person: the rights holder and auditors read it, a crawler does not
  const countered = timeline.restoration && role !== 'crawler' ? await api(`/cases/${item.id}/counter-notice`) : null;
  mount(root, 
    h('h1', {}, `${t('case.title')} #${item.id} · ${item.title} (${short(item.work_id, 6)})`),
    h('dl', { class: 'facts', 'data-testid': 'case' },
      h('dt', {}, t('statement.work')), h('dd', { 'data-testid': 'case-work' }, workName(item, { link: linked })),
      h('dt', {}, t('cases.url')), h('dd', { class: 'mono' }, item.url),
      h('dt', {}, t('case.page')), h('dd', { class: 'mono' }, item.page_url || '—'),
      h('dt', {}, t('cases.status')), h('dd', {}, t(`case.status.${item.status}`)),
      h('dt', {}, t('cases.source')), h('dd', { 'data-testid': 'leak-source' }, item.leak.platform
        ? `${item.leak.platform.name} (${t('case.distribution')} #${item.leak.distribution_id})` : t('cases.unknown')),
      h('dt', {}, t('case.match')), h('dd', { 'data-testid': 'case-match' }, matchText(item)),
      item.derivative_of ? [h('dt', {}, t('case.derivativeOf')), h('dd', { 'data-testid': 'derivative-of' },
        linked ? h('a', { href: `/console/work?id=${encodeURIComponent(item.derivative_of.work_id)}` }, item.derivative_of.title)
          : h('span', { title: item.derivative_of.work_id }, item.derivative_of.title), ' ',
        t('case.derivativeText', { kind: t(`derivative.kind.${item.derivative_of.kind}`), licence: item.derivative_of.licence_id }))] : null,
      h('dt', {}, t('case.copy')), h('dd', { class: 'mono' }, `${item.content_sha256} · ${item.content_size} B · ${term('media', item.media_kind)}`),
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
    timelineSection(item, timeline, role === 'rights_holder'),
    countered ? counterNotice(item.id, countered) : null,
  );
}
