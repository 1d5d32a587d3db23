// The normnet dashboard: the job list (polled), one job followed live over Server-Sent Events with its loss and
// accuracy charts, several jobs' histories overlaid, and a form that submits a run config. Plain browser
// JavaScript with no build step; charts are Vega-Lite specs compiled and drawn by Vega (window.vega,
// window.vegaLite, served by normnet from node_modules). Data from the server is only ever set as text.

const LIST_MS = 1500;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d'];

const $ = (selector) => document.querySelector(selector);
const state = {
  token: sessionStorage.getItem('normnet-token'),
  jobs: [],
  selected: null,
  source: null,
  compare: new Set(),
  charts: {},
};

/** A refusal of the API: its status, message and the field it names. */
class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.field = body.field;
  }
}

/** fetch() with the token; a 401 asks for a token. */
async function api(path, { method = 'GET', json } = {}) {
  const headers = {};
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  if (res.ok) return res;
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) askToken(state.token ? 'That token was refused.' : '');
  throw new ApiError(res.status, body);
}

function askToken(message) {
  $('#token-form').hidden = false;
  $('#token-error').textContent = message;
}

$('#token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = new FormData(event.target).get('token');
  sessionStorage.setItem('normnet-token', state.token);
  $('#token-form').hidden = true;
  refreshList();
});

// ---- charts -------------------------------------------------------------------------------------------

/** A live line chart: a Vega view over a named data set that rows are added to. */
function lineChart(container, { title, x, y, yFormat, series, points = false }) {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title, width: 290, height: 200,
    // Re-laid out as data arrives: axis labels and the legend grow with it and must stay inside the view.
    autosize: { type: 'pad', resize: true },
    data: { name: 'rows' },
    mark: { type: 'line', clip: true, point: points ? { size: 30 } : false },
    encoding: {
      // Epoch-level charts (points) count epochs: whole-number ticks.
      x: { field: 'x', type: 'quantitative', title: x, scale: { zero: false, nice: false }, ...(points ? { axis: { format: 'd', tickMinStep: 1 } } : {}) },
      y: { field: 'y', type: 'quantitative', title: y, scale: { zero: false }, ...(yFormat ? { axis: { format: yFormat } } : {}) },
      color: {
        field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'horizontal' },
        ...(series ? { scale: { domain: series, range: PALETTE } } : {}),
      },
    },
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'svg', container, hover: false });
  const chart = { view, container, count: 0, pending: [], scheduled: false };
  view.runAsync();
  return chart;
}

/** Adds rows at the next frame (progress events come several a second; one redraw a frame is enough). */
function addRows(chart, rows) {
  chart.pending.push(...rows);
  if (chart.scheduled) return;
  chart.scheduled = true;
  requestAnimationFrame(() => {
    const rows = chart.pending.splice(0);
    chart.scheduled = false;
    chart.count += rows.length;
    chart.container.dataset.points = String(chart.count);
    chart.view.insert('rows', rows).runAsync();
  });
}

function resetChart(chart, rows = []) {
  chart.pending = [];
  chart.count = rows.length;
  chart.container.dataset.points = String(rows.length);
  chart.view.change('rows', vega.changeset().remove(() => true).insert(rows)).runAsync();
}

function setupCharts() {
  state.charts.loss = lineChart($('#loss-chart'), { title: 'Loss', x: 'epoch', y: 'loss', series: ['batch', 'train', 'test'] });
  state.charts.accuracy = lineChart($('#accuracy-chart'), { title: 'Accuracy', x: 'epoch', y: 'accuracy', yFormat: '.1%', series: ['train', 'test'], points: true });
  state.charts.compareAccuracy = lineChart($('#compare-accuracy'), { title: 'Test accuracy', x: 'epoch', y: 'accuracy', yFormat: '.1%', points: true });
  state.charts.compareLoss = lineChart($('#compare-loss'), { title: 'Train loss', x: 'epoch', y: 'loss', points: true });
}

// ---- the job list ---------------------------------------------------------------------------------------

const percent = (v) => (v === undefined || v === null ? '' : `${(100 * v).toFixed(2)}%`);

/** How far a job is, in [0, 1]. */
function done(job) {
  if (job.status === 'completed') return 1;
  const epochs = job.config.epochs || 1;
  const p = job.progress;
  return p ? (p.epoch - 1 + p.batch / p.batches) / epochs : (job.epochsDone ?? job.history?.length ?? 0) / epochs;
}

