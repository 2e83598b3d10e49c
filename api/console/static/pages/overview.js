// What the signed-in account can do here, with a count of what it already has.
import { api, h, mount, t } from '../app.js';

const COUNTS = {
  rights_holder: [['works', '/works?limit=1', (b) => b.total], ['cases', '/cases?limit=1', (b) => b.total]],
  platform: [['reports', '/reports?limit=500', (b) => b.length], ['periods', '/periods', (b) => b.length]],
  crawler: [['crawls', '/crawl/jobs', (b) => b.length], ['cases', '/cases?limit=1', (b) => b.total]],
  auditor: [['works', '/works?limit=1', (b) => b.total], ['periods', '/periods', (b) => b.length], ['cases', '/cases?limit=1', (b) => b.total]],
  arbiter: [['periods', '/periods', (b) => b.length]],
  admin: [['works', '/works?limit=1', (b) => b.total], ['periods', '/periods', (b) => b.length], ['cases', '/cases?limit=1', (b) => b.total]],
};

export async function render({ root, role }) {
  const me = await api('/accounts/me');
  const tiles = await Promise.all((COUNTS[role] || []).map(async ([page, path, count]) => {
    const value = await api(path).then(count, () => '—'); // one source down (the crawl queue's Redis) blanks one tile
    return h('a', { class: 'tile', href: `/console/${page}` }, h('strong', {}, String(value)), h('span', {}, t(`nav.${page}`)));
  }));
  mount(root, 
    h('h1', {}, t('overview.hello', { name: me.name })),
    h('p', { class: 'muted' }, t(`overview.${role}`)),
    h('dl', { class: 'facts' }, h('dt', {}, t('field.role')), h('dd', {}, t(`role.${role}`)),
      h('dt', {}, t('field.address')), h('dd', { class: 'mono' }, me.address)),
    h('div', { class: 'tiles' }, tiles),
  );
}
