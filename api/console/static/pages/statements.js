// Statements: a payee's own lines per period, verified against the chain by this browser
// (the service is not trusted for that), and claimed. A statement file can be verified too.
// A Claim is offered only for a line that can still be claimed: the chain says it is not settled
// yet, and for a file, the check passed (a file's own word for its status counts for nothing).
import { accountName, accountNames, api, ApiError, config, errorBox, h, money, mount, progress, short, t, table } from '../app.js';
import { disputesTable, lineBadge } from '../disputes.js';

let verifier;
function loadVerifier() {
  verifier ??= import('../console.js');
  return verifier;
}

function verdict(check) {
  if (!check) return h('span', { class: 'muted' }, '—');
  const good = check.proofOk && check.contractOk;
  return h('span', { class: good ? 'ok' : 'bad', 'data-testid': 'line-verdict', dataset: { ok: String(good) } },
    good ? t('verify.line.ok') : t('verify.line.bad'), check.settled ? ` · ${t('verify.settled')}` : '');
}

function summary(result) {
  const items = [
    [t('verify.root'), result.rootMatches], [t('verify.total'), result.totalMatches], [t('verify.token'), result.tokenMatches],
  ];
  return h('div', { class: `verdict ${result.ok ? 'ok' : 'bad'}`, 'data-testid': 'verify-result', dataset: { ok: String(result.ok) } },
    h('strong', {}, result.ok ? t('verify.ok') : t('verify.bad')),
    h('span', { class: 'muted' }, ` ${t('verify.took', { ms: Math.round(result.millis) })}`),
    h('ul', {}, items.map(([label, good]) => h('li', { class: good ? 'ok' : 'bad' }, `${label}: ${good ? '✓' : '✗'}`)),
      result.problems.map((p) => h('li', { class: 'bad' }, p))));
}

async function verifyInto(statement, out, onLines, onFailed = () => {}) {
  const bar = progress(t('verify.running'));
  out.replaceChildren(bar.el);
  try {
    const { verifyStatement } = await loadVerifier();
    if (!config.rpcUrl) throw new Error(t('verify.norpc'));
    const result = await verifyStatement({
      rpcUrl: config.rpcUrl, registry: config.contracts.SettlementRegistry, statement,
      onProgress: (done, total) => bar.set(done, total),
    });
    out.replaceChildren(summary(result));
    onLines(new Map(result.lines.map((line) => [line.index, line])), result);
  } catch (error) {
    onFailed();
    const elsewhere = config.origin && config.origin !== location.origin; // the managed node would not answer this page
    out.replaceChildren(h('div', { class: 'error', role: 'alert', 'data-testid': 'verify-error' }, error.message,
      elsewhere ? h('p', {}, t('verify.origin', { origin: config.origin })) : null));
  }
}

const PAGE = 500; // lines drawn at once: building ten thousand rows' elements takes the browser most of a second

function failed(check) {
  return check && !(check.proofOk && check.contractOk);
}

function linesTable(statement, checks, { own, claimCell, badge, who }, view, redraw) {
  const wanted = view.onlyFailed ? statement.lines.filter((l) => failed(checks?.get(l.index))) : statement.lines;
  const shown = wanted.slice(0, view.count);
  const more = wanted.length - shown.length;
  const bad = checks ? statement.lines.filter((l) => failed(checks.get(l.index))).length : 0;
  return h('div', {},
    h('p', { class: 'muted actions', 'data-testid': 'lines-shown' },
      t('statement.shown', { shown: shown.length, total: wanted.length }),
      more > 0 ? h('button', { type: 'button', class: 'secondary', 'data-testid': 'more-lines', onclick: () => redraw({ count: view.count + PAGE }) },
        t('statement.more', { n: Math.min(PAGE, more) })) : null,
      more > PAGE ? h('button', { type: 'button', class: 'secondary', onclick: () => redraw({ count: Infinity }) }, t('statement.all')) : null,
      bad ? h('button', { type: 'button', class: 'secondary', 'data-testid': 'only-failed', onclick: () => redraw({ onlyFailed: !view.onlyFailed, count: PAGE }) },
        view.onlyFailed ? t('statement.everyLine') : t('statement.onlyFailed', { n: bad })) : null),
    linesRows(statement, checks, { own, claimCell, badge, who }, shown));
}

