// The demo page, built on the typed client (packages/client): every call carries the session
// cookie and `X-CSRF`, every error arrives as one GatherError, and every answer lands in the
// call log with its status, request id and latency.
import { createGatherClient, GatherError } from '/client/index.js';

const $ = (id) => document.getElementById(id);

/** More reads than the demo's limit on single questions allows in one window. */
const BURST_SIZE = 8;
const LOG_ROWS = 40;

const bff = createGatherClient({
  onUnauthorized: () => showSignIn(),
  onResponse: logCall,
});

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function logCall({ method, url, status, requestId, durationMs, error }) {
  const row = document.createElement('tr');
  row.className = status < 400 ? 'ok' : 'failed';
  const requestIdCell = cell('');
  const code = document.createElement('code');
  code.textContent = requestId || '-';
  requestIdCell.append(code);
  row.append(
    cell(new Date().toLocaleTimeString()),
    cell(`${method} ${url}`),
    cell(String(status)),
    cell(error ? error.code : ''),
    requestIdCell,
    cell(`${Math.round(durationMs)} ms`, 'num'),
  );
  const calls = $('calls');
  calls.prepend(row);
  while (calls.rows.length > LOG_ROWS) calls.deleteRow(-1);
}

function asGatherError(err) {
  if (err instanceof GatherError) return err;
  const message = String(err && err.message ? err.message : err);
  return new GatherError({ status: 0, code: 'PAGE_ERROR', message, requestId: null });
}

function showError(err) {
  const error = asGatherError(err);
  $('error-code').textContent = error.code;
  $('error-message').textContent = error.message;
  $('error-request-id').textContent = error.requestId || '-';
  $('error').hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

/** The envelope as the browser received it: Gather's and the BFF's have the same shape. */
function envelopeOf(error) {
  const body = { code: error.code, message: error.message };
  if (error.details) body.details = error.details;
  return { error: body, meta: { requestId: error.requestId, timestamp: error.timestamp } };
}

let countdown;

function stopCountdown() {
  clearInterval(countdown);
  $('countdown').hidden = true;
}

/** Codes whose Retry-After the page counts down, and what it says meanwhile. */
const WAITS = {
  RATE_LIMITED: 'Rate limited',
  UPSTREAM_THROTTLED: 'Gather asked to wait',
  RATE_LIMIT_EXCEEDED: 'Gather asked to wait',
};

/** Counts Retry-After down to the moment the next call goes through. */
function startCountdown(seconds, label) {
  stopCountdown();
  const until = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      $('countdown').textContent = `${label}: try again in ${left} s (Retry-After: ${seconds})`;
      return;
    }
    $('countdown').textContent = 'The window is over: the next call goes through.';
    clearInterval(countdown);
  };
  tick();
  $('countdown').hidden = false;
  countdown = setInterval(tick, 250);
}

function showOutcome(summary, note, error) {
  $('outcome-summary').textContent = summary;
  $('outcome-note').textContent = note;
  $('envelope').hidden = !error;
  $('envelope').textContent = error ? JSON.stringify(envelopeOf(error), null, 2) : '';
  if (error && WAITS[error.code] && error.retryAfterSeconds !== null) {
    startCountdown(error.retryAfterSeconds, WAITS[error.code]);
  } else {
    stopCountdown();
  }
  $('outcome').hidden = false;
}

function describe(error) {
  return `${error.status} ${error.code}: ${error.message}`;
}

/** What each failure teaches, by code; the envelope itself is shown below it. */
const NOTES = {
  NOT_FOUND:
    "Gather's own envelope: the BFF passed its status, body and request id through unchanged.",
  UPSTREAM_UNAUTHORIZED:
    "Gather answered 401: it refused the server's key. The BFF answers 502 instead, with Gather's " +
    'request id and code in details, so the page never takes it for its own session ending.',
  RATE_LIMITED:
    'The BFF refused the call before it reached Gather; Retry-After says when the window frees up.',
  UNAUTHORIZED: 'The session has ended: sign in again.',
  RATE_LIMIT_EXCEEDED:
    "Gather's own 429, passed through unchanged. Its Retry-After paused the key: until it is " +
    'over, every call with that key is refused by the BFF without reaching Gather.',
  UPSTREAM_THROTTLED:
    'The key is paused because Gather asked to wait: the BFF answered without calling Gather, ' +
    'with the seconds left in Retry-After.',
};