const label = (job) => job.name || job.id;

function cell(row, text, className) {
  const td = row.insertCell();
  if (className) td.className = className;
  if (text !== undefined) td.textContent = text;
  return td;
}

function statusBadge(status) {
  const span = document.createElement('span');
  span.className = `status ${status}`;
  span.textContent = status;
  return span;
}

function renderList() {
  const body = $('#jobs tbody');
  body.replaceChildren();
  $('#jobs-empty').hidden = state.jobs.length > 0;
  for (const job of [...state.jobs].reverse()) {
    const row = body.insertRow();
    row.dataset.id = job.id;
    if (job.id === state.selected) row.className = 'selected';
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.title = 'compare';
    box.checked = state.compare.has(job.id);
    box.addEventListener('click', (event) => event.stopPropagation());
    box.addEventListener('change', () => {
      if (box.checked) state.compare.add(job.id);
      else state.compare.delete(job.id);
      refreshCompare();
    });
    cell(row).append(box);
    const name = cell(row, undefined, 'job');
    name.textContent = label(job);
    const detail = document.createElement('small');
    detail.textContent = `${job.config.model} · ${job.config.data ? 'own data' : job.config.dataset} · ${job.config.optimizer}`;
    name.append(detail);
    cell(row).append(statusBadge(job.status));
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('div');
    fill.style.width = `${Math.round(100 * done(job))}%`;
    bar.append(fill);
    cell(row).append(bar);
    cell(row, percent(job.last?.testAccuracy ?? job.last?.trainAccuracy));
    row.addEventListener('click', () => select(job.id));
  }
}

async function refreshList() {
  // While the page waits for a token, asking again would only be refused again.
  if (!$('#token-form').hidden) return;
  try {
    state.jobs = await (await api('api/jobs')).json();
    $('#status-line').textContent = `${state.jobs.filter((j) => j.status === 'running').length} running, ${state.jobs.filter((j) => j.status === 'queued').length} queued`;
    renderList();
  } catch (error) {
    $('#status-line').textContent = error.status === 401 ? 'token needed' : `no answer from the server (${error.message})`;
  }
}

// ---- one job, followed live ------------------------------------------------------------------------------

/** The job followed: its header, bar and buttons, from the latest view of it. */
function showJob(job) {
  $('#job-title').textContent = label(job);
  const c = job.config;
  const what = `${c.model}${c.model === 'mlp' ? ` ${c.hidden.join('-')}` : ''} on ${c.data ? 'own data' : c.dataset}, ${c.optimizer}, batch ${c.batchSize}`;
  $('#job-meta').textContent = `${job.id} · ${job.status}${job.error ? ` (${job.error})` : ''} · ${what}`;
  $('#job-bar').style.width = `${Math.round(100 * done(job))}%`;
  $('#cancel-job').disabled = TERMINAL.has(job.status);
  $('#download-model').disabled = job.status === 'queued';
  $('#open-report').disabled = job.status !== 'completed';
}

