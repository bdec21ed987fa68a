// The jobs page: search the records (phone, plate, card, job or work-order number, days,
// state), list the jobs found, and show one job's history: who did what, when.
'use strict';
(function () {
  const cfg = window.pageConfig;
  const recordLabels = cfg.record_labels || {};
  const timeFormat = new Intl.DateTimeFormat(window.pageLanguage === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  });
  const KEYS = ['phone', 'plate', 'card', 'job_id', 'day_from', 'day_to', 'state'];
  const form = document.getElementById('job-search');
  const searchError = document.getElementById('search-error');
  const status = document.getElementById('search-status');
  const table = document.getElementById('jobs-table');
  const body = document.getElementById('jobs-body');
  const historyCard = document.getElementById('job-history');
  const historyBody = document.getElementById('history-body');
  const historyTitle = document.getElementById('history-title');
  const historyError = document.getElementById('history-error');

  function when(seconds) {
    return seconds === null || seconds === undefined ? '' : timeFormat.format(new Date(seconds * 1000));
  }
  function recordLabel(group, code) {
    return (recordLabels[group] || {})[code] || window.label(group, code);
  }
  function cell(row, content) {
    const td = document.createElement('td');
    if (content instanceof Node) td.appendChild(content); else td.textContent = content === null || content === undefined ? '' : String(content);
    row.appendChild(td);
    return td;
  }
  function errorText(error) {
    return error.field ? error.field + ': ' + error.message : error.message;
  }

  // ------------------------------------------------------------------ the history's words
  function describe(entry) {
    const s = entry.summary || {};
    switch (entry.kind) {
      case 'intake':
        return t('Call taken: {fault}', { fault: window.label('fault', s.fault_category) });
      case 'dispatch':
        return t('Dispatched to truck {truck}', { truck: s.truck_id });
      case 'reassign':
        return t('Moved to truck {truck}', { truck: s.truck_id });
      case 'advance':
        return t('State changed to {state}', { state: window.label('job_state', s.state) });
      case 'cancel': {
        const text = t('Cancelled: {reason}', { reason: window.label('cancel_reason', s.reason) });
        return s.note ? t('{what}: {text}', { what: text, text: s.note }) : text;
      }
      case 'convert_to_tow':
        return s.destination_name ? t('Converted to a tow to {destination}', { destination: s.destination_name }) : t('Converted to a tow');
      case 'replan':
        return t('Re-planned onto truck {truck}', { truck: s.truck_id });
      case 'replan_undo':
        return s.truck_id ? t('Back on truck {truck}: a re-plan undone', { truck: s.truck_id }) : t('Taken off its truck: a re-plan undone');
      case 'work_order.payment':
        return t('Payment recorded: {method}, {yuan} yuan', { method: recordLabel('payment_method', s.method), yuan: s.paid_yuan });
      case 'work_order.sign_off':
        return t('Work order signed by {name}', { name: s.name });
      case 'claim':
        return t('Insurance claim updated');
      case 'followup.outcome': {
        const text = t('Follow-up call: {outcome}', { outcome: recordLabel('followup_outcome', s.outcome) });
        return s.complaint ? t('{what}: {text}', { what: text, text: s.complaint }) : text;
      }
      case 'followup.correction': {
        const previous = (s.previous || {}).outcome;
        const text = t('Follow-up call corrected: {outcome} (was {previous})', {
          outcome: recordLabel('followup_outcome', s.outcome), previous: recordLabel('followup_outcome', previous),
        });
        return s.complaint ? t('{what}: {text}', { what: text, text: s.complaint }) : text;
      }
      default:
        return entry.kind;
    }
  }

  // ------------------------------------------------------------------ history
  function showHistory(jobId) {
    historyError.textContent = '';
    Array.from(body.querySelectorAll('tr')).forEach((tr) => tr.classList.toggle('chosen', tr.dataset.job === jobId));
    window.recordsApi('/api/records/jobs/' + encodeURIComponent(jobId) + '/history').then((data) => {
      historyTitle.textContent = t('History of job {job} (work order {order})', { job: data.job.job_id, order: data.job.order_no });
      historyBody.replaceChildren();
      data.history.forEach((entry) => {
        const tr = document.createElement('tr');
        tr.dataset.kind = entry.kind;
        cell(tr, when(entry.at_s));
        cell(tr, entry.user);
        cell(tr, describe(entry)).className = 'what';
        historyBody.appendChild(tr);
      });
      historyCard.hidden = false;
      historyCard.scrollIntoView({ block: 'nearest' });
    }).catch((error) => { historyCard.hidden = false; historyError.textContent = errorText(error); });
  }

  // ------------------------------------------------------------------ search
  function render(jobs) {
    body.replaceChildren();
    jobs.forEach((job) => {
      const tr = document.createElement('tr');
      tr.dataset.job = job.job_id;
      const order = document.createElement('a');
      order.href = '/records/work_orders/' + encodeURIComponent(job.job_id);
      order.textContent = job.order_no;
      order.title = t('Work order');
      cell(tr, order);
      cell(tr, job.job_id);
      cell(tr, when(job.created_at_s));
      cell(tr, window.label('job_state', job.state));
      cell(tr, window.label('kind', job.required_kind));
      cell(tr, job.caller_name);
      cell(tr, job.phone);
      cell(tr, job.plate);
      cell(tr, job.member_card || '');
      cell(tr, job.truck_id || '');
      cell(tr, job.total_yuan.toFixed(2));
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'history-button';
      button.textContent = t('Show history');
      button.addEventListener('click', () => showHistory(job.job_id));
      cell(tr, button).className = 'actions';
      body.appendChild(tr);
    });
    table.hidden = jobs.length === 0;
    status.textContent = jobs.length ? t('Jobs found: {count}', { count: jobs.length }) : t('No job matches.');
  }

  function search() {
    searchError.textContent = '';
    const params = new URLSearchParams();
    KEYS.forEach((key) => {
      const value = form.elements[key].value.trim();
      if (value) params.set(key, value);
    });
    window.history.replaceState(null, '', '/records/jobs' + (params.toString() ? '?' + params : ''));
    status.textContent = t('Searching…');
    return window.recordsApi('/api/records/jobs?' + params).then((data) => render(data.jobs)).catch((error) => {
      status.textContent = '';
      table.hidden = true;
      searchError.textContent = errorText(error);
    });
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); search(); });
  form.addEventListener('reset', () => {
    window.setTimeout(() => {
      KEYS.forEach((key) => { form.elements[key].value = ''; });
      body.replaceChildren(); table.hidden = true; historyCard.hidden = true;
      status.textContent = ''; searchError.textContent = '';
      window.history.replaceState(null, '', '/records/jobs');
    }, 0);
  });
  search();
}());
