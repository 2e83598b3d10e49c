// Queued crawl jobs and their live progress: the page asks again every two seconds while any
// job is still running.
import { api, date, errorBox, h, mount, short, table, t, withCode } from '../app.js';

const POLL_MS = 2000;

function skipped(counts) {
  return Object.entries(counts).filter(([k]) => k.startsWith('skipped:')).reduce((sum, [, v]) => sum + v, 0);
}

function progressCell(job) {
  const { done = 0, failed = 0, queued = 0, finished } = job.counts;
  return h('span', { class: 'progress', 'data-testid': 'job-progress', dataset: { finished: String(finished) } },
    h('progress', { max: Math.max(queued, 1), value: done + failed }),
    h('span', {}, finished ? t('crawls.finished') : t('crawls.running', { done: done + failed, queued })));
}

function jobsTable(jobs) {
  return table([
    { label: t('crawls.job'), value: (j) => h('span', { class: 'mono whole', title: j.job_id, 'data-testid': 'job-id' }, short(j.job_id, 8)) },
    { label: t('crawls.seeds'), value: (j) => h('span', { title: j.seeds.join('\n') }, j.seeds.map((s) => short(s, 48)).join(', ')) },
    { label: t('crawls.submitted'), value: (j) => date(j.submitted_at) },
    { label: t('crawls.progress'), value: progressCell },
    { label: t('crawls.pages'), class: 'num', value: (j) => String(j.counts.pages || 0) },
    { label: t('crawls.media'), class: 'num', value: (j) => String(j.counts.media || 0) },
    { label: t('crawls.matched'), class: 'num', value: (j) => String(j.counts.matched || 0) },
    { label: t('crawls.cases'), class: 'num', value: (j) => h('span', { 'data-testid': 'job-cases' }, String(j.counts.cases || 0)) },
    { label: t('crawls.skipped'), class: 'num', value: (j) => String(skipped(j.counts)) },
  ], jobs, { testid: 'jobs' });
}

export async function render({ root }) {
  const holder = h('div');
  mount(root, h('h1', {}, t('nav.crawls')), h('p', { class: 'muted', 'data-testid': 'crawls-help' }, withCode(t('crawls.help'))), holder);
  const refresh = async () => {
    try {
      const jobs = await api('/crawl/jobs');
      mount(holder, jobsTable(jobs));
      if (jobs.some((j) => !j.counts.finished)) setTimeout(refresh, POLL_MS);
    } catch (error) {
      mount(holder, errorBox(error));
      setTimeout(refresh, POLL_MS * 5);
    }
  };
  await refresh();
}