function linesRows(statement, checks, { own, claimCell, badge, who }, lines) {
  return table([
    { label: '#', value: (l) => String(l.index) },
    { label: t('statement.work'), value: (l) => workName(l.work_id, l.work_title) },
    { label: t('statement.via'), value: (l) => (l.via_work_id ? workName(l.via_work_id, l.via_title) : h('span', { class: 'muted' }, t('statement.direct'))) },
    { label: t('statement.payee'), value: (l) => accountName(l.payee, who) },
    { label: t('statement.amount'), class: 'num', value: (l) => money(l.amount, statement.currency) },
    { label: t('statement.versions'), value: (l) => `${l.rule_version} / ${l.split_version}` },
    { label: t('verify.column'), value: (l) => verdict(checks?.get(l.index)) },
    { label: '', value: (l) => h('span', {}, badge(l), own(l) ? claimCell(l) : '') },
  ], lines, { testid: 'lines', widths: ['4.5rem', 'minmax(0, 1fr)', 'minmax(0, 1fr)', 'minmax(0, 1fr)', '9rem', '7rem', 'minmax(7rem, 1fr)', '9rem'] });
}

// A work by its title where the service knows it, its id on hover; by its id otherwise.
export function workName(workId, title) {
  return title ? h('span', { title: workId }, title) : h('span', { class: 'mono', title: workId }, short(workId));
}

// What the lines an upheld dispute voided would have paid (0n: none): the statement's total, as
// committed on chain, still counts them.
function voided(statement) {
  return statement.lines.filter((l) => l.dispute?.state === 'voided').reduce((sum, l) => sum + BigInt(l.amount), 0n);
}

// Whether a line of one's own may be claimed, and what to show instead when not. `settled`: the
// indexes the chain holds as claimed or paid (null until known); `checks` and `result`: the
// verification's outcome, if one ran. A file's lines are claimable only once the check passed for the whole file.
function claimState(line, statement, { fromFile, settled, checks, result }) {
  const check = checks?.get(line.index);
  if (check && !(check.proofOk && check.contractOk)) return 'failed';
  if (check?.settled || settled?.has(line.index)) return 'paid';
  if (fromFile) return result?.ok && check ? 'open' : 'unchecked';
  if (['held', 'voided'].includes(line.dispute?.state) || statement.status !== 'finalised') return 'closed';
  return settled || !config.rpcUrl ? 'open' : 'unchecked';
}

