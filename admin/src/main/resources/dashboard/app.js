// The Sluice dashboard: reads the admin API every 2 s; no framework, no CDN.
'use strict';

const REFRESH_MS = 2000;
/** Queues shown at first, and added by "show more": with thousands of queues, the page stays light. */
const PAGE = 100;
let shown = PAGE;
let selected = new URLSearchParams(location.hash.slice(1)).get('queue');

async function api(method, path, body, retried) {
  return (await exchange(method, path, body, retried)).json;
}

/** The answer's JSON and its headers (a listing's X-Total-Count). */
async function exchange(method, path, body, retried) {
  const headers = { 'Accept': 'application/json' };
  const token = sessionStorage.getItem('sluice-token');
  if (token) headers['Authorization'] = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && !retried) {
    const given = prompt('This admin service needs its token (SLUICE_ADMIN_TOKEN):');
    if (given) {
      sessionStorage.setItem('sluice-token', given);
      return exchange(method, path, body, true);
    }
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(json && json.detail ? json.detail : response.status + ' ' + response.statusText);
  return { json, headers: response.headers };
}

/** The listing the filter form asks for, the first `shown` queues of it. */
function queuesPath() {
  const form = new FormData(document.getElementById('filter'));
  const query = new URLSearchParams({ sort: form.get('sort'), limit: String(Math.min(shown, 1000)) });
  if (form.get('prefix')) query.set('prefix', form.get('prefix'));
  if (form.get('backlog')) query.set('backlog', 'true');
  return '/queues?' + query;
}

function say(text, isError) {
  const message = document.getElementById('message');
  message.textContent = text;
  message.className = isError ? 'error' : '';
}

function span(seconds) {
  if (seconds < 0.05) return 'now';
  if (seconds < 10) return 'in ' + seconds.toFixed(1) + 's';
  if (seconds < 60) return 'in ' + Math.round(seconds) + 's';
  if (seconds < 3600) return 'in ' + Math.floor(seconds / 60) + 'm ' + String(Math.round(seconds % 60)).padStart(2, '0') + 's';
  if (seconds < 86400) return 'in ' + Math.floor(seconds / 3600) + 'h ' + String(Math.floor(seconds % 3600 / 60)).padStart(2, '0') + 'm';
  return 'in ' + Math.floor(seconds / 86400) + 'd ' + Math.floor(seconds % 86400 / 3600) + 'h';
}

function nextToken(q) {
  if (q.rateLimitStatus.tokens > 0) return 'now';
  return span((Date.parse(q.rateLimitStatus.nextTokenAt) - Date.now()) / 1000);
}

function drained(q) {
  if (q.stats.waiting === null || q.stats.waiting === undefined) return '–';
  if (q.stats.waiting === 0) return 'empty';
  if (q.drainSeconds === null || q.drainSeconds === undefined) return 'paused';
  return span(q.drainSeconds);
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function button(parent, label, action, className) {
  const b = document.createElement('button');
  b.textContent = label;
  b.dataset.action = label;
  if (className) b.className = className;
  b.addEventListener('click', async () => {
    try { await action(); await refresh(); } catch (e) { say(e.message, true); }
  });
  parent.appendChild(b);
}

function renderOverview(o) {
  const el = document.getElementById('overview');
  const t = o.totals || {};
  el.innerHTML = '';
  const parts = [
    ['queues', o.queues + ' (' + o.activeQueues + ' active)'],
    ['redis', o.redis], ['kafka', o.kafka],
    ['released', t.released || 0], ['completed', t.completed || 0], ['failed', t.failed || 0], ['dead', t.dead || 0],
  ];
  for (const [name, value] of parts) {
    const s = document.createElement('span');
    s.dataset.field = name;
    s.textContent = name + ' ' + value + '   ';
    if (name === 'redis' || name === 'kafka') s.className = value === 'up' ? 'up' : 'down';
    el.appendChild(s);
  }
}

/**
 * The queue table, updated in place: a row and its buttons stay the same elements from one refresh to
 * the next (rebuilt every 2 s, a button pressed at the moment of a refresh lost its click).
 */
function renderQueues(queues) {
  const body = document.querySelector('#queues tbody');
  const names = new Set(queues.map(q => q.name));
  for (const row of [...body.rows]) {
    if (!row.dataset.queue || !names.has(row.dataset.queue)) row.remove();
  }
  if (queues.length === 0) {
    const row = body.insertRow();
    const form = new FormData(document.getElementById('filter'));
    const td = cell(row, form.get('prefix') || form.get('backlog') ? 'No queue matches the filter'
      : 'No queues yet: create one above, or ./sluice queues create "5/60s"');
    td.colSpan = 12;
    return;
  }
  const rows = new Map([...body.rows].map(row => [row.dataset.queue, row]));
  queues.forEach((q, i) => {
    let row = rows.get(q.name);
    if (!row) row = newQueueRow(q);
    fillQueueRow(row, q);
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null);
  });
}

