/* rescue-dispatch live map: a console a dispatcher works a shift in.
 *
 * Pushed state over Socket.IO (no polling). Markers and list rows are kept in Maps keyed by
 * id so an update changes them in place (clicks never miss a redrawn row); markers cluster at
 * low zoom. Every text a person reads comes from the catalogue (t(), label() in i18n.js) and
 * goes into the page with textContent (el() below), never innerHTML.
 */
(function () {
  'use strict';

  const cfg = JSON.parse(document.getElementById('page-config').textContent);
  const { t, label } = window;
  const lang = window.pageLanguage;
  const MOVABLE = new Set(['received', 'assigned', 'en_route']);
  const FINAL = new Set(['closed', 'cancelled']);
  const CLUSTER_UNTIL_ZOOM = 13;  // markers stand alone from this zoom on

  const state = {
    trucks: new Map(), jobs: new Map(), alerts: new Map(),
    clock: { now_s: Date.now() / 1000, at_ms: Date.now(), speed: cfg.speed || 1 },
    fitted: false, selectedJob: null, picking: null, undoReplan: false,
    alertsSounded: 0, zones: null, lastIntake: null, baseReady: false,
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
  function byId(id) { return document.getElementById(id); }
  function simNow() { return state.clock.now_s + (Date.now() - state.clock.at_ms) / 1000 * state.clock.speed; }
  const timeFmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  function clockText(epochS) { return epochS ? timeFmt.format(new Date(epochS * 1000)) : '—'; }
  function mmss(seconds) {
    const sign = seconds < 0 ? '-' : '';
    const s = Math.abs(Math.round(seconds));
    return sign + Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  function latlng(lonlat) { return [lonlat[1], lonlat[0]]; }
  function yuan(v) { return t('{amount} yuan', { amount: Math.round(v * 100) / 100 }); }
  function inLanguage(zh, en) { return lang === 'zh' ? zh : en; }
  // The caller script in the dispatcher's language, the other language below it.
  function script(zh, en, id) {
    const [first, second] = lang === 'zh' ? [zh, en] : [en, zh];
    return el('div', { className: 'script', id }, first, second ? el('div', { className: 'other-language' }, second) : null);
  }
  function reasonsText(check) {
    const reasons = check.reasons && check.reasons.length ? check.reasons : (check.reason ? [check.reason] : []);
    return reasons.map((r) => label('reason', r)).join(t('; '));
  }
  function alerting(promise) {
    return !!promise && (promise.alerting !== undefined ? promise.alerting : promise.status !== 'on_time');
  }

  let noticeTimer = null;
  let lastError = null;  // the latest `error` event
  function errorText(e) {
    const what = e.field ? e.field + (e.value !== null && e.value !== undefined ? ' = ' + JSON.stringify(e.value) : '') : '';
    return (what ? '(' + what + ') ' : '') + (e.message || t('unknown error'));
  }
  function notice(text, kind) {
    const box = byId('notice');
    box.textContent = text;
    box.className = 'notice ' + (kind || '');
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => box.classList.add('hidden'), kind === 'error' ? 15000 : 6000);
  }
  function clearNotice() { clearTimeout(noticeTimer); byId('notice').className = 'notice hidden'; }

  // ------------------------------------------------------------------ map and layers
  const map = L.map('map', { preferCanvas: true, minZoom: 8, maxZoom: 19, zoomControl: false }).setView([39.91, 116.40], 11);
  L.control.zoom({ zoomInTitle: t('Zoom in'), zoomOutTitle: t('Zoom out') }).addTo(map);
  map.createPane('routes').style.zIndex = 420;
  map.getPane('routes').style.pointerEvents = 'none';  // route lines never take the map's clicks
  const routeCanvas = L.canvas({ pane: 'routes', padding: 0.3 });
  const base = window.RescueBasemap.create(map, { attribution: cfg.attribution, t });
  base.ready.then(() => { state.baseReady = true; });
  const shopsLayer = L.layerGroup().addTo(map);
  const routesLayer = L.layerGroup().addTo(map);
  function clusterGroup(kind) {
    return L.markerClusterGroup({
      disableClusteringAtZoom: CLUSTER_UNTIL_ZOOM, maxClusterRadius: 45, showCoverageOnHover: false,
      spiderfyOnMaxZoom: false, removeOutsideVisibleBounds: true,
      iconCreateFunction: (cluster) => L.divIcon({
        html: el('div', { className: 'cluster-icon cluster-' + kind }, String(cluster.getChildCount())),
        className: 'cluster-marker', iconSize: [30, 30],
      }),
    }).addTo(map);
  }
  const trucksLayer = clusterGroup('trucks');
  const jobsLayer = clusterGroup('jobs');
  const pickLayer = L.layerGroup().addTo(map);
  const searchLayer = L.layerGroup().addTo(map);
  base.control.addOverlay(shopsLayer, t('Repair shops'));
  base.control.addOverlay(routesLayer, t('Truck routes'));
  base.control.addOverlay(trucksLayer, t('Trucks'));
  base.control.addOverlay(jobsLayer, t('Jobs'));
  L.control.scale({ imperial: false }).addTo(map);
  const layersToggle = base.control.getContainer().querySelector('.leaflet-control-layers-toggle');
  layersToggle.title = t('Map layers');
  layersToggle.setAttribute('aria-label', t('Map layers'));

  fetch('/api/shops.geojson', { credentials: 'same-origin' }).then((r) => r.json()).then((data) => {
    for (const f of data.features) {
      const icon = L.divIcon({ html: el('div', { className: 'shop-icon' }), className: 'shop-marker', iconSize: [12, 12], iconAnchor: [6, 6] });
      L.marker(latlng(f.geometry.coordinates), { icon, interactive: true, keyboard: false })
        .bindTooltip(inLanguage(f.properties.name, f.properties.name_en || f.properties.name)).addTo(shopsLayer);
    }
  }).catch(() => notice(t('Could not load the repair shops.'), 'error'));

  // Zones for the fleet summary: the 5th and 6th ring polygons (SERVICE_RULES §5 zones).
  fetch('/api/rings.geojson', { credentials: 'same-origin' }).then((r) => r.json()).then((data) => {
    const ring = (n) => data.features.find((f) => (f.properties['name:en'] || '').startsWith(n));
    const fifth = ring('5th');
    const sixth = ring('6th');
    state.zones = { fifth: fifth && fifth.geometry.coordinates[0], sixth: sixth && sixth.geometry.coordinates[0] };
    renderFleet();
  }).catch(() => {});
  function insidePolygon(point, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > point[1]) !== (yj > point[1]) && point[0] < (xj - xi) * (point[1] - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function zoneOf(lonlat) {
    if (!state.zones || !state.zones.fifth) return null;
    if (insidePolygon(lonlat, state.zones.fifth)) return 'inside_5th_ring';
    if (state.zones.sixth && insidePolygon(lonlat, state.zones.sixth)) return 'between_5th_and_6th_ring';
    return 'outside_6th_ring';
  }

  // ------------------------------------------------------------------ trucks
  const truckMarkers = new Map();
  const routeLines = new Map();

  // What the truck is doing, truly: an idle truck with work queued is assigned, not free.
  function truckStatus(truck) {
    if (truck.state === 'idle' && truck.queue.length) return 'assigned';
    return truck.state;
  }
  function truckStatusText(truck) {
    const status = truckStatus(truck);
    return status === 'assigned' ? t('assigned, not yet moving') : label('truck_state', status);
  }
  function isFree(truck) { return truckStatus(truck) === 'idle'; }

  function truckElement(truck) {
    const node = el('div', {
      className: 'truck-icon kind-' + truck.kind + ' state-' + truckStatus(truck),
      dataset: { truckId: truck.id },
      title: truck.id + ' · ' + label('kind', truck.kind) + ' · ' + truckStatusText(truck),
    }, el('span', { className: 'glyph' }, truck.kind === 'flatbed' ? t('F') : t('S')), el('span', {}, truck.id));
    acceptDrops(node, truck.id);
    return node;
  }

  function truckIcon(truck, slot) {
    return L.divIcon({ html: truckElement(truck), className: 'truck-marker', iconSize: [52, 20], iconAnchor: [26, 10 - slot * 23] });
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
      const look = truck.kind + truckStatus(truck) + slot;
      if (!marker) {
        marker = L.marker(latlng(truck.position), { icon: truckIcon(truck, slot), zIndexOffset: 500, keyboard: false });
        marker.look = look;
        marker.bindTooltip(() => truckTooltip(state.trucks.get(truck.id)));
        marker.on('click', (e) => {
          if (state.picking || intakeOpen()) { setPicked(e.latlng); return; }  // the map's click, really
          showTab('trucks');
          highlightTruck(truck.id);
        });
        truckMarkers.set(truck.id, marker);
        trucksLayer.addLayer(marker);
      } else {
        const [lat, lon] = latlng(truck.position);
        const at = marker.getLatLng();
        if (at.lat !== lat || at.lng !== lon) marker.setLatLng([lat, lon]);
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
      label('kind', truck.kind) + ' · ' + truckStatusText(truck), el('br'),
      t('crew: {names}', { names: (truck.crew || []).join(t(', ')) }), el('br'),
      truck.queue.length ? t('work: {jobs}', { jobs: truck.queue.join(t(', ')) }) : t('no work'));
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

  function converting(job) {
    return !!job.promise && (job.promise.reasons || []).includes('converted_to_tow')
      && !['towing', 'delivered'].includes(job.state);
  }
  // The job's badge: the promise while the truck is on its way, then kept or broken.
  function jobBadge(job) {
    if (job.arrived_at_s && !converting(job)) {
      return job.promise_kept
        ? { cls: 'on_time', text: '✓ ' + t('arrived in time') }
        : { cls: 'late', text: '✗ ' + t('arrived late') };
    }
    if (job.promise) return { cls: job.promise.status, text: label('status', job.promise.status) };
    return { cls: 'none', text: label('job_state', job.state) };
  }
  function badgeElement(badge) { return el('span', { className: 'status ' + badge.cls }, badge.text); }

  function countdownText(job) {
    if (job.arrived_at_s && !converting(job)) return job.promise_kept ? '✓' : '✗';
    return mmss(job.deadline_s - simNow());
  }
  function waitingText(job) { return t('waiting {time}', { time: mmss(simNow() - job.created_at_s) }); }

  function jobElement(job) {
    return el('div', {
      className: 'job-icon status-' + jobBadge(job).cls + ' state-' + job.state,
      dataset: { jobId: job.id },
    }, el('div', { className: 'pin' }, job.id + ' ', el('span', { className: 'countdown' }, countdownText(job))), el('div', { className: 'stem' }));
  }

  function jobIcon(job) {
    return L.divIcon({ html: jobElement(job), className: 'job-marker', iconSize: [70, 26], iconAnchor: [35, 26] });
  }

  function upsertJob(job) {
    const known = state.jobs.get(job.id);
    if (known && known.version > job.version) return;  // an older update arrived late
    if (FINAL.has(job.state)) { removeJob(job.id); return; }  // its record stays on the server
    state.jobs.set(job.id, job);
    if (!job.location) return;
    let marker = jobMarkers.get(job.id);
    const look = jobBadge(job).cls + job.state + (job.arrived_at_s ? 'a' : '');
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
      jobsLayer.addLayer(marker);
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
    if (state.selectedJob === id) closeDetail();
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
    if (!truckId) { notice(t('Drop the job on a truck to move it ({job} not moved).', { job: jobId }), 'error'); return; }
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
    if (!job) { notice(t('Job {job} is no longer open.', { job: jobId }), 'error'); return; }
    if (job.truck_id === truckId) { notice(t('{job} is already on {truck}.', { job: jobId, truck: truckId }), ''); return; }
    const event = job.state === 'received' ? 'dispatch' : 'reassign';
    command(event, { job_id: jobId, truck_id: truckId, version: job.version }, () => notice(event === 'dispatch'
      ? t('{job} → {truck} (dispatched)', { job: jobId, truck: truckId })
      : t('{job} → {truck} (reassigned)', { job: jobId, truck: truckId }), 'ok'));
  }

  // ------------------------------------------------------------------ commands
  // onRefused(error) is called after the refusal notice (e.g. a stale proposal's fresh one).
  function command(event, payload, onOk, onRefused) {
    socket.timeout(20000).emit(event, payload, (err, answer) => {
      if (err) { notice(t('{event}: no answer from the server', { event }), 'error'); return; }
      if (!answer || !answer.ok) {
        const error = (answer && answer.error) || {};
        if (onRefused && onRefused(error) === 'shown') return;
        notice(t('Refused: {reason}', { reason: errorText(error) }), 'error');
        return;
      }
      if (answer.job) { upsertJob(answer.job); renderLists(); }
      if (onOk) onOk(answer);
    });
  }

  // ------------------------------------------------------------------ re-plan: preview, apply, undo
  const replanDialog = byId('replan-dialog');
  let preview = null;
  byId('replan-all').addEventListener('click', (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    command('replan', { preview: true }, (answer) => { button.disabled = false; showPreview(answer); },
      () => { button.disabled = false; });
  });

  function showPreview(answer) {
    preview = answer;
    const summary = clear(byId('replan-summary'));
    summary.append(el('p', {}, t('Solved in {seconds} s: {moved} job(s) change, promises predicted broken {before} → {after}.', {
      seconds: answer.solve_s, moved: answer.changes.length, before: answer.broken_promises_before, after: answer.broken_promises,
    })));
    if (!answer.improved) summary.append(el('p', { className: 'notice' }, t('No improvement on the current plan: nothing to apply.')));
    const table = clear(byId('replan-changes'));
    table.append(el('tr', {}, el('th', {}, t('Job')), el('th', {}, t('Truck')), el('th', {}, t('Arrival')), el('th', {}, t('Promise'))));
    for (const c of answer.changes) {
      table.append(el('tr', { dataset: { jobId: c.job_id } },
        el('td', {}, c.job_id),
        el('td', {}, (c.truck_before || t('none')) + ' → ' + (c.truck_after || t('none'))),
        el('td', {}, clockText(c.eta_before_s) + ' → ' + clockText(c.eta_after_s)),
        el('td', {}, badgeElement({ cls: c.status_before || 'none', text: label('status', c.status_before) }), ' → ',
          badgeElement({ cls: c.status_after || 'none', text: label('status', c.status_after) }))));
    }
    byId('replan-apply').disabled = !answer.improved || !answer.changes.length;
    replanDialog.showModal();
    (byId('replan-apply').disabled ? byId('replan-discard') : byId('replan-apply')).focus();
  }

  byId('replan-apply').addEventListener('click', () => {
    if (!preview) return;
    const plan = preview;
    command('replan_apply', { plan_id: plan.plan_id }, (answer) => {
      replanDialog.close();
      preview = null;
      const moved = answer.moved || plan.changes.map((c) => c.job_id);
      notice(t('Re-plan applied: {jobs} moved; promises predicted broken {before} → {after}.', {
        jobs: moved.join(t(', ')) || t('none'), before: answer.broken_promises_before, after: answer.broken_promises,
      }), 'ok');
      setUndo(true);
    }, (error) => {
      byId('replan-summary').prepend(el('p', { className: 'notice error', id: 'replan-error' }, errorText(error)));
      byId('replan-apply').disabled = true;
      return 'shown';
    });
  });
  function discardPreview() {
    if (preview) socket.emit('replan_discard', { plan_id: preview.plan_id }, () => {});
    preview = null;
    if (replanDialog.open) replanDialog.close();
  }
  byId('replan-discard').addEventListener('click', discardPreview);
  replanDialog.addEventListener('cancel', () => { preview && socket.emit('replan_discard', { plan_id: preview.plan_id }, () => {}); preview = null; });

  function setUndo(available) { state.undoReplan = available; byId('replan-undo').classList.toggle('hidden', !available); }
  byId('replan-undo').addEventListener('click', () => {
    command('replan_undo', {}, (answer) => {
      setUndo(false);
      notice(t('Re-plan undone: {jobs} back on their trucks.', { jobs: (answer.moved || []).join(t(', ')) || t('none') }), 'ok');
    }, () => { setUndo(false); });
  });

  // ------------------------------------------------------------------ cancel with a reason
  const cancelDialog = byId('cancel-dialog');
  const cancelForm = byId('cancel-form');
  let cancelling = null;
  function askCancel(job) {
    cancelling = job.id;
    cancelForm.reset();
    byId('cancel-error').classList.add('hidden');
    byId('cancel-title').textContent = t('Cancel job {job}?', { job: job.id });
    cancelDialog.showModal();
    cancelForm.querySelector('input[name=reason]').focus();
  }
  cancelForm.addEventListener('submit', (e) => {
    const confirm = e.submitter && e.submitter.value === 'confirm';
    if (!confirm) { cancelling = null; return; }  // "keep the job": the dialog closes
    e.preventDefault();
    const reason = (cancelForm.querySelector('input[name=reason]:checked') || {}).value;
    const note = cancelForm.note.value.trim();
    const fail = (text) => { const box = byId('cancel-error'); box.textContent = text; box.classList.remove('hidden'); };
    if (!reason) { fail(t('Choose a reason.')); return; }
    if (reason === 'other' && !note) { fail(t('Say the reason in the note.')); cancelForm.note.focus(); return; }
    const job = state.jobs.get(cancelling);
    if (!job) { cancelDialog.close(); return; }
    command('cancel', { job_id: job.id, version: job.version, reason, note }, () => {
      cancelDialog.close();
      notice(t('{job} cancelled: {reason}', { job: job.id, reason: label('cancel_reason', reason) + (note ? ' · ' + note : '') }), 'ok');
    }, (error) => { fail(errorText(error)); return 'shown'; });
  });

  // ------------------------------------------------------------------ side panel
  function showTab(name) {
    for (const b of document.querySelectorAll('.tabs button')) b.classList.toggle('active', b.dataset.tab === name);
    for (const s of document.querySelectorAll('.tab')) s.classList.toggle('active', s.id === 'tab-' + name);
  }
  function intakeOpen() { return byId('tab-intake').classList.contains('active'); }
  for (const b of document.querySelectorAll('.tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));

  function renderLists() {
    renderJobs();
    renderTrucks();
    renderAlerts();
    renderFleet();
  }

  // Calls waiting for a truck first (the longest wait on top), then the rest by deadline.
  function queueOrder(a, b) {
    const wa = a.state === 'received';
    const wb = b.state === 'received';
    if (wa !== wb) return wa ? -1 : 1;
    return wa ? a.created_at_s - b.created_at_s : a.deadline_s - b.deadline_s;
  }

  const jobRows = new Map();
  function jobRow(job) {
    let row = jobRows.get(job.id);
    if (!row) {
      row = el('li', { dataset: { jobId: job.id }, tabindex: '0', onclick: () => selectJob(job.id),
        onkeydown: (e) => { if (e.key === 'Enter') selectJob(job.id); } },
      el('span', { className: 'id' }, job.id),
      el('span', { className: 'badge-slot' }),
      el('span', { className: 'grow' }),
      el('span', { className: 'timer' }));
      row.addEventListener('dragstart', (e) => {
        e.dataTransfer.setData('text/x-job-id', job.id);
        e.dataTransfer.setData('text/plain', job.id);
        e.dataTransfer.effectAllowed = 'move';
      });
      jobRows.set(job.id, row);
    }
    const waiting = job.state === 'received';
    const badge = jobBadge(job);
    const slot = row.querySelector('.badge-slot');
    if (slot.dataset.look !== badge.cls + badge.text) {
      clear(slot).append(badgeElement(badge));
      slot.dataset.look = badge.cls + badge.text;
    }
    row.draggable = MOVABLE.has(job.state);
    row.classList.toggle('waiting', waiting);
    row.classList.toggle('overdue', waiting && state.alerts.has(job.id));
    row.classList.toggle('selected', job.id === state.selectedJob);
    row.querySelector('.grow').textContent = label('job_state', job.state) + (job.truck_id ? ' · ' + job.truck_id : '')
      + ' · ' + job.caller.name + ' · ' + label('fault', job.fault_category);
    row.querySelector('.timer').textContent = waiting ? waitingText(job) : countdownText(job);
    return row;
  }

  function renderJobs() {
    const list = byId('jobs-list');
    const jobs = [...state.jobs.values()].sort(queueOrder);
    byId('jobs-count').textContent = jobs.length;
    const waiting = jobs.filter((j) => j.state === 'received').length;
    const waitingBadge = byId('waiting-count');
    waitingBadge.textContent = t('{n} waiting', { n: waiting });
    waitingBadge.classList.toggle('hidden', waiting === 0);
    const rows = jobs.map(jobRow);
    for (const [id, row] of jobRows) if (!state.jobs.has(id)) { row.remove(); jobRows.delete(id); }
    // Move rows only where the order changed: a row under the pointer stays put.
    rows.forEach((row, i) => { if (list.children[i] !== row) list.insertBefore(row, list.children[i] || null); });
  }

  const truckRows = new Map();
  function renderTrucks() {
    const list = byId('trucks-list');
    const trucks = [...state.trucks.values()].sort((a, b) => a.id.localeCompare(b.id));
    byId('trucks-count').textContent = trucks.length;
    trucks.forEach((truck, i) => {
      let row = truckRows.get(truck.id);
      if (!row) {
        row = el('li', { dataset: { truckId: truck.id } },
          el('span', { className: 'id' }, truck.id), el('span', { className: 'status' }), el('span', { className: 'grow' }),
          el('button', { className: 'small duty', onclick: (e) => {
            e.stopPropagation();
            const now = state.trucks.get(truck.id);
            command('truck_duty', { truck_id: truck.id, on_duty: now.state === 'off_duty' });
          } }));
        row.addEventListener('click', () => { const m = truckMarkers.get(truck.id); if (m) map.panTo(m.getLatLng()); });
        acceptDrops(row, truck.id);
        truckRows.set(truck.id, row);
      }
      const status = row.querySelector('.status');
      status.className = 'status state-' + truckStatus(truck);
      status.textContent = truckStatusText(truck);
      row.querySelector('.grow').textContent = label('kind', truck.kind) + ' · ' + truck.plate + (truck.queue.length ? ' · ' + truck.queue.join(t(', ')) : '');
      row.querySelector('.duty').textContent = truck.state === 'off_duty' ? t('Put on duty') : t('Take off duty');
      if (list.children[i] !== row) list.insertBefore(row, list.children[i] || null);
    });
    for (const [id, row] of truckRows) if (!state.trucks.has(id)) { row.remove(); truckRows.delete(id); }
  }

  function highlightTruck(id) {
    const row = truckRows.get(id);
    if (row) { row.scrollIntoView({ block: 'center' }); row.classList.add('selected'); setTimeout(() => row.classList.remove('selected'), 2000); }
  }

  // Free trucks (on duty, no work) by kind and zone: in the top bar and the Trucks tab.
  function renderFleet() {
    const free = { service: 0, flatbed: 0 };
    const byZone = new Map();
    for (const truck of state.trucks.values()) {
      if (!isFree(truck)) continue;
      free[truck.kind] = (free[truck.kind] || 0) + 1;
      const zone = zoneOf(truck.position) || 'unknown';
      const counts = byZone.get(zone) || { service: 0, flatbed: 0 };
      counts[truck.kind] = (counts[truck.kind] || 0) + 1;
      byZone.set(zone, counts);
    }
    const summary = byId('fleet-summary');
    summary.textContent = t('Free: {service} service, {flatbed} flatbed', free);
    summary.classList.toggle('short', free.service === 0 || free.flatbed === 0);
    const table = el('table', { id: 'fleet-zones', className: 'fleet-zones' },
      el('tr', {}, el('th', {}, t('Zone')), el('th', {}, label('kind', 'service')), el('th', {}, label('kind', 'flatbed'))),
      ['inside_5th_ring', 'between_5th_and_6th_ring', 'outside_6th_ring'].map((zone) => {
        const counts = byZone.get(zone) || { service: 0, flatbed: 0 };
        return el('tr', {}, el('td', {}, label('zone', zone)), el('td', { className: 'num' }, counts.service), el('td', { className: 'num' }, counts.flatbed));
      }));
    clear(byId('fleet-table')).append(el('h3', {}, t('Free trucks by zone')), table);
  }

  // Alerts: a promise at risk or a call waiting too long. A new one sounds and flashes.
  function renderAlerts() {
    const list = clear(byId('alerts-list'));
    const alerts = [...state.alerts.values()].filter((a) => state.jobs.has(a.job_id));
    const count = byId('alerts-count');
    count.textContent = alerts.length;
    count.classList.toggle('hot', alerts.length > 0);
    for (const a of alerts.sort((x, y) => x.deadline_s - y.deadline_s)) {
      const job = state.jobs.get(a.job_id);
      const waitingTooLong = job.state === 'received';
      list.append(el('li', { dataset: { jobId: a.job_id }, tabindex: '0', onclick: () => selectJob(a.job_id) },
        el('div', { className: 'grow', style: 'white-space: normal' },
          el('div', {}, el('span', { className: 'id' }, a.job_id + ' '), badgeElement({ cls: a.status, text: label('status', a.status) }), ' ',
            waitingTooLong ? t('waiting for a truck: {time}', { time: mmss(simNow() - job.created_at_s) }) : reasonsText(a)),
          el('div', { className: 'small' }, t('Arrival {eta} · deadline {deadline}', { eta: clockText(a.eta_at_s), deadline: clockText(a.deadline_s) }) + (a.truck_id ? ' · ' + a.truck_id : '')),
          el('div', { className: 'small' }, t('Caller: {name} {phone}', { name: a.caller.name, phone: a.caller.phone })),
          script(a.script_zh, a.script_en))));
    }
  }

  let audio = null;
  function unlockAudio() {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === 'suspended') audio.resume();
  }
  document.addEventListener('pointerdown', unlockAudio);
  document.addEventListener('keydown', unlockAudio);
  function sound() {
    state.alertsSounded += 1;
    if (!audio) return;
    for (const [start, freq] of [[0, 880], [0.25, 660]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + start);
      osc.stop(audio.currentTime + start + 0.18);
    }
  }
  function raiseAlert(alert) {
    const fresh = !state.alerts.has(alert.job_id);
    state.alerts.set(alert.job_id, alert);
    if (!fresh) return;
    sound();
    const tab = document.querySelector('.tabs button[data-tab=alerts]');
    tab.classList.remove('flash');
    void tab.offsetWidth;  // restart the animation
    tab.classList.add('flash');
    const row = jobRows.get(alert.job_id);
    if (row) { row.classList.remove('flash'); void row.offsetWidth; row.classList.add('flash'); }
  }

  // ------------------------------------------------------------------ job detail, beside the list
  const detail = byId('job-detail');
  function selectJob(id) {
    state.selectedJob = id;
    showTab('jobs');
    for (const [jobId, row] of jobRows) row.classList.toggle('selected', jobId === id);
    renderJobDetail();
    detail.focus();
    const marker = jobMarkers.get(id);
    if (marker) jobsLayer.zoomToShowLayer(marker, () => {});
  }
  function closeDetail() {
    state.selectedJob = null;
    detail.classList.add('hidden');
    for (const row of jobRows.values()) row.classList.remove('selected');
  }
  detail.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDetail(); });

  function kv(rows) {
    return el('table', {}, rows.filter((r) => r[1] !== null && r[1] !== undefined && r[1] !== '').map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
  }

  function renderJobDetail() {
    const job = state.jobs.get(state.selectedJob);
    if (!job) { closeDetail(); return; }
    clear(detail).classList.remove('hidden');
    detail.append(el('div', { className: 'detail-head' },
      el('h3', {}, t('Job {job}', { job: job.id }) + ' · ' + label('job_state', job.state)),
      el('button', { className: 'small', id: 'detail-close', 'aria-label': t('Close'), onclick: closeDetail }, '×')));
    const placement = job.placement;
    detail.append(kv([
      [t('Caller'), job.caller.name + ' ' + job.caller.phone + (job.caller.gender ? ' (' + label('gender', job.caller.gender) + ')' : '')],
      [t('Vehicle'), [job.vehicle.plate, job.vehicle.model, job.vehicle.colour].filter(Boolean).join(' · ')],
      [t('Member'), job.member ? t('yes, card {card}', { card: job.member_card || '' }) : t('no') + (job.customer_details ? ' · ' + job.customer_details : '')],
      [t('Where'), (placement ? placement.road_name + ' · ' + label('zone', placement.zone) : '') + (job.landmarks ? ' · ' + job.landmarks : '')],
      [t('Fault'), label('fault', job.fault_category) + (job.fault_symptoms ? ': ' + job.fault_symptoms : '')],
      [t('Need'), job.customer_need],
      [t('Truck'), (job.truck_id || t('none')) + ' (' + t('needs a {kind}', { kind: label('kind', job.required_kind) }) + ')'],
      [t('Tow to'), job.tow_destination_name ? job.tow_destination_name + (job.tow_km ? ' · ' + t('{km} km', { km: job.tow_km }) : '') : null],
      [t('Accident'), job.accident ? t('yes') + (job.insurer_line ? ' · ' + inLanguage(job.insurer_line.name_zh, job.insurer_line.name_en) + ' ' + job.insurer_line.phone : '') : null],
      [t('Received'), clockText(job.created_at_s)],
      [t('Deadline'), clockText(job.deadline_s)],
      [t('Quote'), job.quote ? yuan(job.quote.total_yuan) : null],
    ]));
    if (job.promise) {
      detail.append(el('div', {}, badgeElement(jobBadge(job)), ' ' + t('Arrival {eta}', { eta: clockText(job.promise.eta_at_s) })
        + (job.promise.estimated ? ' (' + t('estimated: beyond the road data') + ')' : '')
        + (reasonsText(job.promise) ? ' · ' + reasonsText(job.promise) : '')));
      detail.append(script(job.promise.script_zh, job.promise.script_en));
    }
    const actions = el('div', { className: 'actions' });
    for (const next of job.allowed_next) {
      if (next === 'received' || next === 'assigned' || next === 'cancelled') continue;
      actions.append(el('button', { dataset: { advance: next }, onclick: () => command('advance', { job_id: job.id, state: next, version: job.version }) }, t('→ {state}', { state: label('job_state', next) })));
    }
    if (job.state === 'on_scene' && !job.tow_destination) {
      actions.append(el('button', { onclick: () => command('convert_to_tow', { job_id: job.id, version: job.version }) }, t('Convert to a tow')));
    }
    if (job.state === 'received') {
      actions.append(el('button', { onclick: () => command('propose', { job_id: job.id }, (a) => renderProposal(detail, job, a.proposal)) }, t('Propose a truck')));
    }
    if (job.allowed_next.includes('cancelled')) {
      actions.append(el('button', { className: 'danger', id: 'cancel-job', onclick: () => askCancel(job) }, t('Cancel…')));
    }
    detail.append(actions);
    detail.append(el('p', {}, el('a', { href: '/records/work_orders/' + encodeURIComponent(job.id), target: '_blank', rel: 'noopener', id: 'work-order-link' }, t('Rescue work order'))));
    detail.append(el('h3', {}, t('History')));
    detail.append(el('table', { className: 'history' }, job.history.map((h) => el('tr', {},
      el('td', {}, clockText(h.at_s)), el('td', {}, label('job_state', h.state)), el('td', {}, inLanguage(h.note_zh || h.note, h.note))))));
  }

  // ------------------------------------------------------------------ intake
  const form = byId('intake-form');
  const faultSelect = byId('fault-category');
  for (const kind of ['service', 'flatbed']) {
    const group = el('optgroup', { label: kind === 'service' ? t('fixed on the spot (service vehicle)') : t('needs a flatbed tow truck') });
    for (const f of cfg.faults.filter((x) => x.kind === kind)) group.append(el('option', { value: f.id }, label('fault', f.id)));
    faultSelect.append(group);
  }
  const insurerSelect = byId('insurer');
  for (const i of cfg.insurers) insurerSelect.append(el('option', { value: i.id }, inLanguage(i.name_zh, i.name_en) + ' ' + i.phone));

  function pick(what) {
    state.picking = what;
    document.body.classList.add('picking');
    notice(what === 'tow' ? t('Click the map to set the tow destination.') : t('Click the map to set the car location.'), '');
  }
  byId('pick-location').addEventListener('click', () => pick('location'));
  byId('pick-tow').addEventListener('click', () => pick('tow'));

  function setPicked(at) {
    const what = state.picking || 'location';
    const lon = at.lng.toFixed(6);
    const lat = at.lat.toFixed(6);
    if (what === 'tow') { form.tow_lon.value = lon; form.tow_lat.value = lat; } else {
      form.lon.value = lon; form.lat.value = lat; form.crs.value = 'wgs84';
      pickLayer.clearLayers();
      L.marker(at, { icon: L.divIcon({ html: el('div', { className: 'pick-marker' }), className: '', iconSize: [14, 14], iconAnchor: [7, 7] }), interactive: false }).addTo(pickLayer);
    }
    state.picking = null;
    document.body.classList.remove('picking');
  }
  map.on('click', (e) => { if (state.picking || intakeOpen()) setPicked(e.latlng); });

  // Place search: roads, crossings, partial names, pinyin (GET /api/places).
  const search = byId('place-search');
  const results = byId('place-results');
  let found = [];
  let active = -1;
  let searchTimer = null;
  let searchSeq = 0;
  function closeResults() { results.classList.add('hidden'); search.setAttribute('aria-expanded', 'false'); active = -1; }
  function highlight(i) {
    active = i;
    [...results.children].forEach((li, k) => li.setAttribute('aria-selected', String(k === i)));
    if (results.children[i]) { results.children[i].scrollIntoView({ block: 'nearest' }); search.setAttribute('aria-activedescendant', results.children[i].id); }
  }
  function choosePlace(i) {
    const place = found[i];
    if (!place) return;
    const at = L.latLng(place.lonlat[1], place.lonlat[0]);
    state.picking = 'location';
    setPicked(at);
    if (!form.landmarks.value) form.landmarks.value = place.name;
    search.value = place.name;
    closeResults();
    searchLayer.clearLayers();
    map.setView(at, Math.max(map.getZoom(), 15));
    form.caller_name.focus();
  }
  function showResults(answer) {
    found = answer.results;
    clear(results);
    searchLayer.clearLayers();
    if (!found.length) {
      results.append(el('li', { className: 'empty' }, t('No road or crossing matches “{query}”.', { query: answer.query })));
    }
    found.forEach((place, i) => {
      results.append(el('li', { id: 'place-' + i, role: 'option', dataset: { index: i }, onmousedown: (e) => { e.preventDefault(); choosePlace(i); } },
        el('span', { className: 'place-number' }, String(i + 1)),
        el('span', { className: 'place-name' }, place.name),
        el('span', { className: 'muted small' }, ' ' + (place.kind === 'crossing' ? t('crossing') : t('road')) + (place.zone ? ' · ' + label('zone', place.zone) : ''))));
      const icon = L.divIcon({ html: el('div', { className: 'search-pin' }, String(i + 1)), className: 'search-marker', iconSize: [20, 20], iconAnchor: [10, 10] });
      L.marker(latlng(place.lonlat), { icon, keyboard: false }).on('click', () => choosePlace(i)).addTo(searchLayer);
    });
    results.classList.remove('hidden');
    search.setAttribute('aria-expanded', 'true');
    if (found.length) {
      highlight(0);
      map.fitBounds(L.latLngBounds(found.map((p) => latlng(p.lonlat))).pad(0.3), { maxZoom: 15 });
    }
  }
  function runSearch() {
    const query = search.value.trim();
    if (!query) { closeResults(); searchLayer.clearLayers(); return; }
    const seq = ++searchSeq;
    fetch('/api/places?q=' + encodeURIComponent(query) + '&limit=8', { credentials: 'same-origin' })
      .then((r) => r.json())
      .then((answer) => {
        if (seq !== searchSeq) return;  // a newer query is under way
        if (answer.ok === false) { notice(t('Refused: {reason}', { reason: errorText(answer.error) }), 'error'); return; }
        showResults(answer);
      })
      .catch(() => notice(t('Place search failed.'), 'error'));
  }
  search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 150); });
  search.addEventListener('keydown', (e) => {
    const open = !results.classList.contains('hidden') && found.length;
    if (e.key === 'ArrowDown' && open) { e.preventDefault(); highlight(Math.min(active + 1, found.length - 1)); }
    else if (e.key === 'ArrowUp' && open) { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (e.key === 'Enter') {
      e.preventDefault();  // never submits the form
      if (open && active >= 0) choosePlace(active); else { clearTimeout(searchTimer); runSearch(); }
    } else if (e.key === 'Escape') closeResults();
  });
  search.addEventListener('blur', () => setTimeout(closeResults, 150));

  // ------------------------------------------------------------------ member card check
  // While the dispatcher types the card (and the plate), the register's answer shows beside
  // the field: valid / expired / unknown / plate not on card, with the line to say
  // (GET /api/members/check). "Join now" makes the call a member's (join_now): the fee is
  // taken and the card enrolled when the call is registered.
  const memberCheck = { joinNow: false, timer: null, seq: 0, status: null };
  const checkBox = byId('member-check');
  const joinButton = byId('join-now');
  const joinNote = byId('join-now-note');
  const CARD_STATUS = {
    valid: () => t('Card valid'),
    expired: () => t('Card expired'),
    unknown: () => t('Card not in the register'),
    plate_not_on_card: () => t('Plate not on this card'),
  };
  function setJoinNow(on) {
    memberCheck.joinNow = on;
    joinButton.setAttribute('aria-pressed', String(on));
    joinNote.hidden = !on;
    clear(joinNote);
    if (on) {
      form.member.checked = true;
      const card = form.member_card.value.trim();
      joinNote.append(card
        ? t('Joining now with card {card}: {fee} yuan membership, effective at once; member prices apply.', { card, fee: joinButton.dataset.fee })
        : t('Joining now: a card number is issued when the call is registered; {fee} yuan membership, effective at once; member prices apply.', { fee: joinButton.dataset.fee }));
    }
  }
  function showCheck(answer) {
    clear(checkBox);
    memberCheck.status = answer ? answer.status : null;
    if (!answer) return;
    const label = (CARD_STATUS[answer.status] || (() => answer.status))();
    checkBox.dataset.status = answer.status;
    const who = answer.name ? ' ' + t('{name}, valid until {valid_to}', { name: answer.name, valid_to: answer.valid_to }) : '';
    checkBox.append(el('span', { className: 'card-status ' + answer.status, id: 'card-status' }, label), who);
    checkBox.append(script(answer.script_zh, answer.script_en, 'card-script'));
    // A card valid today is a member's: no joining with it (clear the card to issue a new one).
    joinButton.disabled = answer.status === 'valid' || answer.status === 'plate_not_on_card';
    if (answer.status === 'valid') form.member.checked = true;  // the register says so
    if (joinButton.disabled && memberCheck.joinNow) setJoinNow(false);
  }
  function runCheck() {
    const card = form.member_card.value.trim();
    const seq = ++memberCheck.seq;
    if (!card) {
      showCheck(null);
      delete checkBox.dataset.status;
      joinButton.disabled = false;
      if (memberCheck.joinNow) setJoinNow(true);  // now: a card is issued
      return;
    }
    const plate = form.plate.value.trim();
    fetch('/api/members/check?card=' + encodeURIComponent(card) + (plate ? '&plate=' + encodeURIComponent(plate) : ''), { credentials: 'same-origin' })
      .then((r) => r.json())
      .then((answer) => {
        if (seq !== memberCheck.seq) return;  // a newer check is under way
        if (answer.ok === false) {
          clear(checkBox);
          memberCheck.status = null;
          delete checkBox.dataset.status;
          checkBox.append(el('span', { className: 'muted' }, errorText(answer.error)));
          joinButton.disabled = false;
          return;
        }
        showCheck(answer);
        if (memberCheck.joinNow) setJoinNow(true);  // the note names the card typed
      })
      .catch(() => { if (seq === memberCheck.seq) { clear(checkBox); checkBox.append(el('span', { className: 'muted' }, t('Card check failed.'))); } });
  }
  function scheduleCheck() { clearTimeout(memberCheck.timer); memberCheck.timer = setTimeout(runCheck, 250); }
  form.member_card.addEventListener('input', scheduleCheck);
  form.plate.addEventListener('input', () => { if (form.member_card.value.trim()) scheduleCheck(); });
  joinButton.addEventListener('click', () => setJoinNow(!memberCheck.joinNow));
  function resetMemberCheck() {
    clearTimeout(memberCheck.timer);
    memberCheck.seq += 1;
    showCheck(null);
    delete checkBox.dataset.status;
    joinButton.disabled = false;
    setJoinNow(false);
  }

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
    if (memberCheck.joinNow) { data.join_now = true; data.member = true; }
    if (f.customer_details.value) data.customer_details = f.customer_details.value;
    if (f.on_highway.value) data.on_highway = f.on_highway.value === 'true';
    if (f.tow_lon.value || f.tow_lat.value) data.tow_destination = [number(f.tow_lon.value), number(f.tow_lat.value)];
    if (f.tow_destination_name.value) data.tow_destination_name = f.tow_destination_name.value;
    if (f.insurer.value) data.insurer = f.insurer.value;
    return data;
  }

  // The form input an error's field names (caller.phone -> caller_phone), to focus it.
  const FIELD_INPUT = { 'caller.name': 'caller_name', 'caller.phone': 'caller_phone', 'caller.gender': 'caller_gender',
    'vehicle.plate': 'plate', 'vehicle.model': 'model', 'vehicle.colour': 'colour', location: 'lon', tow_destination: 'tow_lon' };
  function focusField(field) {
    const name = FIELD_INPUT[field] || (field || '').split('.')[0];
    const input = form.elements[name];
    if (input && input.focus) { input.focus(); input.classList.add('invalid'); }
  }

  function newCall() {
    form.reset();
    resetMemberCheck();
    for (const input of form.querySelectorAll('.invalid')) input.classList.remove('invalid');
    clear(byId('intake-result'));
    pickLayer.clearLayers();
    searchLayer.clearLayers();
    search.value = '';
    closeResults();
    clearNotice();
    showTab('intake');
    search.focus();
  }
  byId('new-call').addEventListener('click', newCall);
  document.addEventListener('keydown', (e) => {
    if (e.altKey && (e.key === 'n' || e.key === 'N')) { e.preventDefault(); newCall(); }
  });
  for (const input of form.querySelectorAll('input, select, textarea')) input.addEventListener('input', () => input.classList.remove('invalid'));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const button = byId('intake-submit');
    const box = clear(byId('intake-result'));  // an old refusal never stays above a new answer
    clearNotice();
    button.disabled = true;
    socket.timeout(20000).emit('intake', intakePayload(), (err, answer) => {
      button.disabled = false;
      if (err) { notice(t('intake: no answer from the server'), 'error'); return; }
      if (!answer.ok) {
        box.append(el('p', { className: 'notice error', id: 'intake-error' }, t('Not registered: {reason}', { reason: errorText(answer.error) })));
        box.scrollIntoView({ block: 'nearest' });
        focusField(answer.error.field);
        return;
      }
      upsertJob(answer.job);
      state.lastIntake = answer.job.id;
      renderLists();
      pickLayer.clearLayers();
      renderIntakeResult(box, answer.job, answer.proposal, answer.warnings || [], answer.enrolment);
      if (answer.enrolment) resetMemberCheck();
      box.scrollIntoView({ block: 'start' });
      const confirm = byId('confirm-dispatch');
      (confirm || box).focus();
    });
  });

  function renderIntakeResult(box, job, proposal, warnings, enrolment) {
    const q = job.quote;
    box.append(el('h3', { id: 'intake-job' }, t('Job {job} registered', { job: job.id })));
    if (enrolment) {
      box.append(el('p', { className: 'notice ok', id: 'enrolment' }, (enrolment.renewal
        ? t('Membership renewed: card {card}, valid {from} to {to}, {fee} paid, receipt {receipt}.', { card: enrolment.card_no, from: enrolment.valid_from, to: enrolment.valid_to, fee: yuan(enrolment.fee_paid_yuan), receipt: enrolment.receipt_no })
        : t('Joined now: card {card}, valid {from} to {to}, {fee} paid, receipt {receipt}.', { card: enrolment.card_no, from: enrolment.valid_from, to: enrolment.valid_to, fee: yuan(enrolment.fee_paid_yuan), receipt: enrolment.receipt_no }))));
    }
    for (const w of warnings) {
      const other = t('{job} ({state}, {time})', { job: w.job_id, state: label('job_state', w.state), time: clockText(w.at_s) });
      box.append(el('p', { className: 'notice warning duplicate-warning' }, w.kind === 'duplicate_plate'
        ? t('Possible duplicate: the same plate called within the hour: {other}', { other })
        : t('Possible duplicate: the same phone called within the hour: {other}', { other })));
    }
    const placement = job.placement;
    box.append(el('div', { id: 'triage' }, t('Triage') + ': ', el('strong', {}, label('kind', job.required_kind)),
      ' · ' + label('fault', job.fault_category) + (placement ? ' · ' + label('zone', placement.zone) + (placement.on_highway ? ' · ' + t('on a highway') : '') + ' · ' + placement.road_name : '')));
    if (job.tow_destination_name) box.append(el('div', {}, t('Tow to {place}', { place: job.tow_destination_name }) + (job.tow_km !== null ? ' · ' + t('{km} road km', { km: job.tow_km }) : '')));
    box.append(el('h3', {}, t('Quote')));
    box.append(el('table', { id: 'quote-items' },
      q.items.map((i) => el('tr', {}, el('td', {}, inLanguage(i.label_zh || i.label, i.label)), el('td', { className: 'num' }, yuan(i.fee_yuan)))),
      el('tr', {}, el('th', {}, t('Total')), el('th', { className: 'num', id: 'quote-total' }, yuan(q.total_yuan)))));
    for (const n of (lang === 'zh' && q.notices_zh ? q.notices_zh : q.notices)) box.append(el('div', { className: 'small' }, n));
    if (q.join_offer) box.append(el('div', { className: 'small' }, t('Join now: {fee} membership, then this service costs {total}', { fee: yuan(q.join_offer.membership_yuan), total: yuan(q.join_offer.member_total_yuan) })));
    box.append(script(q.script_zh, q.script_en, 'quote-script'));
    renderProposal(box, job, proposal);
  }

  // The ranked trucks for a received job; `stale` (a refused dispatch's error) shows why the
  // proposal confirmed before was out of date, above the fresh one, to confirm again.
  function renderProposal(box, job, proposal, stale) {
    const old = box.querySelector('.proposal');
    if (old) old.remove();
    const part = el('div', { className: 'proposal', id: 'proposal' });
    part.append(el('h3', {}, stale ? t('Fresh proposal') : t('Proposed truck')));
    if (stale) part.append(el('p', { className: 'notice error', id: 'stale-proposal' }, t('The proposal was out of date: check the fresh one and confirm again.') + ' ' + (stale.message || '')));
    const best = proposal.best;
    if (!best) {
      part.append(el('p', {}, badgeElement({ cls: 'late', text: label('status', 'late') }), ' ' + t('No suitable truck: {why}', { why: reasonsText(proposal) })));
    } else {
      part.append(el('p', { id: 'proposal-best' }, el('strong', {}, best.truck), ' (' + label('kind', best.kind) + ') · ' + t('arrives in {minutes} min', { minutes: best.eta_min })
        + (proposal.estimated ? ' (' + t('estimated') + ')' : '') + ' · ', badgeElement({ cls: best.status, text: label('status', best.status) }),
        reasonsText(best) ? ' · ' + reasonsText(best) : ''));
    }
    if (proposal.reasons && proposal.reasons.includes('not_dispatched') && proposal.status === 'on_time') {
      part.append(el('p', { className: 'small' }, t('The call has waited too long for a truck.')));
    }
    part.append(script(proposal.script_zh, proposal.script_en, 'proposal-script'));
    if (proposal.candidates.length) {
      part.append(el('table', { id: 'alternatives' }, el('tr', {}, el('th', {}, t('Truck')), el('th', {}, t('Arrival')), el('th', {}, t('Promise')), el('th', {})),
        proposal.candidates.map((c) => el('tr', {},
          el('td', {}, c.truck + ' ' + label('kind', c.kind)),
          el('td', {}, t('{minutes} min', { minutes: c.eta_min }) + (c.wait_s > 0 ? ' (' + t('busy {minutes} min', { minutes: Math.ceil(c.wait_s / 60) }) + ')' : '')),
          el('td', {}, badgeElement({ cls: c.status, text: label('status', c.status) })),
          el('td', {}, el('button', { className: 'small', onclick: () => confirmDispatch(job.id, c, part) }, t('Dispatch')))))));
    }
    if (best) {
      const text = stale ? t('Confirm again: dispatch {truck}', { truck: best.truck }) : t('Confirm: dispatch {truck}', { truck: best.truck });
      part.append(el('button', { className: 'primary', id: 'confirm-dispatch', onclick: () => confirmDispatch(job.id, best, part) }, text));
    }
    box.append(part);
    return part;
  }

  // Confirm a truck of a proposal, sending what the dispatcher saw for it (arrival, promise
  // status): if it got worse meanwhile the server refuses with the fresh proposal, shown here.
  function confirmDispatch(jobId, candidate, part) {
    const job = state.jobs.get(jobId);
    const payload = { job_id: jobId, truck_id: candidate.truck, version: job ? job.version : undefined };
    if (candidate.eta_at_s !== null && candidate.eta_at_s !== undefined) payload.eta_at_s = candidate.eta_at_s;
    if (candidate.status) payload.status = candidate.status;
    command('dispatch', payload, () => {
      part.append(el('p', { className: 'notice ok', id: 'dispatched', tabindex: '-1' }, t('{job} dispatched to {truck}', { job: jobId, truck: candidate.truck })));
      const button = part.querySelector('#confirm-dispatch');
      if (button) button.disabled = true;
      byId('dispatched').focus();
    }, (error) => {
      const box = part.parentNode;
      if (!error.proposal || !box) return undefined;
      const fresh = renderProposal(box, state.jobs.get(jobId) || job || { id: jobId }, error.proposal, error);
      const again = fresh.querySelector('#confirm-dispatch');
      if (again) again.focus();
      return 'shown';
    });
  }

  // ------------------------------------------------------------------ language
  byId('lang-toggle').addEventListener('click', (e) => {
    fetch('/api/language', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': cfg.csrf_token },
      body: JSON.stringify({ lang: e.currentTarget.dataset.lang }),
    }).then((r) => { if (r.ok) window.location.reload(); else notice(t('Could not change the language.'), 'error'); });
  });

  // ------------------------------------------------------------------ socket
  const socket = io({ transports: ['websocket', 'polling'] });
  const conn = byId('conn');
  byId('user').textContent = cfg.user;

  socket.on('connect', () => { conn.textContent = t('live'); conn.className = 'conn online'; });
  socket.on('disconnect', () => { conn.textContent = t('offline'); conn.className = 'conn offline'; });
  socket.on('connect_error', (err) => {
    conn.textContent = t('offline'); conn.className = 'conn offline';
    if (err && /login/.test(err.message || '')) window.location.href = '/login';
  });

  function setClock(nowS, speed) {
    state.clock = { now_s: nowS, at_ms: Date.now(), speed: speed || state.clock.speed };
  }

  socket.on('state', (s) => {
    setClock(s.now_s, s.speed);
    byId('clock').textContent = clockText(simNow());
    byId('band').textContent = label('band', s.band);
    byId('speed').textContent = s.speed !== 1 ? t('simulation ×{speed}', { speed: s.speed }) : (cfg.sim ? t('simulation') : '');
    state.trucks.clear();
    for (const tr of s.trucks) upsertTruck(tr);
    for (const id of [...routeLines.keys()]) if (!state.trucks.has(id)) refreshRoute({ id });
    const ids = new Set(s.jobs.map((j) => j.id));
    for (const id of [...state.jobs.keys()]) if (!ids.has(id)) removeJob(id);
    for (const j of s.jobs) { state.jobs.delete(j.id); upsertJob(j); }
    state.alerts.clear();
    for (const a of s.alerts) state.alerts.set(a.job_id, a);
    refreshTruckMarkers();
    renderLists();
    if (state.selectedJob) renderJobDetail();
    if (!state.fitted && truckMarkers.size) {
      const points = [...state.trucks.values()].map((tr) => latlng(tr.position)).concat([...state.jobs.values()].filter((j) => j.location).map((j) => latlng(j.location)));
      map.fitBounds(L.latLngBounds(points).pad(0.05));
      state.fitted = true;
    }
  });

  // One compact batch (webmap/positions.py): ids, then lon, lat per truck in millionths
  // of a degree.
  socket.on('truck_positions', (batch) => {
    setClock(batch.now_s);
    batch.ids.forEach((id, i) => {
      const truck = state.trucks.get(id);
      if (truck) truck.position = [batch.lonlat_e6[2 * i] / 1e6, batch.lonlat_e6[2 * i + 1] / 1e6];
    });
    refreshTruckMarkers();
  });

  socket.on('truck_updated', (truck) => {
    upsertTruck(truck);
    refreshTruckMarkers();
    renderTrucks();
    renderFleet();
  });

  socket.on('job_updated', (job) => {
    upsertJob(job);
    renderJobs();
    renderAlerts();
    if (state.selectedJob === job.id) renderJobDetail();
  });

  socket.on('promise_alert', (alert) => {
    raiseAlert(alert);
    renderAlerts();
    renderJobs();
  });

  socket.on('error', (e) => { lastError = e; });  // the acknowledgement carries it and shows it

  // ------------------------------------------------------------------ once a second: timers only
  setInterval(() => {
    byId('clock').textContent = clockText(simNow());
    for (const job of state.jobs.values()) {
      const marker = jobMarkers.get(job.id);
      const node = marker && marker.getElement && marker.getElement();
      const span = node && node.querySelector('.countdown');
      if (span) span.textContent = countdownText(job);
      const row = jobRows.get(job.id);
      if (row) row.querySelector('.timer').textContent = job.state === 'received' ? waitingText(job) : countdownText(job);
    }
  }, 1000);

  window.rescueMap = {
    lastError: () => lastError, state, map, socket, truckMarkers, jobMarkers, jobsLayer, trucksLayer, base,
    alertsSounded: () => state.alertsSounded,
  };
})();
