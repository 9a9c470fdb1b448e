// @ts-check
// The operators' page (docs/contract.md, "The operators' page"). It holds no data of its own:
// every figure comes from the admin routes beside it, each call with the admin token this tab
// keeps. Everything is written with textContent: nothing the BFF answers is parsed as HTML.

/** @typedef {{ name: string, date: string, calls: number, errors: number, throttled: number }} UsageRow */
/** @typedef {{ fingerprint: string, use: string, source: string, loadedAt: string, lastUsedAt: string | null, callsToday: number, pausedUntil: string | null }} KeyRow */
/** @typedef {{ createdAt: string, lastSeenAt: string, userAgent: string | null }} SessionRow */
/** @typedef {{ label: string, values: number[] }} Series */
/** @typedef {'ok' | 'refused' | 'unreachable' | 'off' | 'failed'} Outcome */

/** sessionStorage belongs to this tab alone: another tab or a new window asks again. */
const TOKEN_KEY = 'gather-bff-admin-token';
const DAY_MS = 86_400_000;
const CHART_DAYS = 30;
/** A key with no call in this long is marked unused. */
const UNUSED_AFTER_MS = 30 * DAY_MS;
const TOP_USERS = 10;
const REFRESH_MS = 60_000;
/** Waits between tries while the BFF does not answer (a restart takes seconds). */
const RETRY_MS = [2000, 4000, 8000, 15_000];
const COLOURS = ['#2563eb', '#dc2626', '#d97706', '#059669', '#7c3aed', '#db2777', '#0891b2'];

const REFUSED = 'The admin token was refused (wrong, or rotated): enter it again.';
const OFF = 'This BFF no longer serves the admin routes (is ADMIN_TOKEN still set?).';
const NO_TRAFFIC = 'No traffic yet.';
const USAGE_DOWN = 'The usage store is unavailable; these figures come back when it answers.';
const SESSIONS_DOWN = 'The session store is unavailable; try again when it answers.';

/**
 * The element with `id`, of the type the page's HTML gives it.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`The page has no ${type.name} #${id}`);
  return found;
}

const page = {
  starting: element('starting', HTMLElement),
  signIn: element('sign-in', HTMLElement),
  tokenForm: element('token-form', HTMLFormElement),
  token: element('token', HTMLInputElement),
  signOut: element('sign-out', HTMLButtonElement),
  notice: element('notice', HTMLElement),
  noticeText: element('notice-text', HTMLElement),
  retry: element('retry', HTMLButtonElement),
  dashboard: element('dashboard', HTMLElement),
  updated: element('updated', HTMLElement),
  refresh: element('refresh', HTMLButtonElement),
  orgPanel: element('org-panel', HTMLElement),
  orgChart: element('org-chart', HTMLElement),
  teamPanel: element('team-panel', HTMLElement),
  teamChart: element('team-chart', HTMLElement),
  usersPanel: element('users-panel', HTMLElement),
  usersToday: element('users-today', HTMLTableSectionElement),
  usersMonth: element('users-month', HTMLTableSectionElement),
  keysPanel: element('keys-panel', HTMLElement),
  keys: element('keys', HTMLTableSectionElement),
  sessionsPanel: element('sessions-panel', HTMLElement),
  userForm: element('user-form', HTMLFormElement),
  userId: element('user-id', HTMLInputElement),
  sessionsTable: element('sessions-table', HTMLTableElement),
  sessions: element('sessions', HTMLTableSectionElement),
  endSessions: element('end-sessions', HTMLButtonElement),
};

/** What went wrong with a call, in words an operator can act on. */
class Failure extends Error {
  /**
   * @param {Exclude<Outcome, 'ok'>} outcome
   * @param {string} message
   * @param {number} [status]
   */
  constructor(outcome, message, status) {
    super(message);
    this.outcome = outcome;
    this.status = status;
  }
}

