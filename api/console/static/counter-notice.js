// The public counter-notice form: posts what the recipient of a notice files, as JSON, to its own link.
const form = document.getElementById('counter-notice');
const error = form.querySelector('.error');
const done = form.querySelector('[role=status]');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  const optional = (name) => (data.get(name) || '').trim() || null;
  const body = {
    token: new URLSearchParams(location.search).get('token') || '',
    name: data.get('name'), address: data.get('address'), email: data.get('email'),
    phone: optional('phone'), explanation: optional('explanation'),
    urls: data.getAll('urls'), good_faith: data.get('good_faith') === 'on',
  };
  const response = await fetch('/counter-notices', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problem = answer.error || {};
    error.textContent = problem.message || `refused (${response.status})`;
    error.hidden = false;
    return;
  }
  const due = answer.restoration_due_at || '';
  const when = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(due) ? due : `${due}Z`) // UTC, as the service keeps it
    .toISOString().replace('T', ' ').slice(0, 16); // as the console writes dates
  done.replaceChildren(
    'Counter-notice filed; its hash ', Object.assign(document.createElement('span'), { className: 'mono', textContent: answer.document_hash }),
    ` is recorded and is being anchored on chain. The material is due to be restored on ${when} UTC unless the rights holder files a court action by then.`);
  done.dataset.testid = 'filed';
  done.hidden = false;
  form.querySelector('button').disabled = true;
});
