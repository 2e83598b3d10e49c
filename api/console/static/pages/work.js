// One work: its on-chain record, its derivative family (parents up to the roots, children down
// to the leaves, the terms on each edge), licences as a tree (revoked branches greyed), split versions.
import { ApiError, accountName, accountNames, api, chainBadge, date, h, mount, short, t, table, term } from '../app.js';
import { formatMicroMinor } from '../currency.js';

// An edge's terms: kind, the parent's share, and its minimum per valid play in major units of
// the currency the derivative earns in (in micro-units of the minor unit when that is not known).
function terms(edge) {
  const parts = [t(`derivative.kind.${edge.kind}`), t('family.share', { share: (edge.share_bps / 100).toFixed(2) })];
  if (edge.min_per_valid_play_micro > 0) {
    const amount = edge.currency
      ? `${formatMicroMinor(edge.min_per_valid_play_micro, edge.currency)} ${edge.currency}`
      : t('family.micro', { micro: edge.min_per_valid_play_micro });
    parts.push(t('family.minimum', { amount }));
  }
  return `${parts.join(' · ')} · ${t('family.licence', { id: edge.licence_id })}`;
}

// The work's parents (`up`) or children as a nested list: each level's works under the one
// they derive from (or that derives from them), each linked to its own page.
function familyTree(family, up) {
  const edges = up ? family.parents : family.children;
  const near = (e) => (up ? e.derivative : e.parent).work_id;
  const far = (e) => (up ? e.parent : e.derivative);
  const node = (edge, seen) => {
    const next = edges.filter((e) => near(e) === far(edge).work_id && !seen.has(far(e).work_id));
    return h('li', { 'data-testid': 'family-edge', dataset: { work: far(edge).work_id, depth: String(edge.depth) } },
      h('a', { href: `/console/work?id=${encodeURIComponent(far(edge).work_id)}` }, far(edge).title),
      h('span', { 'data-testid': 'edge-terms' }, ` · ${terms(edge)} `), chainBadge(edge.chain),
      next.length ? h('ul', {}, next.map((e) => node(e, new Set([...seen, far(e).work_id])))) : null);
  };
  const first = edges.filter((e) => near(e) === family.work.work_id);
  if (!first.length) return h('p', { class: 'muted' }, t(up ? 'family.noParents' : 'family.noChildren'));
  return h('ul', { class: 'tree', 'data-testid': up ? 'family-parents' : 'family-children' },
    first.map((e) => node(e, new Set([family.work.work_id, far(e).work_id]))));
}

// The family is read by the owners of its works and auditors; others read the work without it.
async function familyOf(workId) {
  try {
    return await api(`/works/${encodeURIComponent(workId)}/family`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

function familySection(family) {
  if (!family) return null;
  return h('section', { 'data-testid': 'family' },
    h('h2', {}, t('family.title')),
    h('h3', {}, t('family.parents')), familyTree(family, true),
    h('h3', {}, t('family.children')), familyTree(family, false),
    family.truncated ? h('p', { class: 'muted' }, t('family.truncated')) : null);
}

// The licensee by its account name where the service gives it (admins and auditors), else its id.
function licensee(licence) {
  return licence.licensee_name ? t('licence.toName', { name: licence.licensee_name })
    : t('licence.toAccount', { id: licence.licensee_account_id });
}

// The work's owner on chain: by name where the caller may know it (itself, or any account for an
// administrator or auditor), its address beside it.
function owner(address, who, me) {
  if (!address) return '—';
  const mine = address.toLowerCase() === who.me?.toLowerCase();
  const name = mine ? t('account.youNamed', { name: me.name }) : who.names.get(address.toLowerCase());
  return [name ? [h('span', { 'data-testid': 'owner-name' }, name), ' '] : null, h('span', { class: 'mono', title: address }, address)];
}

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
      h('span', {}, `#${licence.id} · ${licensee(licence)} · ${licence.rights.map((r) => term('right', r)).join(', ')} · `
        + `${licence.territories.join(', ')} · ${date(licence.start)} → ${date(licence.end)}`
        + `${licence.exclusive ? ` · ${t('licence.exclusive')}` : ''} · ${revokedAbove && licence.status !== 'revoked' ? t('licence.revokedAbove') : t(`licence.${licence.status}`)}`),
      ' ', chainBadge(licence.chain),
      (children.get(licence.id) || []).length ? h('ul', {}, children.get(licence.id).map((c) => node(c, revoked))) : null);
  };
  if (!licences.length) return h('p', { class: 'muted' }, t('empty'));
  return h('ul', { class: 'tree', 'data-testid': 'licence-tree' }, roots.map((l) => node(l, false)));
}

export async function render({ root, role, address }) {
  const id = new URLSearchParams(location.search).get('id') || '';
  let work;
  try {
    work = await api(`/works/${encodeURIComponent(id)}`);
  } catch (error) {
    // another rights holder's work in a family of one's own: its family, and nothing else of it
    const family = error instanceof ApiError && error.status === 404 ? await familyOf(id) : null;
    if (!family) throw error;
    mount(root, h('h1', {}, family.work.title),
      h('p', { class: 'muted', 'data-testid': 'family-only' }, t('family.othersWork')), familySection(family));
    return;
  }
  const chain = work.on_chain;
  const [family, names, me] = await Promise.all([familyOf(work.work_id), accountNames(role), api('/accounts/me')]);
  const who = { me: address, names };
  mount(root, 
    h('h1', {}, work.title),
    h('dl', { class: 'facts', 'data-testid': 'work-record' },
      h('dt', {}, t('works.id')), h('dd', { class: 'mono' }, work.work_id),
      h('dt', {}, t('works.kind')), h('dd', {}, t(`kind.${work.kind}`)),
      h('dt', {}, t('field.chain')), h('dd', {}, chainBadge(work.chain), ' ', h('span', { class: 'mono whole', title: work.chain.tx_hash || '' }, short(work.chain.tx_hash || ''))),
      h('dt', {}, t('work.owner')), h('dd', { 'data-testid': 'work-owner' }, owner(chain?.owner, who, me)),
      h('dt', {}, t('work.registered')), h('dd', {}, chain ? date(chain.registered_at) : t('chain.pending')),
      h('dt', {}, t('work.fingerprint')), h('dd', { class: 'mono' }, chain?.fingerprint || work.fingerprint.digest),
      h('dt', {}, t('work.metadata')), h('dd', { class: 'mono' }, work.metadata_hash),
      h('dt', {}, t('work.parties')), h('dd', {}, work.parties.map((p) => `${p.name} (${p.role})`).join(', ') || '—')),
    familySection(family),
    h('h2', {}, t('work.licences')), licenceTree(work.licences),
    h('h2', {}, t('work.splits')),
    table([
      { label: t('split.version'), value: (s) => String(s.version) },
      { label: t('split.from'), value: (s) => (s.effective_from ? date(s.effective_from) : t('split.fromStart')) },
      { label: t('split.payees'), value: (s) => s.payees.map((p, i) => [i ? ' · ' : '',
        h('span', { 'data-testid': 'split-payee' }, accountName(p.address, who), ` ${(p.bps / 100).toFixed(2)} %`)]) },
    ], work.splits, { testid: 'splits' }),
  );
}