const FIGURES = ['waiting', 'processing', 'completed', 'failed', 'dead'];

function newQueueRow(q) {
  const row = document.createElement('tr');
  row.dataset.queue = q.name;
  cell(row, q.name, 'name');
  cell(row, '', 'state-' + q.state);
  cell(row, '');
  for (const f of FIGURES) cell(row, '', 'n').dataset.field = f;
  cell(row, '', 'n');
  cell(row, '');
  cell(row, '');
  cell(row, '', 'actions');
  return row;
}

function fillQueueRow(row, q) {
  const c = row.cells;
  if (q.name === selected) row.className = 'selected'; else row.removeAttribute('class');
  c[1].textContent = q.state;
  c[1].className = 'state-' + q.state;
  c[2].textContent = q.rateLimit + (q.burst > 1 ? ' burst ' + q.burst : '');
  FIGURES.forEach((f, i) => { c[3 + i].textContent = q.stats[f] === null ? '–' : String(q.stats[f]); });
  c[8].textContent = q.rateLimitStatus.tokens + '/' + q.rateLimitStatus.capacity;
  c[9].textContent = nextToken(q);
  c[10].textContent = drained(q);
  const key = q.state + ' ' + q.rateLimit;
  if (row.dataset.actions !== key) { // the buttons change only with the state and the limit they show
    row.dataset.actions = key;
    const actions = c[11];
    actions.innerHTML = '';
    button(actions, 'chart', async () => { selected = q.name; location.hash = 'queue=' + q.name; });
    if (q.state === 'active') {
      button(actions, 'pause', () => api('POST', '/queues/' + q.name + '/deactivate', {}));
    } else {
      button(actions, 'resume', () => api('POST', '/queues/' + q.name + '/activate', {}));
    }
    button(actions, 'limit…', async () => {
      const limit = prompt('New limit for ' + q.name + ' (e.g. 20/60s):', q.rateLimit);
      if (limit) await api('PATCH', '/queues/' + q.name, { rateLimit: limit });
    });
    button(actions, 'test 10', () => api('POST', '/queues/' + q.name + '/tasks', { count: 10 }));
    button(actions, 'remove', async () => {
      if (confirm('Remove ' + q.name + '? Its topic and any waiting tasks are deleted.')) {
        await api('DELETE', '/queues/' + q.name);
        if (selected === q.name) selected = null;
      }
    }, 'danger');
  }
}

/** Seconds of releases the chart asks for: 60 shown, and a period more (at most the 300 kept). */
function chartSeconds(queues, name) {
  const q = queues.find(x => x.name === name);
  const m = q && /^\d+\/(\d+)s$/.exec(q.rateLimit); // the API writes limits as N/Ps or N/Pms
  return Math.min(300, 60 + (m ? Number(m[1]) - 1 : 0));
}

/**
 * The last 60 s of a queue's releases against its limit. A limit of N per P seconds promises at most
 * N + B - 1 releases in any window of P (B the burst), not N/P in each second: for a period of whole
 * seconds each bar is the count in the window of P seconds that ends at that second, and the line is
 * N + B - 1. (Per-second bars drew 1 above a line of 0.5/s for 5/10s, though the limit held.) A period
 * that is not whole seconds is drawn per second against N/P.
 */
