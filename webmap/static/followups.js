// The follow-up calls page (回访, SERVICE_RULES §8): the calls due (overdue ones marked), a
// form to record what a call found, and the complaints for the quality review.
'use strict';
(function () {
  const timeFormat = new Intl.DateTimeFormat(window.pageLanguage === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false,
  });
  const overdueOnly = document.getElementById('overdue-only');
  const dueTable = document.getElementById('due-table');
  const dueBody = document.getElementById('due-body');
  const dueStatus = document.getElementById('due-status');
  const dueError = document.getElementById('due-error');
  const card = document.getElementById('followup-card');
  const title = document.getElementById('followup-title');
  const form = document.getElementById('followup-form');
  const complaintLabel = document.getElementById('complaint-label');
  const complaintText = document.getElementById('complaint-text');
  const formError = document.getElementById('followup-error');
  const done = document.getElementById('followup-done');
  const complaintsTable = document.getElementById('complaints-table');
  const complaintsBody = document.getElementById('complaints-body');
  const complaintsStatus = document.getElementById('complaints-status');
  let chosen = null;

  function when(seconds) {
    return seconds === null || seconds === undefined ? '' : timeFormat.format(new Date(seconds * 1000));
  }
  function cell(row, content) {
    const td = document.createElement('td');
    if (content instanceof Node) td.appendChild(content); else td.textContent = content === null || content === undefined ? '' : String(content);
    row.appendChild(td);
    return td;
  }
  function orderLink(call) {
    const link = document.createElement('a');
    link.href = '/records/work_orders/' + encodeURIComponent(call.job_id);
    link.textContent = call.order_no;
    return link;
  }
  function errorText(error) {
    return error.field ? error.field + ': ' + error.message : error.message;
  }
  function dueText(call, nowS) {
    const hours = Math.abs(call.due_at_s - nowS) / 3600;
    const shown = hours < 1 ? t('{minutes} min', { minutes: Math.round(hours * 60) })
      : t('{hours} h', { hours: hours.toFixed(1) });
    return call.overdue ? t('{time}: overdue by {late}', { time: when(call.due_at_s), late: shown })
      : t('{time}: in {left}', { time: when(call.due_at_s), left: shown });
  }

  function choose(call) {
    chosen = call;
    Array.from(dueBody.querySelectorAll('tr')).forEach((tr) => tr.classList.toggle('chosen', tr.dataset.job === call.job_id));
    title.textContent = t('Call {caller} on {phone} about work order {order}', {
      caller: call.caller_name, phone: call.phone, order: call.order_no,
    });
    form.reset();
    complaintLabel.hidden = true;
    formError.textContent = '';
    done.textContent = '';
    card.hidden = false;
    form.querySelector('input[name=outcome]').focus();
  }

  function loadDue() {
    dueError.textContent = '';
    const url = '/api/records/followups' + (overdueOnly.checked ? '?overdue=1' : '');
    return window.recordsApi(url).then((data) => {
      dueBody.replaceChildren();
      data.followups.forEach((call) => {
        const tr = document.createElement('tr');
        tr.dataset.job = call.job_id;
        tr.classList.toggle('overdue', call.overdue);
        cell(tr, orderLink(call));
        cell(tr, call.job_id);
        cell(tr, call.caller_name);
        cell(tr, call.phone);
        cell(tr, call.plate);
        cell(tr, when(call.closed_at_s));
        cell(tr, dueText(call, data.now_s)).className = 'due';
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'record-button';
        button.textContent = t('Record the call');
        button.addEventListener('click', () => choose(call));
        cell(tr, button);
        dueBody.appendChild(tr);
      });
      dueTable.hidden = data.followups.length === 0;
      const late = data.followups.filter((call) => call.overdue).length;
      dueStatus.textContent = data.followups.length
        ? t('Calls to make: {count} ({late} overdue)', { count: data.followups.length, late: late })
        : t('No call to make.');
    }).catch((error) => { dueError.textContent = errorText(error); });
  }

  function loadComplaints() {
    return window.recordsApi('/api/records/followups/complaints').then((data) => {
      complaintsBody.replaceChildren();
      data.complaints.forEach((call) => {
        const tr = document.createElement('tr');
        tr.dataset.job = call.job_id;
        cell(tr, orderLink(call));
        cell(tr, call.job_id);
        cell(tr, call.caller_name);
        cell(tr, call.phone);
        cell(tr, call.complaint).className = 'complaint-text';
        cell(tr, call.called_by);
        cell(tr, when(call.called_at_s));
        complaintsBody.appendChild(tr);
      });
      complaintsTable.hidden = data.complaints.length === 0;
      complaintsStatus.textContent = data.complaints.length ? '' : t('No complaint.');
    }).catch((error) => { complaintsStatus.textContent = errorText(error); });
  }

  form.addEventListener('change', () => {
    complaintLabel.hidden = form.elements.outcome.value !== 'complaint';
    formError.textContent = '';
  });
  complaintText.addEventListener('input', () => { formError.textContent = ''; });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!chosen) return;
    const outcome = form.elements.outcome.value;
    const body = { outcome: outcome };
    if (outcome === 'complaint') body.complaint = complaintText.value;
    formError.textContent = '';
    const call = chosen;
    window.recordsApi('/api/records/followups/' + encodeURIComponent(call.job_id), body).then((data) => {
      card.hidden = true;
      chosen = null;
      done.textContent = t('Recorded: work order {order}, {outcome}.', {
        order: call.order_no, outcome: window.pageConfig.record_labels.followup_outcome[data.followup.outcome] || data.followup.outcome,
      });
      loadDue();
      loadComplaints();
    }).catch((error) => { formError.textContent = errorText(error); });
  });
  document.getElementById('followup-cancel').addEventListener('click', () => { card.hidden = true; chosen = null; });
  overdueOnly.addEventListener('change', loadDue);
  loadDue();
  loadComplaints();
}());