// `statement` is drawn as it came (the page asks for it without proofs: at 10,000 lines they are
// four fifths of it); `full()` gives it with every proof, for verifying and for the saved file.
// `fromFile`: a statement file, whose status and dispute marks are the file's word only.
// `platformName`: the platform's account name, shown for its address where the service gives it.
// `who`: the signed-in account's address (`me`) and the account names it may read (`names`), for the payees.
function statementView(statement, { address, reload, full, fromFile = false, platformName = null, who = {} }) {
  const verifyOut = h('div');
  const lines = h('div');
  const own = (line) => address && line.payee.toLowerCase() === address.toLowerCase();
  const failedClaim = (button, error) => {
    button.disabled = false;
    const box = error instanceof ApiError ? errorBox(error) : h('div', { class: 'error', role: 'alert' }, error.message);
    box.dataset.testid = 'claim-error';
    button.after(box);
  };
  const onClaim = async (line, button) => {
    button.disabled = true;
    button.parentNode.querySelectorAll('[data-testid=claim-error]').forEach((old) => old.remove()); // this try's outcome only
    if (!config.custodial) {
      claimFromWallet(line, button).catch((error) => failedClaim(button, error));
      return;
    }
    try {
      const result = await api(`/periods/${statement.period_id}/lines/${line.index}/claim`, { method: 'POST' });
      button.replaceWith(h('span', { class: 'ok', 'data-testid': 'claimed' }, t(`statement.claim.${result.chain.status}`)));
    } catch (error) {
      failedClaim(button, error);
    }
  };
  // The payee's own key is in their wallet: the browser sends the claim, the service is not asked.
  const claimFromWallet = async (line, button) => {
    if (!window.ethereum) throw new Error(t('statement.noWallet', { payout: statement.payout }));
    const note = h('span', { class: 'muted', 'data-testid': 'claim-progress' }, ` ${t('statement.claim.confirm')}`);
    button.after(note);
    try {
      const [{ claimWithWallet }, whole] = await Promise.all([loadVerifier(), full()]);
      const done = await claimWithWallet({
        ethereum: window.ethereum, registry: config.contracts.SettlementRegistry, statement: whole,
        line: whole.lines.find((l) => l.index === line.index),
        onSent: (hash) => { note.textContent = ` ${t('statement.claim.sent', { tx: short(hash) })}`; },
      });
      button.replaceWith(h('span', { class: 'ok', 'data-testid': 'claimed', title: done.hash }, t('statement.claim.mined', { block: done.block })));
    } finally {
      note.remove();
    }
  };
  // One cell per line, kept across redraws (a verification redraws the lines): a claim under
  // way, its outcome or its error stays where it is. Until one is tried, what the cell shows
  // follows what is known of the line.
  const claimCells = new WeakMap(); // by the line itself: a file may repeat an index
  const tried = new WeakSet();
  let known = { fromFile, settled: null, checks: null, result: null };
  const claimCell = (line) => {
    if (tried.has(line)) return claimCells.get(line);
    const state = claimState(line, statement, known);
    if (state === 'paid') return h('span', { class: 'ok', 'data-testid': 'line-paid' }, t('statement.paid'));
    if (state !== 'open') return '';
    if (!claimCells.has(line)) {
      claimCells.set(line, h('span', { class: 'claim' }, h('button', {
        type: 'button', 'data-testid': 'claim', onclick: (e) => { tried.add(line); onClaim(line, e.currentTarget); },
      }, config.custodial ? t('statement.claim') : t('statement.claimWallet'))));
    }
    return claimCells.get(line);
  };
  const badge = (line) => (fromFile ? '' : lineBadge(line.dispute));
  let view = { count: PAGE, onlyFailed: false };
  let checks = null;
  const redraw = (change = {}) => {
    view = { ...view, ...change };
    lines.replaceChildren(linesTable(statement, checks, { own, claimCell, badge, who }, view, redraw));
  };
  const status = h('dd', { 'data-testid': 'statement-status' },
    fromFile ? t('verify.state.checking') : t(`period.${statement.status}`));
  const draw = (found, result) => {
    checks = found;
    known = { ...known, checks: found, result };
    if (fromFile) status.textContent = t(`verify.state.${result.periodState}`); // the chain's word, not the file's
    redraw({ onlyFailed: [...found.values()].some(failed) }); // a failing line is shown first, wherever it is
  };
  const unchecked = () => { // the check could not be made: the file's word still counts for nothing
    if (fromFile) status.textContent = t('verify.state.unchecked');
  };
  redraw();
  const mine = statement.lines.filter(own).map((l) => l.index);
  if (!fromFile && mine.length && config.rpcUrl && statement.status === 'finalised') {
    loadVerifier().then(({ settledLines }) => settledLines({
      rpcUrl: config.rpcUrl, registry: config.contracts.SettlementRegistry, chainId: statement.chain_id,
      periodId: statement.period_id, indexes: mine,
    })).then((settled) => { known = { ...known, settled }; redraw(); })
      .catch(() => { known = { ...known, settled: new Set() }; redraw(); }); // unknown: the claim itself tells
  }
  const download = async (event) => { // the file is made when asked for: at 10,000 lines it is megabytes
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const whole = await full();
      const url = URL.createObjectURL(new Blob([JSON.stringify(whole, null, 2)], { type: 'application/json' }));
      const link = h('a', { href: url, download: `statement-${statement.period_id.slice(2, 10)}.json`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      button.after(errorBox(error));
    } finally {
      button.disabled = false;
    }
  };
  const verify = async () => {
    try {
      await verifyInto(await full(), verifyOut, draw, unchecked);
    } catch (error) {
      verifyOut.replaceChildren(error instanceof ApiError ? errorBox(error) : h('div', { class: 'error', role: 'alert' }, error.message));
    }
  };
  return h('section', { class: 'card', 'data-testid': 'statement' },
    h('h2', {}, `${statement.period.first_day} → ${statement.period.last_day}`),
    h('dl', { class: 'facts' },
      h('dt', {}, t('statement.platform')), platformName
        ? h('dd', { title: statement.platform, 'data-testid': 'statement-platform' }, platformName)
        : h('dd', { class: 'mono', 'data-testid': 'statement-platform' }, statement.platform),
      h('dt', {}, t('statement.status')), status,
      // a payee's own total; the platform, administrators, auditors and the arbiter read the period's
      statement.payee ? [h('dt', {}, t('statement.yours')), h('dd', { 'data-testid': 'payee-total' }, money(statement.payee_total, statement.currency),
        voided(statement) ? h('span', { class: 'muted', 'data-testid': 'voided-total' }, ` · ${t('statement.voidedPart', { amount: money(voided(statement).toString(), statement.currency) })}`) : null)]
        : [h('dt', {}, t('statement.periodTotal')), h('dd', { 'data-testid': 'period-total' }, money(statement.total, statement.currency))],
      h('dt', {}, t('statement.root')), h('dd', { class: 'mono' }, statement.root || '—'),
      h('dt', {}, t('statement.contract')), h('dd', { class: 'mono' }, statement.contract)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', 'data-testid': 'verify', onclick: verify }, t('verify.button')),
      h('button', { type: 'button', class: 'secondary', onclick: download, 'data-testid': 'download' }, t('statement.download')),
      reload ? h('button', { type: 'button', class: 'secondary', onclick: reload }, t('reload')) : null),
    verifyOut, lines);
}

function fileVerifier(address, who) {
  const out = h('div');
  const input = h('input', { type: 'file', accept: 'application/json,.json', id: 'statement-file', 'data-testid': 'statement-file' });
  input.addEventListener('change', async () => {
    const file = input.files[0];
    out.replaceChildren(); // the last file's verdict is not this one's
    if (!file) return;
    let statement;
    try {
      statement = JSON.parse(await file.text());
      if (!Array.isArray(statement.lines) || !statement.period_id) throw new Error(t('verify.notstatement'));
    } catch (error) {
      out.replaceChildren(h('div', { class: 'error', role: 'alert' }, `${t('verify.unreadable')}: ${error.message}`));
      return;
    }
    const view = statementView(statement, { address, full: async () => statement, fromFile: true, who });
    out.replaceChildren(view);
    view.querySelector('[data-testid="verify"]').click();
  });
  return h('section', { class: 'card' }, h('h2', {}, t('verify.file')), h('p', { class: 'muted' }, t('verify.file.help')),
    h('label', { for: 'statement-file' }, t('verify.file.pick')), input, out);
}

// A payee's own lines and total in a period (the period's list gives the whole period's): read
// once a period, with the amounts only.
const ownStatements = new Map();
function ownCell(period, draw) {
  const cell = h('span', { class: 'muted' }, '…');
  if (!ownStatements.has(period.period_id)) ownStatements.set(period.period_id, api(`/periods/${period.period_id}/statement?proofs=false`));
  ownStatements.get(period.period_id).then((statement) => cell.replaceWith(draw(statement)))
    .catch((error) => cell.replaceWith(errorBox(error)));
  return cell;
}
const ownLinesCell = (period) => ownCell(period, (statement) => h('span', { 'data-testid': 'own-lines' }, String(statement.lines.length)));
const ownTotalCell = (period) => ownCell(period, (statement) => h('span', { 'data-testid': 'own-total' }, money(statement.payee_total, statement.currency),
  voided(statement) ? h('span', { class: 'muted' }, ` · ${t('statement.voidedPart', { amount: money(voided(statement).toString(), statement.currency) })}`) : null));

export async function render({ root, role, address }) {
  const [periods, names] = await Promise.all([api('/periods'), accountNames(role)]);
  const who = { me: address, names };
  const payee = role === 'rights_holder'; // the one role that reads its own lines only
  const holder = h('div');
  const show = async (period) => {
    holder.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    try {
      const url = `/periods/${period.period_id}/statement`;
      const [statement, disputes] = await Promise.all([api(`${url}?proofs=false`), api(`/periods/${period.period_id}/disputes`)]);
      let whole;
      const full = () => (whole ??= api(url).catch((error) => { whole = undefined; throw error; }));
      holder.replaceChildren(statementView(statement, {
        address: role === 'rights_holder' || role === 'platform' ? address : null, reload: () => show(period), full,
        platformName: period.platform, who,
      }), disputes.length ? h('section', { class: 'card', 'data-testid': 'period-disputes' }, h('h2', {}, t('dispute.title')),
        disputesTable(disputes, { currencyOf: () => statement.currency, who,
          periodName: () => `${period.period.first_day} → ${period.period.last_day} · ${period.platform}` })) : '');
    } catch (error) {
      holder.replaceChildren(error instanceof ApiError ? errorBox(error) : h('div', { class: 'error' }, error.message));
    }
  };
  mount(root, 
    h('h1', {}, t('nav.statements')),
    table([
      { label: t('period.dates'), value: (p) => h('a', { href: '#', 'data-testid': 'open-period', onclick: (e) => { e.preventDefault(); show(p); } }, `${p.period.first_day} → ${p.period.last_day}`) },
      // two platforms' periods may cover the same days: each is told by its platform
      role === 'platform' ? null : { label: t('period.platform'), value: (p) => h('span', { 'data-testid': 'period-platform' }, p.platform) },
      { label: t('period.status'), value: (p) => t(`period.${p.status}`) },
      payee ? { label: t('period.yourLines'), class: 'num', value: ownLinesCell }
        : { label: t('period.lines'), class: 'num', value: (p) => String(p.line_count) },
      payee ? { label: t('period.yourTotal'), class: 'num', value: ownTotalCell }
        : { label: t('period.periodTotal'), class: 'num', value: (p) => money(p.total, p.currency) },
    ].filter(Boolean), periods, { testid: 'periods' }),
    holder, fileVerifier(address, who));
  const wanted = new URLSearchParams(location.search).get('period');
  const first = periods.find((p) => p.period_id === wanted) || (periods.length === 1 ? periods[0] : null);
  if (first) await show(first);
}