function drawChart(r) {
  const shownSeconds = 60;
  const windowSeconds = r.periodMillis >= 1000 && r.periodMillis % 1000 === 0 ? r.periodMillis / 1000 : 1;
  const perWindow = r.periodMillis >= 1000 && r.periodMillis % 1000 === 0;
  const all = r.counts;
  const counts = [];
  for (let i = Math.max(0, all.length - shownSeconds); i < all.length; i++) {
    let sum = 0;
    for (let j = Math.max(0, i - windowSeconds + 1); j <= i; j++) sum += all[j];
    counts.push(sum);
  }
  const limit = perWindow ? r.permits + r.burst - 1 : r.limitPerSecond;
  const unit = perWindow && windowSeconds > 1 ? ' in ' + windowSeconds + ' s' : '/s';
  const canvas = document.getElementById('chart');
  const g = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height, pad = 30;
  const max = Math.max(1, limit * 1.25, ...counts);
  g.clearRect(0, 0, w, h);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#687385';
  g.fillText(max.toFixed(max < 10 ? 1 : 0) + unit, 2, 12);
  g.fillText('-' + counts.length + ' s', pad, h - 4);
  g.fillText('now', w - 24, h - 4);
  const bar = (w - pad) / counts.length;
  g.fillStyle = '#1f6feb';
  counts.forEach((count, i) => {
    const bh = (h - 2 * pad) * count / max;
    g.fillRect(pad + i * bar + 1, h - pad - bh, Math.max(1, bar - 2), bh);
  });
  const y = h - pad - (h - 2 * pad) * limit / max;
  g.strokeStyle = '#c62828';
  g.setLineDash([6, 4]);
  g.beginPath(); g.moveTo(pad, y); g.lineTo(w, y); g.stroke();
  g.setLineDash([]);
  g.fillStyle = '#c62828';
  g.fillText(perWindow
    ? 'limit ' + r.rateLimit + ': at most ' + limit + ' in any ' + windowSeconds + ' s'
    : 'limit ' + r.rateLimit + ' = ' + r.limitPerSecond.toPrecision(3) + '/s', pad + 4, Math.max(12, y - 4));
  const total = all.slice(Math.max(0, all.length - shownSeconds)).reduce((a, b) => a + b, 0);
  const peak = Math.max(...counts);
  canvas.dataset.total = total;
  canvas.dataset.peak = peak;
  canvas.dataset.window = windowSeconds;
  document.getElementById('chart-queue').textContent = r.queue;
  document.getElementById('chart-summary').textContent = 'Last ' + counts.length + ' s: ' + total
    + ' released, at most ' + peak + (windowSeconds > 1 ? ' in any ' + windowSeconds + ' s' : ' in one second')
    + '; limit ' + r.rateLimit + (perWindow ? ' (at most ' + limit + ' in any ' + windowSeconds + ' s).'
      : ' (' + r.limitPerSecond.toPrecision(3) + '/s).');
}

/** The selected queue's batch: done or not, its tasks, and the busiest window against the limit. */
function renderSummary(m) {
  const el = document.getElementById('batch-summary');
  el.dataset.done = m.done;
  el.dataset.deadNow = m.deadNow;
  let text = m.tasks + ' tasks: ' + m.completed + ' completed, ' + m.deadNow + ' dead; '
    + (m.done ? 'done' : 'not done (' + (m.waiting === null ? '?' : m.waiting) + ' waiting, ' + m.processing + ' running)');
  if (m.firstReleaseAt) text += '; released from ' + m.firstReleaseAt + ' to ' + m.lastReleaseAt;
  if (m.window) text += '; busiest ' + m.window.most + ' in ' + m.window.seconds + ' s (limit allows ' + m.window.allowed + ')';
  el.textContent = text;
}