/**
 * One call to an admin route with the token; its JSON body, or a Failure: `refused` (401),
 * `unreachable` (no answer, or not the BFF's JSON: it is restarting or a proxy answered), `off`
 * (404: no admin routes), `failed` (anything else, 503 included, with the envelope's words).
 * @param {string} method
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function call(method, path) {
  /** @type {Response} */
  let res;
  /** @type {unknown} */
  let body;
  try {
    res = await fetch(path, {
      method,
      cache: 'no-store',
      signal: inFlight.signal,
      headers: { authorization: `Bearer ${token() ?? ''}`, accept: 'application/json' },
    });
    body = await res.json();
  } catch {
    throw new Failure('unreachable', 'The BFF did not answer.');
  }
  if (res.ok) return body;
  if (res.status === 401) throw new Failure('refused', REFUSED, 401);
  if (res.status === 404) throw new Failure('off', OFF, 404);
  const error = isRecord(body) && isRecord(body.error) ? body.error : {};
  const meta = isRecord(body) && isRecord(body.meta) ? body.meta : {};
  const code = typeof error.code === 'string' ? error.code : 'ERROR';
  const message = typeof error.message === 'string' ? error.message : '';
  const id = typeof meta.requestId === 'string' ? ` (request id ${meta.requestId})` : '';
  throw new Failure(
    'failed',
    `The BFF answered ${res.status} ${code}: ${message}${id}.`,
    res.status,
  );
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Aborted on sign-out, so that no answer to the old token is shown after it. */
let inFlight = new AbortController();

/** @returns {string | null} */
function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** `YYYY-MM-DD` of a time, in UTC as the usage routes count days. */
const utcDate = (/** @type {number} */ at) => new Date(at).toISOString().slice(0, 10);
/** A time as operators compare it with logs: `2026-12-07 10:00:01 UTC`. */
const utcTime = (/** @type {string} */ iso) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

/**
 * @param {number} count
 * @param {string} one
 * @param {string} many
 */
const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

/** @param {HTMLElement} panel @param {string} text */
function panelState(panel, text) {
  const state = panel.querySelector('.state');
  if (!(state instanceof HTMLElement)) return;
  state.textContent = text;
  state.hidden = text === '';
}

/**
 * @param {string[]} texts
 * @returns {HTMLTableRowElement}
 */
function row(texts) {
  const tr = document.createElement('tr');
  for (const text of texts) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

/** The word for a failure in a panel; refusals and silence are said once, above the panels. */
function failureText(/** @type {unknown} */ err, /** @type {string} */ unavailable) {
  if (!(err instanceof Failure)) return `The page could not show this: ${String(err)}`;
  if (err.status === 503) return unavailable;
  return err.message;
}

/** @param {unknown} err @returns {Outcome} */
const outcomeOf = (err) => (err instanceof Failure ? err.outcome : 'failed');

// Charts.

/** @type {Map<HTMLElement, uPlot>} */
const charts = new Map();

/**
 * Draws `series` over `dates` in `box` with uPlot, replacing what was there, and notes on the box
 * what it was given (`data-points`, `data-totals`), which the browser test reads.
 * @param {HTMLElement} box
 * @param {string[]} dates
 * @param {Series[]} series
 */
function drawChart(box, dates, series) {
  clearChart(box);
  box.dataset.points = String(dates.length);
  box.dataset.totals = JSON.stringify(
    Object.fromEntries(series.map((s) => [s.label, s.values.reduce((a, b) => a + b, 0)])),
  );
  if (typeof uPlot === 'undefined') {
    box.textContent = 'The chart library did not load; reload the page.';
    return;
  }
  /** @type {uPlot.Options} */
  const options = {
    width: Math.max(320, box.clientWidth),
    height: 240,
    // Days are UTC days: the axis says so whatever the browser's time zone.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    series: [
      { label: 'Day (UTC)' },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: COLOURS[i % COLOURS.length],
        width: 2,
        points: { show: true, size: 5 },
      })),
    ],
    // Dates as the usage routes write them (`12-07`), not in the browser's locale.
    axes: [
      { values: (_u, splits) => splits.map((ts) => utcDate(ts * 1000).slice(5)) },
      { size: 56 },
    ],
  };
  const x = dates.map((d) => Date.parse(d) / 1000);
  charts.set(box, new uPlot(options, [x, ...series.map((s) => s.values)], box));
}

/** @param {HTMLElement} box */
function clearChart(box) {
  charts.get(box)?.destroy();
  charts.delete(box);
  box.replaceChildren();
  delete box.dataset.points;
  delete box.dataset.totals;
}

window.addEventListener('resize', () => {
  for (const [box, chart] of charts) {
    chart.setSize({ width: Math.max(320, box.clientWidth), height: chart.height });
  }
});

/** The 30 UTC dates ending today, oldest first. */
function chartDates() {
  const now = Date.now();
  return Array.from({ length: CHART_DAYS }, (_, i) => utcDate(now - (CHART_DAYS - 1 - i) * DAY_MS));
}

