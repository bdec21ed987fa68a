/* rescue-dispatch live map.
 *
 * Pushed state over Socket.IO (no polling). Leaflet layer groups per kind, markers kept in
 * Maps keyed by id so an update moves a marker; fitBounds only on the first state.
 * All user text goes into the page with textContent (el() below), never innerHTML.
 */
(function () {
  'use strict';

  const cfg = JSON.parse(document.getElementById('page-config').textContent);
  const MOVABLE = new Set(['received', 'assigned', 'en_route']);
  const FINAL = new Set(['closed', 'cancelled']);
  const REASONS = {
    distance: 'far from the nearest suitable truck',
    congestion: 'traffic congestion at this time of day',
    all_suitable_busy: 'suitable trucks are busy',
    no_suitable_truck: 'no suitable truck on duty',
    not_dispatched: 'no truck dispatched yet',
    converted_to_tow: 'repair failed on site: a flatbed must come',
  };
  // Every cause of a late arrival (the main one first), as text.
  function reasonsText(check) {
    const reasons = check.reasons && check.reasons.length ? check.reasons : (check.reason ? [check.reason] : []);
    return reasons.map((r) => REASONS[r] || r).join('; ');
  }
  function alerting(promise) {
    return !!promise && (promise.alerting !== undefined ? promise.alerting : promise.status !== 'on_time');
  }
  const STATUS_TEXT = { on_time: 'on time', at_risk: 'at risk', late: 'late' };

  const state = {
    trucks: new Map(), jobs: new Map(), alerts: new Map(),
    clock: { now_s: Date.now() / 1000, at_ms: Date.now(), speed: cfg.speed || 1 },
    fitted: false, selectedJob: null, picking: null, lastIntake: null,
  };

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'className') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function simNow() { return state.clock.now_s + (Date.now() - state.clock.at_ms) / 1000 * state.clock.speed; }
  const timeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  function clockText(epochS) { return epochS ? timeFmt.format(new Date(epochS * 1000)) : '—'; }
  function mmss(seconds) {
    const sign = seconds < 0 ? '-' : '';
    const s = Math.abs(Math.round(seconds));
    return sign + Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  function latlng(lonlat) { return [lonlat[1], lonlat[0]]; }
  function statusOf(job) { return job.promise ? job.promise.status : 'none'; }
  function statusBadge(status) { return el('span', { className: 'status ' + status }, STATUS_TEXT[status] || status); }
  function yuan(v) { return (Math.round(v * 100) / 100).toString() + ' ¥'; }

  let noticeTimer = null;
  let lastError = null;  // the latest `error` event
  function errorText(e) {
    const what = e.field ? e.field + (e.value !== null && e.value !== undefined ? ' = ' + JSON.stringify(e.value) : '') : '';
    return (what ? '(' + what + ') ' : '') + (e.message || 'unknown error');
  }
  function notice(text, kind) {
    const box = document.getElementById('notice');
    box.textContent = text;
    box.className = 'notice ' + (kind || '');
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => box.classList.add('hidden'), kind === 'error' ? 15000 : 6000);
  }

  // ------------------------------------------------------------------ map and layers
  const map = L.map('map', { preferCanvas: true }).setView([39.91, 116.40], 11);
  // Own panes so the drawing order is fixed: roads, then rings, then truck routes.
  map.createPane('roads').style.zIndex = 350;
  map.createPane('routes').style.zIndex = 420;
  const roadCanvas = L.canvas({ pane: 'roads', padding: 0.3 });
  const canvas = L.canvas({ padding: 0.3 });
  const routeCanvas = L.canvas({ pane: 'routes', padding: 0.3 });
  const tiles = L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
    maxZoom: 19, attribution: cfg.attribution,
  }).addTo(map);
  const roadsLayer = L.geoJSON(null, {
    pane: 'roads', renderer: roadCanvas, interactive: false, attribution: cfg.attribution,
    style: (f) => roadStyle(f.properties.highway),
  }).addTo(map);
  const ringsLayer = L.geoJSON(null, {
    renderer: canvas, interactive: false, attribution: cfg.attribution,
    style: (f) => ({ color: '#b71c1c', weight: /5th|6th/.test(f.properties['name:en']) ? 2.5 : 1.5, opacity: 0.7, fill: false, dashArray: '8 5' }),
    onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name || '', { sticky: true }),
  }).addTo(map);
  const shopsLayer = L.layerGroup().addTo(map);
  const routesLayer = L.layerGroup().addTo(map);
  const trucksLayer = L.layerGroup().addTo(map);
  const jobsLayer = L.layerGroup().addTo(map);
  const pickLayer = L.layerGroup().addTo(map);
  L.control.layers(
    { 'OpenStreetMap tiles': tiles, 'No tiles (project roads only)': L.layerGroup() },
    { 'Main roads (project data)': roadsLayer, 'Ring roads': ringsLayer, 'Repair shops': shopsLayer,
      'Truck routes': routesLayer, 'Trucks': trucksLayer, 'Jobs': jobsLayer },
    { collapsed: true },
  ).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  function roadStyle(highway) {
    const base = highway.replace('_link', '');
    const widths = { motorway: 2.4, trunk: 2.0, primary: 1.6, secondary: 1.1, tertiary: 0.7 };
    const colours = { motorway: '#e8892b', trunk: '#f0a640', primary: '#c9a25a', secondary: '#9a9a9a', tertiary: '#b5b5b5' };
    return { color: colours[base] || '#aaa', weight: (widths[base] || 0.7) * (highway.endsWith('_link') ? 0.7 : 1), opacity: 0.85 };
  }

  function loadLayer(url, layer) {
    return fetch(url, { credentials: 'same-origin' })
      .then((r) => { if (!r.ok) throw new Error(url + ': ' + r.status); return r.json(); })
      .then((data) => layer.addData(data))
      .catch((err) => notice('Could not load ' + url + ': ' + err.message, 'error'));
  }
  loadLayer('/api/roads.geojson', roadsLayer);
  loadLayer('/api/rings.geojson', ringsLayer);
  fetch('/api/shops.geojson', { credentials: 'same-origin' }).then((r) => r.json()).then((data) => {
    for (const f of data.features) {
      const icon = L.divIcon({ html: el('div', { className: 'shop-icon' }), className: 'shop-marker', iconSize: [12, 12], iconAnchor: [6, 6] });
      L.marker(latlng(f.geometry.coordinates), { icon, interactive: true, keyboard: false })
        .bindTooltip(f.properties.name + ' · ' + f.properties.name_en).addTo(shopsLayer);
    }
  }).catch(() => {});

  // ------------------------------------------------------------------ trucks
  const truckMarkers = new Map();
  const routeLines = new Map();

  function truckElement(truck) {
    const node = el('div', {
      className: 'truck-icon kind-' + truck.kind + ' state-' + truck.state,
      dataset: { truckId: truck.id },
      title: truck.id + ' · ' + truck.kind + ' · ' + truck.state.replace('_', ' '),
    }, el('span', { className: 'glyph' }, truck.kind === 'flatbed' ? 'F' : 'S'), el('span', {}, truck.id));
    acceptDrops(node, truck.id);
    return node;
  }

  function truckIcon(truck, slot) {
    return L.divIcon({
      html: truckElement(truck), className: 'truck-marker',
      iconSize: [52, 20], iconAnchor: [26, 10 - slot * 23],
    });
  }

  // Trucks parked at the same base are stacked one under another instead of hidden.
  function slots() {
    const groups = new Map();
    const result = new Map();
    for (const truck of [...state.trucks.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const key = truck.position[0].toFixed(4) + ',' + truck.position[1].toFixed(4);
      const n = groups.get(key) || 0;
      groups.set(key, n + 1);
      result.set(truck.id, n);
    }
    return result;
  }

  function refreshTruckMarkers() {
    const slotOf = slots();
    for (const truck of state.trucks.values()) {
      const slot = slotOf.get(truck.id);
      let marker = truckMarkers.get(truck.id);
      const look = truck.kind + truck.state + slot;
      if (!marker) {
        marker = L.marker(latlng(truck.position), { icon: truckIcon(truck, slot), zIndexOffset: 500, keyboard: false });
        marker.look = look;
        marker.bindTooltip(() => truckTooltip(state.trucks.get(truck.id)));
        marker.on('click', () => { showTab('trucks'); highlightTruck(truck.id); });
        truckMarkers.set(truck.id, marker);
        marker.addTo(trucksLayer);
      } else {
        marker.setLatLng(latlng(truck.position));
        if (marker.look !== look) { marker.setIcon(truckIcon(truck, slot)); marker.look = look; }
      }
    }
    for (const [id, marker] of truckMarkers) {
      if (!state.trucks.has(id)) { trucksLayer.removeLayer(marker); truckMarkers.delete(id); }
    }
  }

  function truckTooltip(truck) {
    if (!truck) return '';
    return el('div', {},
      el('strong', {}, truck.id + ' ' + truck.plate), el('br'),
      truck.kind + ' · ' + truck.state.replace('_', ' '), el('br'),
      'crew: ' + (truck.crew || []).join(', '), el('br'),
      truck.queue.length ? 'work: ' + truck.queue.join(', ') : 'no work');
  }

  function refreshRoute(truck) {
    const old = routeLines.get(truck.id);
    if (old) { routesLayer.removeLayer(old); routeLines.delete(truck.id); }
    const route = truck.route;
    if (!route || !route.geometry) return;
    const colour = route.purpose === 'to_destination' ? '#7b3fb5' : '#1f6fd1';
    const line = L.polyline(route.geometry.coordinates.map(latlng), {
      color: colour, weight: route.moving ? 4 : 3, opacity: route.moving ? 0.8 : 0.6,
      dashArray: route.moving ? null : '5 6', pane: 'routes', renderer: routeCanvas, interactive: false,
    });
    line.addTo(routesLayer);
    routeLines.set(truck.id, line);
  }

  function upsertTruck(truck) {
    const old = state.trucks.get(truck.id);
    state.trucks.set(truck.id, truck);
    if (!old || JSON.stringify(old.route) !== JSON.stringify(truck.route)) refreshRoute(truck);
  }

  // ------------------------------------------------------------------ jobs
  const jobMarkers = new Map();

  function jobElement(job) {
    return el('div', {
      className: 'job-icon status-' + statusOf(job) + ' state-' + job.state,
      dataset: { jobId: job.id },
    }, el('div', { className: 'pin' }, job.id + ' ', el('span', { className: 'countdown' }, countdownText(job))), el('div', { className: 'stem' }));
  }

  function countdownText(job) {
    if (job.arrived_at_s) return job.promise_kept ? '✓' : '✗';
    return mmss(job.deadline_s - simNow());
  }

  function jobIcon(job) {
    return L.divIcon({ html: jobElement(job), className: 'job-marker', iconSize: [70, 26], iconAnchor: [35, 26] });
  }

  function upsertJob(job) {
    const known = state.jobs.get(job.id);
    if (known && known.version > job.version) return;  // an older update arrived late
    if (FINAL.has(job.state)) { removeJob(job.id); return; }
    state.jobs.set(job.id, job);
    let marker = jobMarkers.get(job.id);
    const look = statusOf(job) + job.state + (job.arrived_at_s ? 'a' : '');
    if (!marker) {
      marker = L.marker(latlng(job.location), { icon: jobIcon(job), draggable: true, zIndexOffset: 1000, keyboard: false, autoPan: true });
      marker.look = look;
      marker.on('click', () => selectJob(job.id));
      marker.on('dragstart', () => { marker.home = marker.getLatLng(); marker.pointer = null; });
      marker.on('drag', (e) => {  // where the pointer is: the drop target is under it
        const ev = e.originalEvent;
        const point = ev && ev.touches ? ev.touches[0] : ev;
        if (point && 'clientX' in point) marker.pointer = [point.clientX, point.clientY];
      });
      marker.on('dragend', () => onMarkerDrop(job.id, marker));
      jobMarkers.set(job.id, marker);
      marker.addTo(jobsLayer);
    } else if (marker.look !== look) {
      marker.setIcon(jobIcon(job));
      marker.look = look;
    }
    if (marker.dragging) { if (MOVABLE.has(job.state)) marker.dragging.enable(); else marker.dragging.disable(); }
    if (!alerting(job.promise)) state.alerts.delete(job.id);
  }

  function removeJob(id) {
    state.jobs.delete(id);
    state.alerts.delete(id);
    const marker = jobMarkers.get(id);
    if (marker) { jobsLayer.removeLayer(marker); jobMarkers.delete(id); }
  }

  // ------------------------------------------------------------------ drag and drop
  function onMarkerDrop(jobId, marker) {
    const rect = map.getContainer().getBoundingClientRect();
    const anchor = map.latLngToContainerPoint(marker.getLatLng());
    const [x, y] = marker.pointer || [rect.left + anchor.x, rect.top + anchor.y];
    const dropped = L.point(x - rect.left, y - rect.top);
    marker.setLatLng(marker.home || latlng(state.jobs.get(jobId).location));
    let truckId = null;
    for (const node of document.elementsFromPoint(x, y)) {
      const hit = node.closest && node.closest('[data-truck-id]');
      if (hit) { truckId = hit.dataset.truckId; break; }
    }
    if (!truckId) {  // forgiving: the nearest truck within 25 px
      let best = 25;
      for (const [id, m] of truckMarkers) {
        const p = map.latLngToContainerPoint(m.getLatLng());
        const d = Math.hypot(p.x - dropped.x, p.y - dropped.y);
        if (d < best) { best = d; truckId = id; }
      }
    }
    if (!truckId) { notice('Drop the job on a truck to move it (' + jobId + ' not moved).', 'error'); return; }
    dropOnTruck(jobId, truckId);
  }

  function acceptDrops(node, truckId) {
    node.addEventListener('dragover', (e) => { e.preventDefault(); node.classList.add('drop-hover'); });
    node.addEventListener('dragleave', () => node.classList.remove('drop-hover'));
    node.addEventListener('drop', (e) => {
      e.preventDefault();
      node.classList.remove('drop-hover');
      const jobId = e.dataTransfer.getData('text/x-job-id') || e.dataTransfer.getData('text/plain');
      if (jobId) dropOnTruck(jobId, truckId);
    });
  }

  function dropOnTruck(jobId, truckId) {
    const job = state.jobs.get(jobId);
    if (!job) { notice('Job ' + jobId + ' is no longer open.', 'error'); return; }
    if (job.truck_id === truckId) { notice(jobId + ' is already on ' + truckId + '.', ''); return; }
    const event = job.state === 'received' ? 'dispatch' : 'reassign';
    command(event, { job_id: jobId, truck_id: truckId, version: job.version },
      () => notice(jobId + ' → ' + truckId + (event === 'dispatch' ? ' (dispatched)' : ' (reassigned)'), 'ok'));
  }

  // ------------------------------------------------------------------ commands
  // onRefused(error) is called after the refusal notice (e.g. a stale proposal's fresh one).
  function command(event, payload, onOk, onRefused) {
    socket.timeout(15000).emit(event, payload, (err, answer) => {
      if (err) { notice(event + ': no answer from the server (' + err.message + ')', 'error'); return; }
      if (!answer || !answer.ok) {
        const error = (answer && answer.error) || {};
        notice('Refused: ' + errorText(error), 'error');
        if (onRefused) onRefused(error);
        return;
      }
      if (answer.job) { upsertJob(answer.job); renderLists(); }
      if (onOk) onOk(answer);
    });
  }

  document.getElementById('replan-all').addEventListener('click', (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    command('replan', {}, (answer) => {
      if (!answer.improved) {
        notice('Re-plan: no improvement on the current plan (' + answer.broken_promises
          + ' promise(s) predicted broken); nothing changed.', 'ok');
        return;
      }
      const how = answer.fallback ? ' (one call at a time)' : '';
      notice('Re-planned in ' + answer.solve_s + ' s' + how + ': ' + answer.moved.length
        + ' job(s) moved, ' + answer.broken_promises_before + ' → ' + answer.broken_promises
        + ' promise(s) predicted broken.', 'ok');
    });
    setTimeout(() => { button.disabled = false; }, 3000);
  });

  // ------------------------------------------------------------------ side panel
  function showTab(name) {
    for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('active', b.dataset.tab === name);
    for (const s of document.querySelectorAll('.tab')) s.classList.toggle('active', s.id === 'tab-' + name);
  }
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));

  function renderLists() {
    renderJobs();
    renderTrucks();
    renderAlerts();
  }

  function renderJobs() {
    const list = clear(document.getElementById('jobs-list'));
    const jobs = [...state.jobs.values()].sort((a, b) => a.deadline_s - b.deadline_s);
    document.getElementById('jobs-count').textContent = jobs.length;
    for (const job of jobs) {
      const row = el('li', {
        dataset: { jobId: job.id }, draggable: MOVABLE.has(job.state) ? 'true' : 'false',
        className: job.id === state.selectedJob ? 'selected' : '',
        onclick: () => selectJob(job.id),
      },
      el('span', { className: 'id' }, job.id),
      statusBadge(statusOf(job)),
      el('span', { className: 'grow' }, job.state.replace('_', ' ') + (job.truck_id ? ' · ' + job.truck_id : '') + ' · ' + job.caller.name + ' · ' + job.fault_category),
      el('span', { className: 'countdown', dataset: { deadline: job.deadline_s } }, countdownText(job)));
      row.addEventListener('dragstart', (e) => {
        e.dataTransfer.setData('text/x-job-id', job.id);
        e.dataTransfer.setData('text/plain', job.id);
        e.dataTransfer.effectAllowed = 'move';
      });
      list.append(row);
    }
    if (state.selectedJob) renderJobDetail();
  }

  function renderTrucks() {
    const list = clear(document.getElementById('trucks-list'));
    const trucks = [...state.trucks.values()].sort((a, b) => a.id.localeCompare(b.id));
    document.getElementById('trucks-count').textContent = trucks.length;
    for (const truck of trucks) {
      const onDuty = truck.state !== 'off_duty';
      const row = el('li', { dataset: { truckId: truck.id } },
        el('span', { className: 'id' }, truck.id),
        el('span', { className: 'status state-' + truck.state }, truck.state.replace('_', ' ')),
        el('span', { className: 'grow' }, truck.kind + ' · ' + truck.plate + (truck.queue.length ? ' · ' + truck.queue.join(', ') : '')),
        el('button', { className: 'small', onclick: (e) => { e.stopPropagation(); command('truck_duty', { truck_id: truck.id, on_duty: !onDuty }); } }, onDuty ? 'Off duty' : 'On duty'));
      row.addEventListener('click', () => { const m = truckMarkers.get(truck.id); if (m) map.panTo(m.getLatLng()); });
      acceptDrops(row, truck.id);
      list.append(row);
    }
  }

  function highlightTruck(id) {
    const row = document.querySelector('#trucks-list li[data-truck-id="' + CSS.escape(id) + '"]');
    if (row) { row.scrollIntoView({ block: 'center' }); row.classList.add('selected'); setTimeout(() => row.classList.remove('selected'), 2000); }
  }

  function renderAlerts() {
    const list = clear(document.getElementById('alerts-list'));
    const alerts = [...state.alerts.values()].filter((a) => state.jobs.has(a.job_id));
    const count = document.getElementById('alerts-count');
    count.textContent = alerts.length;
    count.classList.toggle('hot', alerts.length > 0);
    for (const a of alerts.sort((x, y) => x.deadline_s - y.deadline_s)) {
      list.append(el('li', { dataset: { jobId: a.job_id }, onclick: () => selectJob(a.job_id) },
        el('div', { className: 'grow', style: 'white-space: normal' },
          el('div', {}, el('span', { className: 'id' }, a.job_id + ' '), statusBadge(a.status), ' ', reasonsText(a)),
          a.message ? el('div', { className: 'small' }, a.message) : null,
          el('div', { className: 'small' }, 'ETA ' + clockText(a.eta_at_s) + ' · deadline ' + clockText(a.deadline_s) + (a.truck_id ? ' · ' + a.truck_id : '')),
          el('div', { className: 'small' }, 'Caller: ' + a.caller.name + ' ' + a.caller.phone),
          el('div', { className: 'script' }, a.script_zh, el('br'), a.script_en))));
    }
  }

  function selectJob(id) {
    state.selectedJob = id;
    showTab('jobs');
    renderJobs();
    const marker = jobMarkers.get(id);
    if (marker) map.panTo(marker.getLatLng());
  }

  function kv(rows) {
    return el('table', {}, rows.filter((r) => r[1] !== null && r[1] !== undefined && r[1] !== '').map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
  }

  function renderJobDetail() {
    const box = clear(document.getElementById('job-detail'));
    const job = state.jobs.get(state.selectedJob);
    if (!job) return;
    box.append(el('h3', {}, 'Job ' + job.id + ' · ' + job.state.replace('_', ' ') + ' · v' + job.version));
    box.append(kv([
      ['Caller', job.caller.name + ' ' + job.caller.phone + (job.caller.gender ? ' (' + job.caller.gender + ')' : '')],
      ['Vehicle', [job.vehicle.plate, job.vehicle.model, job.vehicle.colour].filter(Boolean).join(' · ')],
      ['Member', job.member ? 'yes, card ' + (job.member_card || '') : 'no' + (job.customer_details ? ' · ' + job.customer_details : '')],
      ['Where', (job.placement ? job.placement.road_name + ' (' + job.placement.highway + ') · ' + job.placement.zone.replace(/_/g, ' ') : '') + (job.landmarks ? ' · ' + job.landmarks : '')],
      ['Fault', job.fault_category + (job.fault_symptoms ? ': ' + job.fault_symptoms : '')],
      ['Need', job.customer_need],
      ['Truck', (job.truck_id || 'none') + ' (needs ' + job.required_kind + ')'],
      ['Tow to', job.tow_destination_name ? job.tow_destination_name + (job.tow_km ? ' · ' + job.tow_km + ' km' : '') : null],
      ['Accident', job.accident ? 'yes' + (job.insurer_line ? ' · ' + job.insurer_line.name_en + ' ' + job.insurer_line.phone : '') : null],
      ['Deadline', clockText(job.deadline_s)],
      ['Quote', job.quote ? yuan(job.quote.total_yuan) : null],
    ]));
    if (job.promise) {
      box.append(el('div', {}, statusBadge(job.promise.status), ' ETA ' + clockText(job.promise.eta_at_s)
        + (job.promise.estimated ? ' (估算 estimated: beyond the road data)' : '')
        + (reasonsText(job.promise) ? ' · ' + reasonsText(job.promise) : '')));
      box.append(el('div', { className: 'script' }, job.promise.script_zh, el('br'), job.promise.script_en));
    }
    const actions = el('div', { className: 'actions' });
    for (const next of job.allowed_next) {
      if (next === 'received' || next === 'assigned') continue;
      actions.append(el('button', { dataset: { advance: next }, onclick: () => command('advance', { job_id: job.id, state: next, version: job.version }) }, next.replace('_', ' ')));
    }
    if (job.state === 'on_scene' && !job.tow_destination) {
      actions.append(el('button', { onclick: () => command('convert_to_tow', { job_id: job.id, version: job.version }) }, 'convert to tow'));
    }
    if (job.state === 'received') {
      actions.append(el('button', { onclick: () => command('propose', { job_id: job.id }, (a) => renderProposal(box, job, a.proposal)) }, 'propose a truck'));
    }
    box.append(actions);
    box.append(el('h3', {}, 'History'));
    box.append(el('table', {}, job.history.map((h) => el('tr', {}, el('td', {}, clockText(h.at_s)), el('td', {}, h.state.replace('_', ' ')), el('td', {}, h.note)))));
  }

  // ------------------------------------------------------------------ intake
  const form = document.getElementById('intake-form');
  const faultSelect = document.getElementById('fault-category');
  for (const kind of ['service', 'flatbed']) {
    const group = el('optgroup', { label: kind === 'service' ? 'fixed on the spot (service vehicle)' : 'needs a flatbed tow truck' });
    for (const f of cfg.faults.filter((x) => x.kind === kind)) group.append(el('option', { value: f.id }, f.id.replace(/_/g, ' ')));
    faultSelect.append(group);
  }
  const insurerSelect = document.getElementById('insurer');
  for (const i of cfg.insurers) insurerSelect.append(el('option', { value: i.id }, i.name_zh + ' ' + i.name_en + ' ' + i.phone));

  function pick(what) {
    state.picking = what;
    document.body.classList.add('picking');
    notice('Click the map to set the ' + (what === 'tow' ? 'tow destination' : 'car location') + '.', '');
  }
  document.getElementById('pick-location').addEventListener('click', () => pick('location'));
  document.getElementById('pick-tow').addEventListener('click', () => pick('tow'));
  map.on('click', (e) => {
    const intakeOpen = document.getElementById('tab-intake').classList.contains('active');
    if (!state.picking && !intakeOpen) return;
    const what = state.picking || 'location';
    const lon = e.latlng.lng.toFixed(6);
    const lat = e.latlng.lat.toFixed(6);
    if (what === 'tow') { form.tow_lon.value = lon; form.tow_lat.value = lat; } else {
      form.lon.value = lon; form.lat.value = lat; form.crs.value = 'wgs84';
    }
    pickLayer.clearLayers();
    L.marker(e.latlng, { icon: L.divIcon({ html: el('div', { className: 'pick-marker' }), className: '', iconSize: [14, 14], iconAnchor: [7, 7] }), interactive: false }).addTo(pickLayer);
    state.picking = null;
    document.body.classList.remove('picking');
  });

  function number(text) { const v = Number(text); return text.trim() !== '' && Number.isFinite(v) ? v : text; }

  function intakePayload() {
    const f = form;
    const data = {
      caller: { name: f.caller_name.value, phone: f.caller_phone.value },
      vehicle: { plate: f.plate.value, model: f.model.value, colour: f.colour.value },
      member: f.member.checked,
      location: [number(f.lon.value), number(f.lat.value)],
      crs: f.crs.value,
      landmarks: f.landmarks.value,
      fault_symptoms: f.fault_symptoms.value,
      fault_category: f.fault_category.value,
      customer_need: f.customer_need.value,
      accident: f.accident.checked,
    };
    if (f.caller_gender.value) data.caller.gender = f.caller_gender.value;
    if (f.member_card.value) data.member_card = f.member_card.value;
    if (f.customer_details.value) data.customer_details = f.customer_details.value;
    if (f.on_highway.value) data.on_highway = f.on_highway.value === 'true';
    if (f.tow_lon.value || f.tow_lat.value) data.tow_destination = [number(f.tow_lon.value), number(f.tow_lat.value)];
    if (f.tow_destination_name.value) data.tow_destination_name = f.tow_destination_name.value;
    if (f.insurer.value) data.insurer = f.insurer.value;
    return data;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const button = document.getElementById('intake-submit');
    button.disabled = true;
    socket.timeout(20000).emit('intake', intakePayload(), (err, answer) => {
      button.disabled = false;
      const box = clear(document.getElementById('intake-result'));
      if (err) { notice('intake: no answer from the server', 'error'); return; }
      if (!answer.ok) {
        box.append(el('p', { className: 'notice error', id: 'intake-error' }, 'Not registered: ' + errorText(answer.error)));
        return;
      }
      upsertJob(answer.job);
      renderLists();
      state.lastIntake = answer.job.id;
      renderIntakeResult(box, answer.job, answer.proposal);
    });
  });

  function renderIntakeResult(box, job, proposal) {
    const q = job.quote;
    box.append(el('h3', { id: 'intake-job' }, 'Job ' + job.id + ' registered'));
    box.append(el('div', { id: 'triage' }, 'Triage: needs a ', el('strong', {}, job.required_kind === 'flatbed' ? 'flatbed tow truck 清障车' : 'service vehicle 维修服务车'),
      ' · ' + job.fault_category.replace(/_/g, ' ') + ' · ' + (job.placement ? job.placement.zone.replace(/_/g, ' ') + (job.placement.on_highway ? ' · on a highway' : '') + ' · ' + job.placement.road_name : '')));
    if (job.tow_destination_name) box.append(el('div', {}, 'Tow to ' + job.tow_destination_name + (job.tow_km !== null ? ' · ' + job.tow_km + ' road km' : '')));
    box.append(el('h3', {}, 'Quote 报价'));
    box.append(el('table', { id: 'quote-items' },
      q.items.map((i) => el('tr', {}, el('td', {}, i.label), el('td', { className: 'num' }, yuan(i.fee_yuan)))),
      el('tr', {}, el('th', {}, 'Total'), el('th', { className: 'num', id: 'quote-total' }, yuan(q.total_yuan)))));
    for (const n of q.notices) box.append(el('div', { className: 'small' }, n));
    if (q.join_offer) box.append(el('div', { className: 'small' }, 'Join now: ' + yuan(q.join_offer.membership_yuan) + ' membership, then this service costs ' + yuan(q.join_offer.member_total_yuan)));
    box.append(el('div', { className: 'script', id: 'quote-script' }, q.script_zh, el('br'), q.script_en));
    renderProposal(box, job, proposal);
  }

  // The ranked trucks for a received job; `stale` (a refused dispatch's error) shows why the
  // proposal confirmed before was out of date, above the fresh one, to confirm again.
  function renderProposal(box, job, proposal, stale) {
    const old = box.querySelector('.proposal');
    if (old) old.remove();
    const part = el('div', { className: 'proposal', id: 'proposal' });
    part.append(el('h3', {}, stale ? 'Fresh proposal 最新派车建议' : 'Proposed truck 派车建议'));
    if (stale) {
      part.append(el('p', { className: 'notice error', id: 'stale-proposal' },
        '派车建议已过时，请核对新的建议后再次确认。 ' + (stale.message || 'The proposal was out of date: confirm again.')));
    }
    const best = proposal.best;
    if (!best) {
      part.append(el('p', {}, statusBadge('late'), ' No suitable truck: ' + reasonsText(proposal)));
    } else {
      part.append(el('p', { id: 'proposal-best' }, el('strong', {}, best.truck), ' (' + best.kind + ') · ETA ' + best.eta_min + ' min'
        + (proposal.estimated ? ' (估算 estimated)' : '') + ' · ', statusBadge(best.status),
        reasonsText(best) ? ' · ' + reasonsText(best) : ''));
    }
    if (proposal.reasons && proposal.reasons.includes('not_dispatched') && proposal.status === 'on_time') {
      part.append(el('p', { className: 'small' }, 'The call has waited too long for a truck: ' + REASONS.not_dispatched + '.'));
    }
    part.append(el('div', { className: 'script', id: 'proposal-script' }, proposal.script_zh, el('br'), proposal.script_en));
    if (proposal.candidates.length) {
      part.append(el('table', { id: 'alternatives' }, el('tr', {}, el('th', {}, 'Truck'), el('th', {}, 'ETA'), el('th', {}, 'Promise'), el('th', {})),
        proposal.candidates.map((c) => el('tr', {},
          el('td', {}, c.truck + ' ' + c.kind), el('td', {}, c.eta_min + ' min' + (c.wait_s > 0 ? ' (busy ' + Math.ceil(c.wait_s / 60) + ' min)' : '')),
          el('td', {}, statusBadge(c.status)),
          el('td', {}, el('button', { className: 'small', onclick: () => confirmDispatch(job.id, c, part) }, 'Dispatch'))))));
    }
    if (best) {
      const label = (stale ? 'Confirm again 再次确认: dispatch ' : 'Confirm: dispatch ') + best.truck;
      part.append(el('button', { className: 'primary', id: 'confirm-dispatch', onclick: () => confirmDispatch(job.id, best, part) }, label));
    }
    box.append(part);
  }

  // Confirm a truck of a proposal, sending what the dispatcher saw for it (arrival, promise
  // status): if it got worse meanwhile the server refuses with the fresh proposal, shown here.
  function confirmDispatch(jobId, candidate, part) {
    const job = state.jobs.get(jobId);
    const payload = { job_id: jobId, truck_id: candidate.truck, version: job ? job.version : undefined };
    if (candidate.eta_at_s !== null && candidate.eta_at_s !== undefined) payload.eta_at_s = candidate.eta_at_s;
    if (candidate.status) payload.status = candidate.status;
    command('dispatch', payload, () => {
      part.append(el('p', { className: 'notice ok', id: 'dispatched' }, jobId + ' dispatched to ' + candidate.truck));
      const button = part.querySelector('#confirm-dispatch');
      if (button) button.disabled = true;
    }, (error) => {
      const box = part.parentNode;
      if (!error.proposal || !box) return;
      renderProposal(box, state.jobs.get(jobId) || job || { id: jobId }, error.proposal, error);
    });
  }

  // ------------------------------------------------------------------ socket
  const socket = io({ transports: ['websocket', 'polling'] });
  const conn = document.getElementById('conn');
  document.getElementById('user').textContent = cfg.user;

  socket.on('connect', () => { conn.textContent = 'live'; conn.className = 'conn online'; });
  socket.on('disconnect', () => { conn.textContent = 'offline'; conn.className = 'conn offline'; });
  socket.on('connect_error', (err) => {
    conn.textContent = 'offline'; conn.className = 'conn offline';
    if (err && /login/.test(err.message || '')) window.location.href = '/login';
  });

  function setClock(nowS, speed) {
    state.clock = { now_s: nowS, at_ms: Date.now(), speed: speed || state.clock.speed };
  }

  socket.on('state', (s) => {
    setClock(s.now_s, s.speed);
    document.getElementById('clock').textContent = clockText(simNow());
    document.getElementById('band').textContent = s.band.replace('_', ' ');
    document.getElementById('speed').textContent = s.speed !== 1 ? 'simulation ×' + s.speed : (cfg.sim ? 'simulation' : '');
    state.trucks.clear();
    for (const t of s.trucks) upsertTruck(t);
    for (const id of [...routeLines.keys()]) if (!state.trucks.has(id)) refreshRoute({ id });
    const ids = new Set(s.jobs.map((j) => j.id));
    for (const id of [...state.jobs.keys()]) if (!ids.has(id)) removeJob(id);
    for (const j of s.jobs) { state.jobs.delete(j.id); upsertJob(j); }
    state.alerts.clear();
    for (const a of s.alerts) state.alerts.set(a.job_id, a);
    refreshTruckMarkers();
    renderLists();
    if (!state.fitted && truckMarkers.size) {
      const points = [...state.trucks.values()].map((t) => latlng(t.position)).concat([...state.jobs.values()].map((j) => latlng(j.location)));
      map.fitBounds(L.latLngBounds(points).pad(0.05));
      state.fitted = true;
    }
  });

  socket.on('truck_positions', (batch) => {
    setClock(batch.now_s);
    for (const [id, lon, lat] of batch.trucks) {
      const truck = state.trucks.get(id);
      if (truck) truck.position = [lon, lat];
    }
    refreshTruckMarkers();
  });

  socket.on('truck_updated', (truck) => {
    upsertTruck(truck);
    refreshTruckMarkers();
    renderTrucks();
  });

  socket.on('job_updated', (job) => {
    upsertJob(job);
    renderJobs();
    renderAlerts();
  });

  socket.on('promise_alert', (alert) => {
    state.alerts.set(alert.job_id, alert);
    renderAlerts();
  });

  socket.on('error', (e) => {  // the acknowledgement carries the same error
    lastError = e;
    notice('Refused: ' + errorText(e), 'error');
  });

  // ------------------------------------------------------------------ once a second
  setInterval(() => {
    document.getElementById('clock').textContent = clockText(simNow());
    for (const job of state.jobs.values()) {
      const marker = jobMarkers.get(job.id);
      const node = marker && marker.getElement && marker.getElement();
      const span = node && node.querySelector('.countdown');
      if (span) span.textContent = countdownText(job);
    }
    for (const span of document.querySelectorAll('#jobs-list .countdown')) {
      const job = state.jobs.get(span.parentNode.dataset.jobId);
      if (job) span.textContent = countdownText(job);
    }
  }, 1000);

  window.rescueMap = { lastError: () => lastError, state, map, socket, truckMarkers, jobMarkers, roads: roadsLayer, rings: ringsLayer };
})();