async function attempt(call) {
  clearError();
  try {
    const res = await call();
    showOutcome(`${res.status} OK`, `request id ${res.requestId || '-'}`);
    return res;
  } catch (err) {
    const error = asGatherError(err);
    showOutcome(describe(error), NOTES[error.code] || '', error);
    return undefined;
  }
}

function showSignIn() {
  $('session').hidden = true;
  $('signin').hidden = false;
  $('questions').replaceChildren();
  stopCountdown();
}

function showSession(user) {
  $('user-name').textContent = user.name || user.id;
  $('user-email').textContent = user.email ? `(${user.email})` : '';
  $('signin').hidden = true;
  $('session').hidden = false;
}

function renderQuestion(q) {
  const li = document.createElement('li');
  const text = document.createElement('div');
  text.textContent = q.text;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const parts = [q.id, q.category, q.responseType];
  if (q.maxDurationSeconds) parts.push(`up to ${q.maxDurationSeconds} s`);
  if (Array.isArray(q.options)) parts.push(`options: ${q.options.join(' / ')}`);
  meta.textContent = parts.filter(Boolean).join(' · ');
  li.append(text, meta);
  return li;
}

async function loadQuestions() {
  const res = await attempt(() => bff.gather('/questions'));
  if (!res) return;
  const list = Array.isArray(res.data) ? res.data : [];
  $('questions').replaceChildren(...list.map(renderQuestion));
  $('gather-request-id').textContent = res.requestId || '-';
}

async function burst() {
  clearError();
  const calls = Array.from({ length: BURST_SIZE }, () => bff.gather('/questions/q_01'));
  const results = await Promise.allSettled(calls);
  const counts = new Map();
  let limited;
  for (const r of results) {
    const label = r.status === 'fulfilled' ? '200' : `${asGatherError(r.reason).status}`;
    counts.set(label, (counts.get(label) || 0) + 1);
    if (r.status === 'rejected' && asGatherError(r.reason).code === 'RATE_LIMITED') {
      limited = limited || r.reason;
    }
  }
  const tally = [...counts].map(([status, n]) => `${n} × ${status}`).join(', ');
  const summary = `${BURST_SIZE} calls at once: ${tally}`;
  const failure = limited || results.find((r) => r.status === 'rejected')?.reason;
  if (failure) {
    const error = asGatherError(failure);
    showOutcome(`${summary}. ${describe(error)}`, NOTES[error.code] || '', error);
  } else {
    showOutcome(summary, 'All within the limit: press again within the window.');
  }
}

async function signIn(event) {
  event.preventDefault();
  clearError();
  const form = new FormData(event.target);
  try {
    const { user } = await bff.login(form.get('username'), form.get('password'));
    event.target.reset();
    showSession(user);
    await loadQuestions();
  } catch (err) {
    showError(err);
  }
}

async function signOut() {
  clearError();
  try {
    const { logoutUrl } = await bff.logout();
    if (logoutUrl) {
      window.location.assign(logoutUrl);
      return;
    }
    $('outcome').hidden = true;
    showSignIn();
  } catch (err) {
    showError(err);
  }
}

async function start() {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  $('reload').addEventListener('click', loadQuestions);
  $('missing').addEventListener('click', () => attempt(() => bff.gather('/questions/q_99')));
  $('revoked').addEventListener('click', () => attempt(() => bff.gather('/simulate/revoked-key')));
  $('throttle').addEventListener('click', () => attempt(() => bff.gather('/simulate/throttle')));
  $('burst').addEventListener('click', burst);
  try {
    const { user } = await bff.me();
    showSession(user);
    await loadQuestions();
  } catch (err) {
    // A 401 has already shown the sign-in form (onUnauthorized); anything else is worth saying.
    if (!(err instanceof GatherError && err.code === 'UNAUTHORIZED')) {
      showSignIn();
      showError(err);
    }
  }
}

start();
