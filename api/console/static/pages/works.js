// A rights holder's works, and registering one by uploading its master file.
import { api, chainBadge, date, followJob, h, mount, onSubmit, progress, short, t, table, upload } from '../app.js';

function registerForm(role, onDone) {
  if (role !== 'rights_holder') return null;
  const status = h('div', { class: 'status' });
  const form = h('form', { class: 'card', id: 'register-work' },
    h('h2', {}, t('works.register')),
    h('label', { for: 'work-file' }, t('works.file')), h('input', { id: 'work-file', name: 'file', type: 'file', required: true }),
    h('label', { for: 'work-title' }, t('works.title')), h('input', { id: 'work-title', name: 'title', required: true, maxlength: 300 }),
    h('label', { for: 'work-kind' }, t('works.kind')),
    h('select', { id: 'work-kind', name: 'kind' }, ['film', 'series', 'episode'].map((k) => h('option', { value: k }, t(`kind.${k}`)))),
    h('label', { for: 'work-parent' }, t('works.parent')), h('input', { id: 'work-parent', name: 'parent', placeholder: '0x…', maxlength: 66 }),
    h('label', { for: 'work-parties' }, t('works.parties')),
    h('textarea', { id: 'work-parties', name: 'parties', rows: 3, placeholder: t('works.parties.help') }),
    h('button', { type: 'submit' }, t('works.submit')),
    status);
  onSubmit(form, status, async () => {
    const parties = [];
    for (const line of form.parties.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
      // NAME:ROLE, as the CLI's --party: the last colon (or full-width colon) ends the name
      const cut = Math.max(line.lastIndexOf(':'), line.lastIndexOf('：'));
      const name = line.slice(0, Math.max(cut, 0)).trim();
      const partyRole = line.slice(cut + 1).trim();
      if (cut < 0 || !name || !partyRole) {
        status.replaceChildren(h('div', { class: 'error', role: 'alert' }, t('works.parties.bad', { line })));
        return;
      }
      parties.push({ name, role: partyRole });
    }
    const metadata = { title: form.title.value.trim(), kind: form.kind.value, parties };
    if (form.parent.value.trim()) metadata.parent = form.parent.value.trim();
    const body = new FormData();
    body.append('metadata', JSON.stringify(metadata));
    body.append('file', form.file.files[0]);
    const bar = progress(t('works.uploading'));
    status.replaceChildren(bar.el);
    // Answered as soon as it is stored: the service hashes its frames as a job, followed here.
    const { body: job } = await upload('/works/jobs', body, {
      headers: { 'Idempotency-Key': crypto.randomUUID() }, onProgress: (done, total) => bar.set(done, total),
    });
    const hashing = progress(t('works.hashing'));
    hashing.el.dataset.testid = 'job-progress';
    status.replaceChildren(hashing.el);
    const done = await followJob(job, hashing);
    const work = await api(`/works/${done.result.work_id}`);
    status.replaceChildren(h('p', { class: 'ok', 'data-testid': 'registered' }, t('works.registered'), ' ',
      h('a', { href: `/console/work?id=${work.work_id}` }, work.title), ' ', chainBadge(work.chain)));
    form.reset();
    onDone();
  });
  return form;
}

export async function render({ root, role }) {
  const list = h('div');
  async function load() {
    const page = await api('/works?limit=500');
    list.replaceChildren(h('p', { class: 'muted' }, t('works.count', { total: page.total })), table([
      { label: t('works.title'), value: (w) => h('a', { href: `/console/work?id=${w.work_id}` }, w.title) },
      { label: t('works.kind'), value: (w) => t(`kind.${w.kind}`) },
      { label: t('works.id'), value: (w) => h('span', { class: 'mono', title: w.work_id }, short(w.work_id)) },
      { label: t('field.chain'), value: (w) => chainBadge(w.chain) },
      { label: t('field.created'), value: (w) => date(w.created_at) },
    ], page.items, { testid: 'works' }));
  }
  mount(root, h('h1', {}, t('nav.works')), registerForm(role, load), list);
  await load();
}
