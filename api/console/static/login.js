// Sign-in: the API key goes to the service once and comes back as an HttpOnly cookie; it is
// never kept in the browser's storage.
const form = document.getElementById('sign-in');
const error = form.querySelector('.error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  const response = await fetch('/console/session', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ api_key: form.api_key.value.trim() }),
  });
  if (response.ok) {
    location.assign(form.dataset.next || '/console/overview');
    return;
  }
  const body = await response.json().catch(() => null);
  error.textContent = body?.error?.message || `HTTP ${response.status}`;
  error.hidden = false;
});