/** The selected queue's dead letters, newest first, each with a replay button. */
function renderDead(name, page) {
  const section = document.getElementById('dead-section');
  section.hidden = false;
  section.dataset.queue = name;
  document.getElementById('dead-queue').textContent = name;
  document.getElementById('dead-total').textContent = '(' + page.total + ')';
  // in place, as the queue table: a replay button stays the same element from one refresh to the next
  const body = document.querySelector('#dead tbody');
  const letters = page.deadLetters || [];
  const offsets = new Set(letters.map(d => String(d.offset)));
  for (const row of [...body.rows]) {
    if (!row.dataset.offset || !offsets.has(row.dataset.offset) || row.dataset.queue !== name) row.remove();
  }
  if (letters.length === 0) {
    cell(body.insertRow(), 'None: every task of this queue completed, or is still on its way.').colSpan = 7;
    return;
  }
  const rows = new Map([...body.rows].map(row => [row.dataset.offset, row]));
  letters.forEach((d, i) => {
    let row = rows.get(String(d.offset));
    if (!row) {
      row = document.createElement('tr');
      row.dataset.offset = d.offset;
      row.dataset.queue = name;
      cell(row, String(d.offset), 'n');
      cell(row, d.id || '–', 'name');
      cell(row, String(d.attempts), 'n');
      cell(row, d.deadAt);
      cell(row, d.error || '', 'text');
      cell(row, d.payloadPreview || '', 'text');
      button(cell(row, '', 'actions'), 'replay', () => api('POST', '/queues/' + name + '/dead/replay', { offsets: [d.offset] }));
    }
    if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null);
  });
}

async function refresh() {
  try {
    const [overview, listing] = await Promise.all([api('GET', '/overview'), exchange('GET', queuesPath())]);
    const queues = listing.json;
    const total = Number(listing.headers.get('X-Total-Count') || queues.length);
    document.getElementById('shown').textContent = total > queues.length
      ? queues.length + ' of ' + total + ' queues' : total + (total === 1 ? ' queue' : ' queues');
    document.getElementById('more').hidden = !(total > queues.length && shown < 1000);
    renderOverview(overview);
    if (!selected && queues.length > 0) selected = queues[0].name;
    renderQueues(queues);
    if (selected && queues.some(q => q.name === selected)) {
      // 60 s shown, and before them up to a period more, so that each bar's window is whole
      const [releases, summary, dead] = await Promise.all([
        api('GET', '/queues/' + selected + '/releases?seconds=' + chartSeconds(queues, selected)),
        api('GET', '/queues/' + selected + '/summary'),
        api('GET', '/queues/' + selected + '/dead?limit=20')]);
      drawChart(releases);
      renderSummary(summary);
      renderDead(selected, dead);
    } else {
      document.getElementById('dead-section').hidden = true;
    }
    document.body.dataset.refreshed = new Date().toISOString();
  } catch (e) {
    say('The admin service does not answer: ' + e.message, true);
  }
}

document.getElementById('create').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { rateLimit: form.get('rateLimit') };
  if (form.get('burst')) body.burst = Number(form.get('burst'));
  if (form.get('name')) body.name = form.get('name');
  if (form.get('ttlSeconds')) body.ttlSeconds = Number(form.get('ttlSeconds'));
  try {
    const q = await api('POST', '/queues', body);
    selected = q.name;
    say('Created ' + q.name);
    event.target.reset();
    await refresh();
  } catch (e) {
    say(e.message, true);
  }
});

for (const [id, action] of [['replay-all', 'replay'], ['purge-all', 'purge']]) {
  document.getElementById(id).addEventListener('click', async () => {
    const name = document.getElementById('dead-section').dataset.queue;
    if (!name || (action === 'purge' && !confirm('Purge every dead letter of ' + name + '? They cannot be replayed after.'))) return;
    try {
      const taken = await api('POST', '/queues/' + name + '/dead/' + action, { all: true });
      say((action === 'replay' ? 'Replayed ' : 'Purged ') + taken.count + ' dead letters of ' + name);
      await refresh();
    } catch (e) {
      say(e.message, true);
    }
  });
}

document.getElementById('filter').addEventListener('input', () => { shown = PAGE; refresh(); });
document.getElementById('filter').addEventListener('submit', (event) => event.preventDefault());
document.getElementById('more').addEventListener('click', () => { shown += PAGE; refresh(); });

window.addEventListener('hashchange', () => {
  selected = new URLSearchParams(location.hash.slice(1)).get('queue') || selected;
  refresh();
});
refresh();
setInterval(refresh, REFRESH_MS);