/**
 * Per name, its calls on each of `dates` (0 where it has no row).
 * @param {UsageRow[]} rows
 * @param {string[]} dates
 * @param {(r: UsageRow) => number} [pick]
 * @returns {Map<string, number[]>}
 */
function perDay(rows, dates, pick = (r) => r.calls) {
  const index = new Map(dates.map((d, i) => [d, i]));
  /** @type {Map<string, number[]>} */
  const named = new Map();
  for (const r of rows) {
    const at = index.get(r.date);
    if (at === undefined) continue;
    let values = named.get(r.name);
    if (!values) named.set(r.name, (values = dates.map(() => 0)));
    values[at] = (values[at] ?? 0) + pick(r);
  }
  return named;
}

/**
 * @param {string} by
 * @param {string} from
 * @param {string} to
 * @returns {Promise<UsageRow[]>}
 */
async function usage(by, from, to) {
  const body = await call('GET', `/admin/usage?by=${by}&from=${from}&to=${to}`);
  return isRecord(body) && Array.isArray(body.rows) ? /** @type {UsageRow[]} */ (body.rows) : [];
}

/**
 * The organisation's calls, errors and refusals per day: the sum of the rows by key, since each
 * forwarded call uses exactly one key.
 * @param {string[]} dates
 */
async function loadOrganisation(dates) {
  const rows = await usage('key', dates[0] ?? '', dates[dates.length - 1] ?? '');
  if (rows.length === 0) {
    clearChart(page.orgChart);
    panelState(page.orgPanel, NO_TRAFFIC);
    return;
  }
  const sum = (/** @type {(r: UsageRow) => number} */ pick) => {
    const values = dates.map(() => 0);
    for (const perKey of perDay(rows, dates, pick).values()) {
      perKey.forEach((v, i) => (values[i] = (values[i] ?? 0) + v));
    }
    return values;
  };
  panelState(page.orgPanel, '');
  drawChart(page.orgChart, dates, [
    { label: 'Calls', values: sum((r) => r.calls) },
    { label: 'Errors', values: sum((r) => r.errors) },
    { label: 'Refused', values: sum((r) => r.throttled) },
  ]);
}

/** @param {string[]} dates */
async function loadTeams(dates) {
  const rows = await usage('team', dates[0] ?? '', dates[dates.length - 1] ?? '');
  if (rows.length === 0) {
    clearChart(page.teamChart);
    panelState(page.teamPanel, 'No team traffic yet.');
    return;
  }
  const series = [...perDay(rows, dates)]
    .map(([label, values]) => ({ label, values }))
    .sort((a, b) => (a.label < b.label ? -1 : 1));
  panelState(page.teamPanel, '');
  drawChart(page.teamChart, dates, series);
}

/**
 * @param {HTMLTableSectionElement} body
 * @param {UsageRow[]} rows
 * @param {string} none
 */
function topUsers(body, rows, none) {
  /** @type {Map<string, UsageRow>} */
  const totals = new Map();
  for (const r of rows) {
    const t = totals.get(r.name) ?? { name: r.name, date: '', calls: 0, errors: 0, throttled: 0 };
    totals.set(r.name, {
      ...t,
      calls: t.calls + r.calls,
      errors: t.errors + r.errors,
      throttled: t.throttled + r.throttled,
    });
  }
  const top = [...totals.values()]
    .sort((a, b) => b.calls - a.calls || (a.name < b.name ? -1 : 1))
    .slice(0, TOP_USERS);
  body.replaceChildren(
    ...(top.length === 0
      ? [row([none, '', '', ''])]
      : top.map((u) => userRow(u.name, [u.calls, u.errors, u.throttled]))),
  );
}

/**
 * A user's row; the name is a button that shows their sessions below.
 * @param {string} name
 * @param {number[]} counts
 */
function userRow(name, counts) {
  const tr = row(['', ...counts.map(String)]);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'link';
  button.textContent = name;
  button.title = `Show the sessions of ${name}`;
  button.addEventListener('click', () => {
    page.userId.value = name;
    void showSessions(name).then(afterAction);
    page.sessionsPanel.scrollIntoView({ behavior: 'smooth' });
  });
  tr.cells[0]?.append(button);
  for (const cell of [...tr.cells].slice(1)) cell.className = 'num';
  return tr;
}

