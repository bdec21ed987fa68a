// The Reports page: a range of days, its figures and charts (ECharts, served from
// node_modules by /vendor/echarts), and the CSV of the same report.
'use strict';
(function () {
  const cfg = window.pageConfig;
  const names = cfg.report_labels || {};
  const form = document.getElementById('report-range');
  const fromInput = document.getElementById('report-from');
  const toInput = document.getElementById('report-to');
  const csvLink = document.getElementById('report-csv');
  const errorBox = document.getElementById('report-error');
  const kpis = document.getElementById('report-kpis');
  const font = getComputedStyle(document.body).fontFamily;
  const palette = ['#1d3557', '#e76f51', '#2a9d8f', '#e9c46a', '#8d99ae', '#6d597a', '#f4a261'];
  const charts = {};

  function chart(id) {
    if (!charts[id]) {
      charts[id] = window.echarts.init(document.getElementById(id), null, { renderer: 'canvas' });
    }
    return charts[id];
  }

  function named(group, code) {
    return ((names[group] || {})[code]) || window.label(group, code);
  }

  function percent(share) {
    return share === null || share === undefined ? '–' : (share * 100).toFixed(1) + ' %';
  }

  function minutes(value) {
    return value === null || value === undefined ? '–' : value.toFixed(1);
  }

  function yuan(value) {
    return Math.round(value).toLocaleString(window.pageLanguage === 'zh' ? 'zh-CN' : 'en');
  }

  function kpi(name, value, note) {
    const box = document.createElement('div');
    box.className = 'kpi';
    const v = document.createElement('div');
    v.className = 'value';
    v.textContent = value;
    const n = document.createElement('div');
    n.className = 'name';
    n.textContent = name;
    box.append(v, n);
    if (note) {
      const extra = document.createElement('div');
      extra.className = 'note';
      extra.textContent = note;
      box.append(extra);
    }
    return box;
  }

  function showKpis(r) {
    const promise = r.promise;
    kpis.replaceChildren(
      kpi(t('Calls'), String(r.calls.total), t('{count} cancelled', { count: r.calls.cancelled })),
      kpi(t('Promise kept'), percent(promise.kept_share),
        t('{kept} of {arrived} arrivals within {minutes} min',
          { kept: promise.kept, arrived: promise.arrived, minutes: r.promise_min })),
      kpi(t('Arrival, median min'), minutes(r.arrival_min.p50),
        t('90th percentile {minutes} min', { minutes: minutes(r.arrival_min.p90) })),
      kpi(t('On-site service / tow'), r.kinds.service + ' / ' + r.kinds.flatbed,
        t('{count} converted to a tow', { count: r.kinds.converted })),
      kpi(t('Revenue (yuan)'), yuan(r.revenue.total_yuan),
        t('{count} closed jobs', { count: r.revenue.closed_jobs })),
      kpi(t('Awaiting arrival'), String(promise.awaiting), ''),
    );
  }

  const base = {
    textStyle: { fontFamily: font },
    color: palette,
    animation: false,
    grid: { left: 56, right: 24, top: 36, bottom: 36, containLabel: true },
    tooltip: { trigger: 'axis' },
  };

  function bars(id, categories, series, extra) {
    chart(id).setOption(Object.assign({}, base, {
      legend: series.length > 1 ? { top: 0 } : undefined,
      xAxis: { type: 'category', data: categories, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value' },
      series: series.map((s) => Object.assign({ type: 'bar' }, s)),
    }, extra || {}), true);
  }

  function shareBars(id, rows, group, key) {
    bars(id, rows.map((row) => (row[key] === null ? t('Unknown') : named(group, row[key]))), [{
      name: t('Promise kept'),
      data: rows.map((row) => (row.kept_share === null ? null : +(row.kept_share * 100).toFixed(1))),
      label: { show: true, position: 'top', formatter: (p) => (p.value === null ? '' : p.value + ' %') },
    }], {
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value} %' } },
      tooltip: {
        trigger: 'axis',
        formatter: (items) => {
          const row = rows[items[0].dataIndex];
          return items[0].name + '<br>' + t('{kept} of {arrived} arrivals within {minutes} min',
            { kept: row.kept, arrived: row.arrived, minutes: lastReport.promise_min });
        },
      },
    });
  }

  function pie(id, data) {
    chart(id).setOption(Object.assign({}, base, {
      tooltip: { trigger: 'item' },
      legend: { bottom: 0 },
      series: [{
        type: 'pie',
        radius: ['35%', '65%'],
        center: ['50%', '45%'],
        data,
        label: { formatter: '{b}: {c}' },
      }],
    }), true);
  }

  let lastReport = null;

  function draw(r) {
    lastReport = r;
    showKpis(r);
    bars('chart-days', r.per_day.map((d) => d.day), [
      { name: t('Calls'), data: r.per_day.map((d) => d.calls - d.cancelled), stack: 'calls' },
      { name: t('Cancelled'), data: r.per_day.map((d) => d.cancelled), stack: 'calls' },
    ]);
    bars('chart-hours', r.per_hour.map((h) => String(h.hour).padStart(2, '0')), [
      { name: t('Calls'), data: r.per_hour.map((h) => h.calls) },
    ]);
    shareBars('chart-zones', r.promise_by_zone, 'zone', 'zone');
    shareBars('chart-bands', r.promise_by_band, 'band', 'band');
    const items = r.revenue.by_item.slice().reverse();
    chart('chart-items').setOption(Object.assign({}, base, {
      grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: items.map((i) => named('fee_item', i.code)) },
      series: [{
        type: 'bar',
        name: t('Revenue (yuan)'),
        data: items.map((i) => i.yuan),
        label: { show: true, position: 'right', formatter: (p) => yuan(p.value) },
      }],
    }), true);
    const members = r.members.map((m) => (m.member ? t('Members') : t('Non-members')));
    bars('chart-members', members, [
      { name: t('Jobs'), data: r.members.map((m) => m.jobs), yAxisIndex: 0 },
      { name: t('Revenue (yuan)'), data: r.members.map((m) => m.revenue_yuan), yAxisIndex: 1 },
    ], { yAxis: [{ type: 'value', name: t('Jobs') }, { type: 'value', name: t('Yuan') }] });
    pie('chart-followups', ['satisfied', 'not_satisfied', 'complaint', 'pending']
      .map((code) => ({ name: named('outcome', code), value: r.followups[code] || 0 })));
    bars('chart-trucks', r.trucks.map((tr) => tr.truck_id), [
      { name: t('Jobs'), data: r.trucks.map((tr) => tr.jobs), yAxisIndex: 0 },
      { name: t('Busy hours'), data: r.trucks.map((tr) => +tr.busy_h.toFixed(1)), yAxisIndex: 1 },
    ], { yAxis: [{ type: 'value', name: t('Jobs') }, { type: 'value', name: t('Hours') }] });
  }

  function query() {
    return '?from=' + encodeURIComponent(fromInput.value) + '&to=' + encodeURIComponent(toInput.value);
  }

  function load() {
    errorBox.textContent = '';
    csvLink.href = '/reports.csv' + query();
    window.recordsApi('/api/reports' + query())
      .then(draw)
      .catch((error) => { errorBox.textContent = error.message || t('The request failed.'); });
  }

  const params = new URLSearchParams(window.location.search);
  fromInput.value = params.get('from') || cfg.default_from;
  toInput.value = params.get('to') || cfg.default_to;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    window.history.replaceState(null, '', query());
    load();
  });
  window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));
  load();
}());
