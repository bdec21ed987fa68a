/* rescue-dispatch offline-first base map.
 *
 * window.RescueBasemap.create(map, {attribution, t}) puts on a Leaflet map, from the
 * project's own server only:
 * - a light background and the project's roads as the default base layer (canvas, styled by
 *   class, widths growing with the zoom; tertiary and minor roads only at close zooms);
 * - the ring roads (/api/rings.geojson) and the road names (/api/road_labels.geojson) as
 *   overlays; labels by rank from a minimum zoom, within the view, none overlapping another;
 * - OpenStreetMap's online tiles only as the other base layer of the layer menu, never by
 *   default: until a dispatcher chooses them the page asks no other host for anything.
 * It returns {control, roads, rings, labels, tiles, ready}: the caller adds its own overlays
 * with control.addOverlay(layer, t('Name')); ready settles when the layers have loaded.
 * Texts a person reads go through t(); data names are set with textContent only.
 */
(function () {
  'use strict';

  const SCRIPT_SRC = document.currentScript ? document.currentScript.src : '';
  const URLS = {
    roads: '/api/roads.geojson',
    minorRoads: '/api/minor_roads.geojson',
    rings: '/api/rings.geojson',
    labels: '/api/road_labels.geojson',
    tiles: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
  };
  const PANES = { roads: 250, rings: 370, labels: 380 };

  // Road classes, drawn in this order (the last on top). width: px at zoom 12; minZoom: from
  // which zoom the class is drawn.
  const ROADS = [
    ['service', { minZoom: 15, width: 0.8, fill: '#ffffff', casing: '#d3ccbf' }],
    ['living_street', { minZoom: 14, width: 1.0, fill: '#ffffff', casing: '#cbc4b7' }],
    ['road', { minZoom: 14, width: 1.0, fill: '#ffffff', casing: '#cbc4b7' }],
    ['unclassified', { minZoom: 14, width: 1.1, fill: '#ffffff', casing: '#c6bfb2' }],
    ['residential', { minZoom: 14, width: 1.1, fill: '#ffffff', casing: '#c6bfb2' }],
    ['tertiary_link', { minZoom: 13, width: 1.0, fill: '#ffffff', casing: '#b5ad9e' }],
    ['tertiary', { minZoom: 12, width: 1.5, fill: '#ffffff', casing: '#b5ad9e' }],
    ['secondary_link', { minZoom: 13, width: 1.2, fill: '#f7efb2', casing: '#b3a670' }],
    ['secondary', { minZoom: 11, width: 2.0, fill: '#f7efb2', casing: '#b3a670' }],
    ['primary_link', { minZoom: 12, width: 1.5, fill: '#fcd98f', casing: '#c39a4c' }],
    ['primary', { minZoom: 0, width: 2.6, fill: '#fcd98f', casing: '#c39a4c' }],
    ['trunk_link', { minZoom: 11, width: 1.6, fill: '#f8b87a', casing: '#c47a36' }],
    ['trunk', { minZoom: 0, width: 3.0, fill: '#f8b87a', casing: '#c47a36' }],
    ['motorway_link', { minZoom: 11, width: 1.7, fill: '#ec9a5e', casing: '#b4622a' }],
    ['motorway', { minZoom: 0, width: 3.2, fill: '#ec9a5e', casing: '#b4622a' }],
  ];
  const ROAD_ORDER = new Map(ROADS.map(([name], i) => [name, i]));
  const ROAD_STYLE = new Map(ROADS);
  // The classes of /api/minor_roads.geojson, loaded the first time the map gets that close.
  const MINOR = new Set(['residential', 'unclassified', 'living_street', 'road', 'service']);
  const MINOR_FROM_ZOOM = Math.min(...ROADS.filter(([name]) => MINOR.has(name)).map(([, s]) => s.minZoom));
  const CASING_FROM_ZOOM = 12;  // below it the roads are drawn without an outline

  function roadWidth(style, zoom) {
    return style.width * Math.min(4, Math.max(0.45, Math.pow(2, (zoom - 12) * 0.5)));
  }

  // Labels: rank 0 ring road, 1 expressway, 2 arterial, 3 secondary.
  const LABEL_MIN_ZOOM = [10, 11, 13, 14];
  const LABEL_FONT = [
    '600 13px system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif',
    '600 12px system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif',
    '12px system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif',
    '11px system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif',
  ];
  const LABEL_HEIGHT = [17, 16, 16, 15];
  const LABEL_GAP = 6;  // px kept free around a label
  const CJK_ONLY = /^[\u3400-\u9fff\uf900-\ufaff]+$/;

  function plainT(msgid, params) {
    return msgid.replace(/\{(\w+)\}/g, (whole, name) => (params && name in params ? String(params[name]) : whole));
  }

  function ensureStylesheet() {
    if (!SCRIPT_SRC || document.querySelector('link[data-rescue-basemap]')) return;
    for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
      if (/\/basemap\.css(\?|$)/.test(link.href)) return;
    }
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = SCRIPT_SRC.replace(/basemap\.js(\?.*)?$/, 'basemap.css');
    link.dataset.rescueBasemap = '';
    document.head.append(link);
  }

  function ensurePane(map, name, zIndex, noPointer) {
    const pane = map.getPane(name) || map.createPane(name);
    pane.style.zIndex = String(zIndex);
    if (noPointer) pane.style.pointerEvents = 'none';
    return pane;
  }

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin' }).then((response) => {
      if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
      return response.json();
    });
  }

  // ------------------------------------------------------------------ roads
  // The base layer is its own canvas renderer: every point is projected once (at zoom 0),
  // each redraw (at the end of a move or zoom) strokes the parts in view, class by class in
  // drawing order, outlines first; Leaflet's renderer code scales the canvas while a zoom
  // animates. Tens of thousands of roads redraw in milliseconds, with no per-road layer.
  const RoadCanvas = L.Renderer.extend({
    options: { padding: 0.3, pane: 'rescueRoads', attribution: null },

    initialize(options) {
      L.Renderer.prototype.initialize.call(this, options);
      this._classes = [];  // {name, style, xs, ys, starts, boxes}, in drawing order
    },

    _initContainer() {
      this._container = document.createElement('canvas');
      this._container.className = 'rescue-road-canvas';
      this._ctx = this._container.getContext('2d');
    },

    _destroyContainer() {
      L.DomUtil.remove(this._container);
      delete this._ctx;
      delete this._container;
    },

    _updatePaths() {},  // no Leaflet paths: _update draws
    _onZoomEnd() {},  // nothing to re-project

    _update() {
      if (this._map._animatingZoom && this._bounds) return;
      L.Renderer.prototype._update.call(this);
      const b = this._bounds;
      const size = b.getSize();
      const m = L.Browser.retina ? 2 : 1;
      L.DomUtil.setPosition(this._container, b.min);
      this._container.width = m * size.x;
      this._container.height = m * size.y;
      this._container.style.width = size.x + 'px';
      this._container.style.height = size.y + 'px';
      this._ctx.setTransform(m, 0, 0, m, 0, 0);
      this._draw();
      this.fire('update');
    },

    // Adds the features of a FeatureCollection of (Multi)LineStrings with
    // properties.highway; unknown classes are left out.
    addCollection(collection, crs) {
      for (const feature of collection.features) {
        const name = feature.properties && feature.properties.highway;
        const style = ROAD_STYLE.get(name);
        const geometry = feature.geometry;
        if (!style || !geometry) continue;
        const lines = geometry.type === 'MultiLineString' ? geometry.coordinates : [geometry.coordinates];
        let count = 0;
        for (const line of lines) count += line.length;
        const xs = new Float64Array(count), ys = new Float64Array(count);
        const starts = new Int32Array(lines.length + 1);
        const boxes = new Float64Array(lines.length * 4);
        let k = 0;
        lines.forEach((line, i) => {
          starts[i] = k;
          let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
          for (const [lon, lat] of line) {
            const p = crs.latLngToPoint(L.latLng(lat, lon), 0);
            xs[k] = p.x; ys[k] = p.y; k++;
            if (p.x < x0) x0 = p.x; if (p.x > x1) x1 = p.x;
            if (p.y < y0) y0 = p.y; if (p.y > y1) y1 = p.y;
          }
          boxes.set([x0, y0, x1, y1], i * 4);
        });
        starts[lines.length] = k;
        this._classes.push({ name, style, xs, ys, starts, boxes });
      }
      this._classes.sort((a, b) => ROAD_ORDER.get(a.name) - ROAD_ORDER.get(b.name));
      if (this._map) this._draw();
      return this;
    },

    _draw() {
      const ctx = this._ctx, map = this._map;
      if (!ctx || !map || !this._bounds) return;
      const zoom = map.getZoom();
      const s = map.options.crs.scale(zoom) / map.options.crs.scale(0);
      const b = this._bounds, size = b.getSize();
      const origin = map.getPixelOrigin();
      const ox = origin.x + b.min.x, oy = origin.y + b.min.y;  // canvas x = x0 * s - ox
      const view = [ox / s, oy / s, (ox + size.x) / s, (oy + size.y) / s];
      ctx.clearRect(0, 0, size.x, size.y);
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      const shown = this._classes.filter((c) => zoom >= c.style.minZoom);
      const cased = zoom >= CASING_FROM_ZOOM;
      const stroke = (c, colour, width) => {
        ctx.beginPath();
        const { xs, ys, starts, boxes } = c;
        for (let i = 0; i + 1 < starts.length; i++) {
          if (boxes[4 * i] > view[2] || boxes[4 * i + 2] < view[0] || boxes[4 * i + 1] > view[3] || boxes[4 * i + 3] < view[1]) continue;
          let j = starts[i];
          ctx.moveTo(xs[j] * s - ox, ys[j] * s - oy);
          for (j++; j < starts[i + 1]; j++) ctx.lineTo(xs[j] * s - ox, ys[j] * s - oy);
        }
        ctx.strokeStyle = colour;
        ctx.lineWidth = width;
        ctx.stroke();
      };
      if (cased) {
        for (const c of shown) stroke(c, c.style.casing, roadWidth(c.style, zoom) + (zoom >= 15 ? 2.5 : 1.6));
        for (const c of shown) stroke(c, c.style.fill, roadWidth(c.style, zoom));
      } else {
        for (const c of shown) stroke(c, c.style.casing, Math.max(0.8, roadWidth(c.style, zoom)));
      }
    },
  });

  function createRoads(map, attribution) {
    const layer = new RoadCanvas({ attribution });
    const crs = map.options.crs;
    let minorRequested = false;
    function loadMinor() {
      if (minorRequested || !layer._map || map.getZoom() < MINOR_FROM_ZOOM) return;
      minorRequested = true;
      getJSON(URLS.minorRoads).then((data) => layer.addCollection(data, crs)).catch((error) => {
        minorRequested = false;
        console.warn('base map:', error.message);
      });
    }
    layer.on('add', () => { map.on('zoomend', loadMinor); loadMinor(); });
    layer.on('remove', () => map.off('zoomend', loadMinor));
    return { layer, addCollection: (data) => layer.addCollection(data, crs) };
  }

  // ------------------------------------------------------------------ labels
  // Road names from /api/road_labels.geojson (in priority order): on every moveend the
  // labels of the view whose rank is shown at this zoom are placed in that order, each
  // skipped when its box overlaps one placed before it.
  const LabelLayer = L.Layer.extend({
    options: { pane: 'rescueLabels', attribution: null },

    initialize(options) {
      L.setOptions(this, options);
      this._features = [];  // {latlng, name, rank, angle, w, h}
      this._markers = new Map();  // feature index -> marker
      this._measure = document.createElement('canvas').getContext('2d');
    },

    setData(collection) {
      this._features = collection.features.map((f) => ({
        latlng: L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]),
        name: String(f.properties.name),
        rank: Math.max(0, Math.min(3, f.properties.rank | 0)),
        angle: Number(f.properties.angle_deg) || 0,
      }));
      for (const f of this._features) {
        this._measure.font = LABEL_FONT[f.rank];
        f.w = Math.ceil(this._measure.measureText(f.name).width) + 4;
        f.h = LABEL_HEIGHT[f.rank];
        // A Chinese name on a steep road is written top to bottom, its characters upright,
        // the column turned along the road: what Chinese maps do.
        f.vertical = Math.abs(f.angle) > 45 && CJK_ONLY.test(f.name);
        f.turn = !f.vertical ? f.angle : (f.angle > 0 ? f.angle - 90 : f.angle + 90);
        const a = f.angle * Math.PI / 180;  // the text's axis, either way
        f.boxW = Math.abs(f.w * Math.cos(a)) + Math.abs(f.h * Math.sin(a));
        f.boxH = Math.abs(f.w * Math.sin(a)) + Math.abs(f.h * Math.cos(a));
      }
      this._clear();
      this._update();
      return this;
    },

    getEvents() { return { moveend: this._update, resize: this._update }; },  // a zoom ends with a moveend too

    onAdd() { this._group = L.layerGroup().addTo(this._map); this._update(); },

    onRemove() { this._clear(); this._map.removeLayer(this._group); this._group = null; },

    _clear() {
      if (this._group) this._group.clearLayers();
      this._markers.clear();
    },

    _marker(f) {
      const text = document.createElement('span');
      text.className = 'rescue-road-label rescue-rank-' + f.rank + (f.vertical ? ' rescue-vertical' : '');
      text.textContent = f.name;
      text.style.transform = 'translate(-50%, -50%) rotate(' + f.turn + 'deg)';
      const icon = L.divIcon({ html: text, className: 'rescue-label-anchor', iconSize: [0, 0], iconAnchor: [0, 0] });
      return L.marker(f.latlng, { icon, pane: this.options.pane, interactive: false, keyboard: false });
    },

    _update() {
      if (!this._map || !this._group) return;
      const map = this._map;
      const zoom = map.getZoom();
      const size = map.getSize();
      const placed = [];  // [x0, y0, x1, y1]
      const keep = new Set();
      for (let i = 0; i < this._features.length; i++) {
        const f = this._features[i];
        if (zoom < LABEL_MIN_ZOOM[f.rank]) continue;
        const p = map.latLngToContainerPoint(f.latlng);
        const x0 = p.x - f.boxW / 2 - LABEL_GAP, x1 = p.x + f.boxW / 2 + LABEL_GAP;
        const y0 = p.y - f.boxH / 2 - LABEL_GAP, y1 = p.y + f.boxH / 2 + LABEL_GAP;
        if (x1 < 0 || y1 < 0 || x0 > size.x || y0 > size.y) continue;  // out of view
        let free = true;
        for (const b of placed) {
          if (x0 < b[2] && b[0] < x1 && y0 < b[3] && b[1] < y1) { free = false; break; }
        }
        if (!free) continue;
        placed.push([x0, y0, x1, y1]);
        keep.add(i);
      }
      for (const [i, marker] of this._markers) {
        if (!keep.has(i)) { this._group.removeLayer(marker); this._markers.delete(i); }
      }
      for (const i of keep) {
        if (!this._markers.has(i)) {
          const marker = this._marker(this._features[i]);
          this._markers.set(i, marker);
          this._group.addLayer(marker);
        }
      }
    },
  });

  // ------------------------------------------------------------------ create
  // The ring polygons as lines: a tooltip only near the ring, not everywhere inside it.
  function outlines(collection) {
    const features = collection.features.map((f) => {
      const g = f.geometry;
      if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) return f;
      const lines = g.type === 'Polygon' ? g.coordinates : [].concat(...g.coordinates);
      return { type: 'Feature', properties: f.properties, geometry: { type: 'MultiLineString', coordinates: lines } };
    });
    return { type: 'FeatureCollection', features };
  }

  function create(map, options) {
    const opts = options || {};
    const t = typeof opts.t === 'function' ? opts.t : plainT;
    const attribution = opts.attribution || '© OpenStreetMap contributors';
    const onError = typeof opts.onError === 'function' ? opts.onError : (url, error) => console.warn('base map:', url, error.message);
    ensureStylesheet();
    map.getContainer().classList.add('rescue-basemap');
        ensurePane(map, 'rescueRoads', PANES.roads, true);
    ensurePane(map, 'rescueRings', PANES.rings, false);
    ensurePane(map, 'rescueLabels', PANES.labels, true);

    const roads = createRoads(map, attribution);
    const rings = L.geoJSON(null, {
      pane: 'rescueRings', renderer: L.canvas({ pane: 'rescueRings', padding: 0.4 }), attribution,
      style: (f) => ({
        color: '#b71c1c', weight: /5th|6th/.test(f.properties['name:en'] || '') ? 2.5 : 1.5,
        opacity: 0.7, fill: false, dashArray: '8 5',
      }),
      onEachFeature: (f, layer) => layer.bindTooltip(String(f.properties.name || ''), { sticky: true }),
    });
    const labels = new LabelLayer({ attribution });
    // Online tiles: only when a dispatcher picks them in the layer menu.
    const tiles = L.tileLayer(URLS.tiles, { maxZoom: 19, attribution });

    roads.layer.addTo(map);
    rings.addTo(map);
    labels.addTo(map);
    const control = L.control.layers(
      {
        [t('Project roads (offline)')]: roads.layer,
        [t('OpenStreetMap tiles (online)')]: tiles,
      },
      {
        [t('Ring roads')]: rings,
        [t('Road names')]: labels,
      },
      { collapsed: true },
    ).addTo(map);

    function load(url, use) {
      return getJSON(url).then(use).catch((error) => onError(url, error));
    }
    const ready = Promise.all([
      load(URLS.roads, roads.addCollection),
      load(URLS.rings, (data) => rings.addData(outlines(data))),
      load(URLS.labels, (data) => labels.setData(data)),
    ]);
    return { control, roads: roads.layer, rings, labels, tiles, ready };
  }

  window.RescueBasemap = { create, URLS };
})();