async function select(id) {
  state.selected = id;
  state.source?.close();
  $('#job-panel').hidden = false;
  $('#pick-hint').hidden = true;
  resetChart(state.charts.loss);
  resetChart(state.charts.accuracy);
  renderList();
  let job;
  try {
    job = await (await api(`api/jobs/${id}`)).json();
  } catch (error) {
    $('#job-meta').textContent = error.message;
    return;
  }
  // Another job was picked while this one loaded.
  if (state.selected !== id) return;
  job.history = [];
  showJob(job);
  // The stream begins with every epoch so far, so the charts fill from it alone.
  const query = state.token ? `?access_token=${encodeURIComponent(state.token)}` : '';
  const source = new EventSource(`api/jobs/${id}/events${query}`);
  state.source = source;
  source.addEventListener('epoch', (event) => {
    const r = JSON.parse(event.data);
    job.history.push(r);
    addRows(state.charts.loss, [{ x: r.epoch, y: r.trainLoss, series: 'train' }, ...(r.testLoss === undefined ? [] : [{ x: r.epoch, y: r.testLoss, series: 'test' }])]);
    addRows(state.charts.accuracy, [{ x: r.epoch, y: r.trainAccuracy, series: 'train' }, ...(r.testAccuracy === undefined ? [] : [{ x: r.epoch, y: r.testAccuracy, series: 'test' }])]);
    if (state.compare.has(id)) refreshCompare();
  });
  source.addEventListener('progress', (event) => {
    const p = JSON.parse(event.data);
    job.progress = p;
    addRows(state.charts.loss, [{ x: p.epoch - 1 + p.batch / p.batches, y: p.loss, series: 'batch' }]);
    showJob(job);
  });
  source.addEventListener('status', (event) => {
    const s = JSON.parse(event.data);
    Object.assign(job, s);
    if (s.status !== 'running') job.progress = undefined;
    showJob(job);
    // The server ends the stream after the last status; EventSource would reconnect, so close it first.
    if (TERMINAL.has(s.status)) source.close();
    refreshList();
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself, but gives up on an answer that is not a stream (a server restarting
    // says 503): follow the job again a little later.
    if (source.readyState === EventSource.CLOSED && !TERMINAL.has(job.status)) {
      setTimeout(() => state.source === source && select(id), 3000);
    }
  });
}

/** Fetches a file with the token (a link cannot send one) and hands it to the browser. */
async function fetchFile(path) {
  return URL.createObjectURL(await (await api(path)).blob());
}

$('#cancel-job').addEventListener('click', async () => {
  try {
    await api(`api/jobs/${state.selected}`, { method: 'DELETE' });
  } catch (error) {
    $('#job-meta').textContent = error.message;
  }
  refreshList();
});

$('#download-model').addEventListener('click', async () => {
  try {
    const a = document.createElement('a');
    a.href = await fetchFile(`api/jobs/${state.selected}/model`);
    a.download = `${state.selected}.safetensors`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  } catch (error) {
    $('#job-meta').textContent = error.message;
  }
});

$('#open-report').addEventListener('click', async () => {
  try {
    window.open(await fetchFile(`api/jobs/${state.selected}/report`), '_blank', 'noopener');
  } catch (error) {
    $('#job-meta').textContent = error.message;
  }
});

// ---- several jobs overlaid ---------------------------------------------------------------------------------

async function refreshCompare() {
  $('#compare-panel').hidden = state.compare.size === 0;
  const jobs = await Promise.all([...state.compare].map((id) => api(`api/jobs/${id}`).then((r) => r.json()).catch(() => undefined)));
  const accuracy = [];
  const loss = [];
  for (const job of jobs.filter(Boolean)) {
    for (const r of job.history) {
      if (r.testAccuracy !== undefined) accuracy.push({ x: r.epoch, y: r.testAccuracy, series: label(job) });
      loss.push({ x: r.epoch, y: r.trainLoss, series: label(job) });
    }
  }
  resetChart(state.charts.compareAccuracy, accuracy);
  resetChart(state.charts.compareLoss, loss);
}

// ---- the form ----------------------------------------------------------------------------------------------

const NUMBERS = ['epochs', 'batchSize', 'lr', 'trainLimit', 'priority'];

/** The form as a request body: numbers as numbers, the hidden sizes as a list; what does not parse is sent as typed, for the server to name. */
function formBody(form) {
  const data = new FormData(form);
  const body = {};
  for (const [key, raw] of data.entries()) {
    const value = String(raw).trim();
    if (value === '' || key === 'batchnorm') continue;
    if (NUMBERS.includes(key)) body[key] = Number.isFinite(Number(value)) ? Number(value) : value;
    else if (key === 'hidden') {
      const sizes = value.split(',').map((s) => Number(s.trim()));
      body.hidden = sizes.every(Number.isInteger) ? sizes : value;
    } else body[key] = value;
  }
  body.batchnorm = form.elements.batchnorm.checked;
  if (body.model === 'cnn') delete body.hidden;
  return body;
}

function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
  $('#form-error').textContent = '';
}

/** The API's message beside the input it names, or under the form. */
function showError(form, error) {
  const input = error.field && form.elements[error.field];
  if (!input) {
    $('#form-error').textContent = error.message;
    return;
  }
  input.classList.add('invalid');
  const note = document.createElement('span');
  note.className = 'field-error';
  note.dataset.for = error.field;
  note.textContent = error.message;
  input.closest('label').append(note);
}

$('#submit-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  clearErrors(form);
  try {
    const { id } = await (await api('api/jobs', { method: 'POST', json: formBody(form) })).json();
    await refreshList();
    select(id);
  } catch (error) {
    showError(form, error);
  }
});

$('#submit-form').elements.model.addEventListener('change', (event) => {
  event.target.form.elements.hidden.disabled = event.target.value === 'cnn';
});

setupCharts();
refreshList();
setInterval(refreshList, LIST_MS);