/** Today's and this month's busiest users, from one read of this month so far. */
async function loadUsers() {
  const today = utcDate(Date.now());
  const monthStart = `${today.slice(0, 8)}01`;
  const rows = await usage('user', monthStart, today);
  topUsers(
    page.usersToday,
    rows.filter((r) => r.date === today),
    'No calls today.',
  );
  topUsers(page.usersMonth, rows, 'No calls this month.');
  panelState(page.usersPanel, rows.length === 0 ? NO_TRAFFIC : '');
}

async function loadKeys() {
  const body = await call('GET', '/admin/keys');
  const keys =
    isRecord(body) && Array.isArray(body.keys) ? /** @type {KeyRow[]} */ (body.keys) : [];
  const now = Date.now();
  page.keys.replaceChildren(
    ...keys.map((key) => {
      const paused = key.pausedUntil !== null && Date.parse(key.pausedUntil) > now;
      const unused = key.lastUsedAt === null || Date.parse(key.lastUsedAt) < now - UNUSED_AFTER_MS;
      const status = [
        ...(paused && key.pausedUntil ? [`Paused until ${utcTime(key.pausedUntil)}`] : []),
        ...(unused ? ['Unused'] : []),
      ];
      const tr = row([
        key.fingerprint,
        key.use,
        key.source,
        utcTime(key.loadedAt),
        key.lastUsedAt === null ? 'never' : utcTime(key.lastUsedAt),
        String(key.callsToday),
        status.length === 0 ? 'In use' : status.join('; '),
      ]);
      tr.classList.toggle('paused', paused);
      tr.classList.toggle('unused', unused);
      tr.cells[5]?.classList.add('num');
      return tr;
    }),
  );
  panelState(page.keysPanel, keys.length === 0 ? 'The BFF holds no key.' : '');
}

// Sessions.

/** The user whose sessions are shown, listed again with each refresh. */
let shownUser = '';

/**
 * Lists `userId`'s sessions, by when they started and were last seen and their browser: never
 * an id (the admin route's ids are opaque handles, but an operator has no use for them).
 * @param {string} userId
 * @param {string} [before] said ahead of the count (what was just done)
 * @returns {Promise<Outcome>}
 */
async function showSessions(userId, before = '') {
  shownUser = userId;
  panelState(page.sessionsPanel, 'Loading…');
  try {
    const body = await call('GET', `/admin/users/${encodeURIComponent(userId)}/sessions`);
    if (shownUser !== userId) return 'ok';
    const sessions =
      isRecord(body) && Array.isArray(body.sessions)
        ? /** @type {SessionRow[]} */ (body.sessions)
        : [];
    page.sessions.replaceChildren(
      ...sessions.map((s) =>
        row([utcTime(s.createdAt), utcTime(s.lastSeenAt), s.userAgent ?? 'unknown']),
      ),
    );
    page.sessionsTable.hidden = sessions.length === 0;
    page.endSessions.hidden = sessions.length === 0;
    page.endSessions.textContent = `End ${sessions.length === 1 ? 'this session' : `these ${sessions.length} sessions`}`;
    panelState(
      page.sessionsPanel,
      `${before}${plural(sessions.length, 'live session', 'live sessions')} for ${userId}.`,
    );
    return 'ok';
  } catch (err) {
    if (shownUser === userId) {
      clearSessions();
      panelState(page.sessionsPanel, failureText(err, SESSIONS_DOWN));
    }
    return outcomeOf(err);
  }
}

function clearSessions() {
  page.sessions.replaceChildren();
  page.sessionsTable.hidden = true;
  page.endSessions.hidden = true;
}

async function endSessions() {
  const userId = shownUser;
  if (!userId || !confirm(`End every session of ${userId}? They will have to sign in again.`)) {
    return;
  }
  page.endSessions.disabled = true;
  try {
    const body = await call('DELETE', `/admin/users/${encodeURIComponent(userId)}/sessions`);
    const ended = isRecord(body) && typeof body.ended === 'number' ? body.ended : 0;
    afterAction(await showSessions(userId, `Ended ${plural(ended, 'session', 'sessions')}. `));
  } catch (err) {
    panelState(page.sessionsPanel, failureText(err, SESSIONS_DOWN));
    afterAction(outcomeOf(err));
  } finally {
    page.endSessions.disabled = false;
  }
}

// Loading, refreshing, and the token.

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let retries = 0;
/** Which load is current: answers of an older one (before a sign-out) are dropped. */
let generation = 0;

/**
 * Runs one panel's loader: its message on failure, the outcome for the page.
 * @param {HTMLElement} section
 * @param {() => Promise<void>} load
 * @param {() => void} clear
 * @returns {Promise<Outcome>}
 */
