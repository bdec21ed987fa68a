// The members page: search the register, add a member (records/members.py via
// webmap/member_routes.py). Text goes in with textContent only.
'use strict';
(function () {
  const cfg = window.pageConfig;
  const api = window.recordsApi;
  const byId = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'className') node.className = value; else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }
  function errorText(e) {
    return (e.field ? e.field + (e.value !== null && e.value !== undefined ? ' = ' + JSON.stringify(e.value) : '') + ': ' : '') + (e.message || '');
  }
  function isValid(m) { return m.valid_from <= cfg.today && cfg.today <= m.valid_to; }

  function show(members) {
    const body = byId('members-body');
    while (body.firstChild) body.removeChild(body.firstChild);
    for (const m of members) {
      const valid = isValid(m);
      body.append(el('tr', { className: valid ? 'valid' : 'expired', 'data-card': m.card_no },
        el('td', {}, m.card_no), el('td', {}, m.name), el('td', {}, m.phones.join(', ')),
        el('td', {}, m.plates.join(', ')), el('td', {}, m.valid_from), el('td', {}, m.valid_to),
        el('td', {}, el('span', { className: 'badge ' + (valid ? 'valid' : 'expired') }, valid ? t('valid') : t('expired'))),
        el('td', {}, String(m.fee_paid_yuan)), el('td', {}, m.receipt_no || '')));
    }
    byId('members-table').hidden = members.length === 0;
    byId('search-status').textContent = members.length
      ? t('{count} members found.', { count: members.length })
      : t('No member matches.');
  }
  function search() {
    byId('search-error').textContent = '';
    const q = byId('search-q').value.trim();
    api('/api/members?q=' + encodeURIComponent(q))
      .then((answer) => show(answer.members))
      .catch((e) => { byId('search-error').textContent = errorText(e); });
  }
  byId('member-search').addEventListener('submit', (e) => { e.preventDefault(); search(); });

  const form = byId('member-add');
  function addDays(day, days) {
    const d = new Date(day + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }
  function defaults() {
    form.valid_from.value = cfg.today;
    form.valid_to.value = addDays(cfg.today, cfg.membership_days - 1);
    form.fee_paid_yuan.value = String(cfg.membership_yuan);
  }
  defaults();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    byId('add-error').textContent = '';
    byId('add-ok').textContent = '';
    const body = {};
    for (const name of cfg.columns) body[name] = form.elements[name].value.trim();
    api('/api/members', body).then((answer) => {
      byId('add-ok').textContent = t('Member {card} added.', { card: answer.member.card_no });
      form.reset();
      defaults();
      byId('search-q').value = answer.member.card_no;
      search();
    }).catch((err) => {
      byId('add-error').textContent = errorText(err);
      const input = form.elements[(err.field || '').split('.')[0]];
      if (input && input.focus) input.focus();
    });
  });
  search();
}());
