// The demo page: everything goes through the BFF with the session cookie and `X-CSRF: 1`;
// errors arrive in Gather's envelope and are shown as code, message and request id.

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json', 'X-CSRF': '1' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'The BFF could not be reached', '-');
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the status alone.
  }
  if (!res.ok) {
    const error = data && data.error ? data.error : {};
    const requestId = (data && data.meta && data.meta.requestId) || res.headers.get('X-Request-Id');
    throw new ApiError(
      res.status,
      error.code || `HTTP_${res.status}`,
      error.message || res.statusText,
      requestId || '-',
    );
  }
  return { data, requestId: res.headers.get('X-Request-Id') };
}

function showError(err) {
  if (!(err instanceof ApiError)) {
    err = new ApiError(0, 'PAGE_ERROR', String(err && err.message ? err.message : err), '-');
  }
  $('error-code').textContent = err.code;
  $('error-message').textContent = err.message;
  $('error-request-id').textContent = err.requestId;
  $('error').hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

function showSignIn() {
  $('session').hidden = true;
  $('signin').hidden = false;
  $('questions').replaceChildren();
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
  const parts = [q.category, q.responseType];
  if (q.maxDurationSeconds) parts.push(`up to ${q.maxDurationSeconds} s`);
  if (Array.isArray(q.options)) parts.push(`options: ${q.options.join(' / ')}`);
  meta.textContent = parts.filter(Boolean).join(' · ');
  li.append(text, meta);
  return li;
}

async function loadQuestions() {
  clearError();
  try {
    const { data, requestId } = await api('GET', '/api/gather/questions');
    const list = Array.isArray(data) ? data : [];
    $('questions').replaceChildren(...list.map(renderQuestion));
    $('gather-request-id').textContent = requestId || '-';
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showSignIn();
    showError(err);
  }
}

async function signIn(event) {
  event.preventDefault();
  clearError();
  const form = new FormData(event.target);
  try {
    const { data } = await api('POST', '/auth/login', {
      username: form.get('username'),
      password: form.get('password'),
    });
    event.target.reset();
    showSession(data.user);
    await loadQuestions();
  } catch (err) {
    showError(err);
  }
}

async function signOut() {
  clearError();
  try {
    const { data } = await api('POST', '/auth/logout');
    if (data && data.logoutUrl) {
      window.location.assign(data.logoutUrl);
      return;
    }
    showSignIn();
  } catch (err) {
    showError(err);
  }
}

async function start() {
  $('signin-form').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  $('reload').addEventListener('click', loadQuestions);
  try {
    const { data } = await api('GET', '/auth/me');
    showSession(data.user);
    await loadQuestions();
  } catch (err) {
    showSignIn();
    if (!(err instanceof ApiError && err.status === 401)) showError(err);
  }
}

start();