async function panel(section, load, clear) {
  const started = generation;
  panelState(section, 'Loading…');
  try {
    await load();
    return 'ok';
  } catch (err) {
    if (started === generation) {
      clear();
      panelState(section, failureText(err, USAGE_DOWN));
    }
    return outcomeOf(err);
  }
}

async function load() {
  clearTimeout(timer);
  const started = generation;
  const dates = chartDates();
  const outcomes = await Promise.all([
    panel(
      page.orgPanel,
      () => loadOrganisation(dates),
      () => clearChart(page.orgChart),
    ),
    panel(
      page.teamPanel,
      () => loadTeams(dates),
      () => clearChart(page.teamChart),
    ),
    panel(page.usersPanel, loadUsers, () => {
      page.usersToday.replaceChildren();
      page.usersMonth.replaceChildren();
    }),
    panel(page.keysPanel, loadKeys, () => page.keys.replaceChildren()),
    ...(shownUser ? [showSessions(shownUser)] : []),
  ]);
  if (started !== generation) return;
  const worst = ['refused', 'off', 'unreachable'].find((o) =>
    outcomes.includes(/** @type {Outcome} */ (o)),
  );
  settle(/** @type {Outcome} */ (worst ?? 'ok'));
  if (outcomes.every((o) => o === 'ok')) {
    page.updated.textContent = `Updated ${utcTime(new Date().toISOString())}.`;
  }
}

/**
 * What the page does after a call: signs out on a refused token, retries while the BFF does not
 * answer, and otherwise refreshes in a minute.
 * @param {Outcome} outcome
 * @returns {Outcome}
 */
function settle(outcome) {
  if (page.dashboard.hidden) return outcome;
  clearTimeout(timer);
  if (outcome === 'refused') {
    signOut(REFUSED);
  } else if (outcome === 'off') {
    notify(OFF, true);
    timer = setTimeout(() => void load(), REFRESH_MS);
  } else if (outcome === 'unreachable') {
    const wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)] ?? REFRESH_MS;
    retries += 1;
    notify(`The BFF did not answer; retrying in ${Math.round(wait / 1000)} s…`, true);
    timer = setTimeout(() => void load(), wait);
  } else {
    retries = 0;
    notify('');
    timer = setTimeout(() => void load(), REFRESH_MS);
  }
  return outcome;
}

/**
 * After an operator's own action (a session list, an end): only what concerns the whole page.
 * @param {Outcome} outcome
 */
function afterAction(outcome) {
  if (outcome === 'refused' || outcome === 'off' || outcome === 'unreachable') settle(outcome);
}

/** @param {string} text @param {boolean} [retry] */
function notify(text, retry = false) {
  page.noticeText.textContent = text;
  page.notice.hidden = text === '';
  page.retry.hidden = !retry;
}

function showDashboard() {
  generation += 1;
  page.signIn.hidden = true;
  page.dashboard.hidden = false;
  page.signOut.hidden = false;
  void load();
}

/**
 * Forgets the token and everything shown with it.
 * @param {string} [message]
 */
function signOut(message = '') {
  generation += 1;
  inFlight.abort();
  inFlight = new AbortController();
  clearTimeout(timer);
  retries = 0;
  sessionStorage.removeItem(TOKEN_KEY);
  for (const box of [...charts.keys()]) clearChart(box);
  for (const body of [page.usersToday, page.usersMonth, page.keys]) body.replaceChildren();
  clearSessions();
  shownUser = '';
  page.userId.value = '';
  page.updated.textContent = '';
  page.dashboard.hidden = true;
  page.signOut.hidden = true;
  page.signIn.hidden = false;
  notify(message);
  page.token.focus();
}

page.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const typed = page.token.value.trim();
  // The field is emptied at once: the token lives in this tab's storage, not in the page.
  page.token.value = '';
  if (typed === '') return;
  sessionStorage.setItem(TOKEN_KEY, typed);
  notify('');
  showDashboard();
});
page.signOut.addEventListener('click', () => signOut());
page.refresh.addEventListener('click', () => void load());
page.retry.addEventListener('click', () => void load());
page.userForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const userId = page.userId.value.trim();
  if (userId !== '') void showSessions(userId).then(afterAction);
});
page.endSessions.addEventListener('click', () => void endSessions());

page.starting.hidden = true;
if (token()) showDashboard();
else signOut();
