/* embedspace interactive views (embedspace/viz/interactive.py writes the pages).
 *
 * Every scatter view (div.es-view[data-kind=scatter]) holds a JSON script element (script.es-data)
 * with its points (base64 float32), words, groups, arrows and neighbours. The points are drawn with WebGL
 * through regl (vendored beside this file); axes, arrows, labels and rings are an SVG overlay updated
 * each frame. Charts (<div class="es-chart">) are SVG written by Python; this script adds their tooltips.
 * Words are untrusted text: they only ever reach the page through textContent, never as HTML.
 */
(function () {
  'use strict';

  var SVG = 'http://www.w3.org/2000/svg';
  var PICK_PIXELS = 10;       // a click or hover within this many CSS pixels of a point picks it
  var CLICK_SLOP = 4;         // a press that moves less than this is a click, not a drag
  var ROTATE_SPEED = 0.008;   // radians per CSS pixel dragged
  var MAX_MATCHES = 8;        // search suggestions shown
  var FIELD_OF_VIEW = 24 * Math.PI / 180;  // a mild perspective: depth shows, parallels barely converge
  var DISTANCE = 8.6;         // the camera's distance from the centre: the cube [-1, 1]^3 fills the view

  // -- small helpers -------------------------------------------------------------------------------
  function decode(text, Type) {
    var bytes = atob(text), n = bytes.length, raw = new Uint8Array(n);
    for (var i = 0; i < n; i++) raw[i] = bytes.charCodeAt(i);
    return new Type(raw.buffer);
  }

  function hexToRgb(hex) {
    var v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  function el(tag, attrs, parent) {
    var node = document.createElementNS(SVG, tag);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  // -- 4x4 matrices, column-major as WebGL wants them ---------------------------------------------
  function multiply(a, b) {
    var out = new Float32Array(16);
    for (var c = 0; c < 4; c++) {
      for (var r = 0; r < 4; r++) {
        out[c * 4 + r] = a[r] * b[c * 4] + a[4 + r] * b[c * 4 + 1] + a[8 + r] * b[c * 4 + 2] + a[12 + r] * b[c * 4 + 3];
      }
    }
    return out;
  }
  function perspective(fovy, aspect, near, far) {
    var f = 1 / Math.tan(fovy / 2), nf = 1 / (near - far);
    return new Float32Array([f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1, 0, 0, 2 * far * near * nf, 0]);
  }
  function ortho(halfWidth, halfHeight, near, far) {
    return new Float32Array([1 / halfWidth, 0, 0, 0, 0, 1 / halfHeight, 0, 0, 0, 0, -2 / (far - near), 0,
                             0, 0, -(far + near) / (far - near), 1]);
  }
  function rotateX(a) {
    var c = Math.cos(a), s = Math.sin(a);
    return new Float32Array([1, 0, 0, 0, 0, c, s, 0, 0, -s, c, 0, 0, 0, 0, 1]);
  }
  function rotateZ(a) {
    var c = Math.cos(a), s = Math.sin(a);
    return new Float32Array([c, s, 0, 0, -s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  }
  function translate(x, y, z) {
    return new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, x, y, z, 1]);
  }

  // -- the data of one view, decoded and scaled into the cube [-1, 1]^3 -----------------------------
  function readData(data) {
    var dims = data.dims, n = data.n;
    var raw = n ? decode(data.coords, Float32Array) : new Float32Array(0);  // [n * dims]
    var lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    var extra = [];
    (data.arrows || []).forEach(function (a) { extra.push(a.start, a.end); });
    (data.markers || []).forEach(function (m) { extra.push(m.at); });
    for (var i = 0; i < n; i++) {
      for (var d = 0; d < dims; d++) {
        var v = raw[i * dims + d];
        if (v < lo[d]) lo[d] = v;
        if (v > hi[d]) hi[d] = v;
      }
    }
    extra.forEach(function (p) {
      for (var d = 0; d < dims; d++) { lo[d] = Math.min(lo[d], p[d]); hi[d] = Math.max(hi[d], p[d]); }
    });
    var centre = [0, 0, 0], half = 1e-12;
    for (var d2 = 0; d2 < dims; d2++) {
      if (!isFinite(lo[d2])) { lo[d2] = -1; hi[d2] = 1; }
      centre[d2] = (lo[d2] + hi[d2]) / 2;
      half = Math.max(half, (hi[d2] - lo[d2]) / 2);
    }
    var scale = 1 / half;  // one scale for every axis: directions and parallels stay true
    function place(p) {
      return [(p[0] - centre[0]) * scale, (p[1] - centre[1]) * scale, dims === 3 ? (p[2] - centre[2]) * scale : 0];
    }
    var positions = new Float32Array(n * 3);
    for (var j = 0; j < n; j++) {
      positions[j * 3] = (raw[j * dims] - centre[0]) * scale;
      positions[j * 3 + 1] = (raw[j * dims + 1] - centre[1]) * scale;
      positions[j * 3 + 2] = dims === 3 ? (raw[j * dims + 2] - centre[2]) * scale : 0;
    }
    var box = [0, 1, 2].map(function (d) {
      return d < dims ? [(lo[d] - centre[d]) * scale, (hi[d] - centre[d]) * scale] : [0, 0];
    });
    var groups = data.groups ? decode(data.groups.index, data.groups.names.length > 255 ? Uint16Array : Uint8Array)
                             : null;
    var neighbours = null;
    if (data.neighbours) {
      neighbours = {k: data.neighbours.k, index: decode(data.neighbours.index, Int32Array),
                    score: decode(data.neighbours.score, Float32Array)};
    }
    return {n: n, dims: dims, positions: positions, box: box, place: place, groups: groups, neighbours: neighbours};
  }

  // -- one scatter view ------------------------------------------------------------------------------
  function ScatterView(root, data) {
    var self = this;
    this.root = root;
    this.data = data;
    this.words = data.words;
    var model = readData(data);
    this.model = model;
    this.stage = root.querySelector('.es-stage');
    this.canvas = root.querySelector('canvas');
    this.overlay = root.querySelector('svg.es-overlay');
    this.tip = root.querySelector('.es-tip');
    this.frames = 0;
    this.firstFrameMs = null;
    this.sync = false;
    this.waiting = [];
    this.hidden = new Uint8Array(data.groups ? data.groups.names.length : 1);  // groups switched off
    this.selected = -1;
    this.searchHit = -1;
    this.hovered = -1;
    this.isolate = false;
    this.camera = this.initialCamera();
    this.screenDirty = true;
    this.screen = new Float32Array(model.n * 2);
    this.visibleOnScreen = new Uint8Array(model.n);

    this.regl = createREGL({canvas: this.canvas, attributes: {antialias: false, alpha: false, depth: true}});
    this.buildBuffers();
    this.buildOverlay();
    this.bindPanel();
    this.bindPointer();
    new ResizeObserver(function () { self.resize(); }).observe(this.stage);
    this.resize();
  }

  ScatterView.prototype.initialCamera = function () {
    var view = this.data.view || {};
    var three = this.model.dims === 3;
    return {azimuth: (view.azimuth !== undefined ? view.azimuth : (three ? -35 : 0)) * Math.PI / 180,
            elevation: (view.elevation !== undefined ? view.elevation : (three ? 25 : 90)) * Math.PI / 180,
            distance: DISTANCE, zoom: 1, target: [0, 0, 0]};
  };

  ScatterView.prototype.buildBuffers = function () {
    var model = this.model, regl = this.regl, n = model.n, data = this.data;
    // one 4-byte attribute per point: its colour, and its state (0 normal, 1 dimmed, 2 in focus, 3 hidden)
    // in the fourth byte; a single attribute is what SwiftShader draws fastest (measured: docs/plots.md)
    var looks = new Uint8Array(n * 4);
    var palette = (data.groups ? data.groups.colours : [data.colour]).map(hexToRgb);  // colours chosen in Python
    for (var i = 0; i < n; i++) {
      var rgb = palette[model.groups ? model.groups[i] : 0];
      looks[i * 4] = rgb[0]; looks[i * 4 + 1] = rgb[1]; looks[i * 4 + 2] = rgb[2];
    }
    this.looks = looks;
    this.states = new Uint8Array(n);
    this.looksBuffer = regl.buffer({data: looks, usage: 'dynamic'});
    var size = data.point_size || (n > 20000 ? 3 : n > 2000 ? 4 : n > 300 ? 6 : 9);
    this.pointSize = size;
    this.drawPoints = regl({
      vert: [
        'precision mediump float;',
        'attribute vec3 position; attribute vec4 look;',
        'uniform mat4 mvp; uniform float size; uniform float ratio;',
        'varying vec3 vColour;',
        'void main() {',
        '  float state = look.a * 255.0;',
        '  vColour = state > 0.5 && state < 1.5 ? mix(look.rgb, vec3(1.0), 0.8) : look.rgb;',
        '  gl_Position = state > 2.5 ? vec4(2.0, 2.0, 2.0, 1.0) : mvp * vec4(position, 1.0);',
        '  gl_PointSize = (state > 1.5 ? 1.6 * size : size) * ratio;',
        '}'].join('\n'),
      // small points are drawn as squares: a round point's discard costs SwiftShader a third more time
      frag: size > 4 ? [
        'precision mediump float;',
        'varying vec3 vColour;',
        'void main() {',
        '  vec2 p = gl_PointCoord * 2.0 - 1.0; float r = dot(p, p);',
        '  if (r > 1.0) discard;',
        '  gl_FragColor = vec4(r > 0.62 ? mix(vColour, vec3(1.0), 0.85) : vColour, 1.0);',
        '}'].join('\n')
        : 'precision mediump float; varying vec3 vColour; void main() { gl_FragColor = vec4(vColour, 1.0); }',
      attributes: {
        position: regl.buffer(model.positions),
        look: {buffer: this.looksBuffer, normalized: true}
      },
      uniforms: {mvp: regl.prop('mvp'), size: regl.prop('size'), ratio: regl.prop('ratio')},
      count: n,
      primitive: 'points',
      depth: {enable: true}
    });
    this.drawBox = regl({
      vert: 'precision mediump float; attribute vec3 position; uniform mat4 mvp;' +
            'void main() { gl_Position = mvp * vec4(position, 1.0); }',
      frag: 'precision mediump float; void main() { gl_FragColor = vec4(0.78, 0.78, 0.78, 1.0); }',
      attributes: {position: boxEdges(model.box, model.dims)},
      uniforms: {mvp: regl.prop('mvp')},
      count: model.dims === 3 ? 24 : 8,
      primitive: 'lines',
      depth: {enable: true}
    });
  };

  function boxEdges(box, dims) {
    var x = box[0], y = box[1], z = box[2], out = [];
    if (dims === 2) {
      return [[x[0], y[0], 0], [x[1], y[0], 0], [x[1], y[0], 0], [x[1], y[1], 0],
              [x[1], y[1], 0], [x[0], y[1], 0], [x[0], y[1], 0], [x[0], y[0], 0]];
    }
    for (var a = 0; a < 2; a++) {
      for (var b = 0; b < 2; b++) {
        out.push([x[0], y[a], z[b]], [x[1], y[a], z[b]]);
        out.push([x[a], y[0], z[b]], [x[a], y[1], z[b]]);
        out.push([x[a], y[b], z[0]], [x[a], y[b], z[1]]);
      }
    }
    return out;
  }

  // -- the SVG overlay: axis names, arrows, markers, labels and rings ---------------------------------
  ScatterView.prototype.buildOverlay = function () {
    var svg = this.overlay, data = this.data, model = this.model, self = this;
    var defs = el('defs', {}, svg);
    this.arrows = (data.arrows || []).map(function (a, i) {
      var colour = a.colour;
      var id = self.root.id + '-head-' + i;
      var marker = el('marker', {id: id, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7',
                                 markerHeight: '7', orient: 'auto-start-reverse'}, defs);
      el('path', {d: 'M0,0 L10,5 L0,10 z', fill: colour}, marker);
      var line = el('line', {'class': 'es-arrow', stroke: colour, 'marker-end': 'url(#' + id + ')'}, svg);
      if (a.dashed) line.setAttribute('stroke-dasharray', '6 4');
      return {line: line, start: model.place(a.start), end: model.place(a.end)};
    });
    var box = model.box, names = data.axes || [];
    var ends = [[[box[0][1], box[1][0], box[2][0]], [box[0][0], box[1][0], box[2][0]]],
                [[box[0][0], box[1][1], box[2][0]], [box[0][0], box[1][0], box[2][0]]],
                [[box[0][0], box[1][0], box[2][1]], [box[0][0], box[1][0], box[2][0]]]];
    this.axisLabels = names.slice(0, model.dims).map(function (name, d) {
      var text = el('text', {'class': 'es-axis'}, svg);
      text.textContent = name + ' \u2192';
      return {text: text, end: ends[d][0], start: ends[d][1]};
    });
    this.markers = (data.markers || []).map(function (m) {
      var g = el('g', {'class': 'es-marker'}, svg);
      var star = el('text', {'class': 'es-star', 'text-anchor': 'middle', 'dominant-baseline': 'central'}, g);
      star.textContent = '\u2605';
      var label = el('text', {'class': 'es-label', dx: '10', dy: '-8'}, g);
      label.textContent = m.label || '';
      return {g: g, star: star, label: label, at: model.place(m.at)};
    });
    this.ringLayer = el('g', {}, svg);
    this.labelLayer = el('g', {}, svg);
    this.showAll = data.labels === 'all';
    this.labelNodes = {};  // point index -> <text>, made on first need
  };

  ScatterView.prototype.labelNode = function (i) {
    var node = this.labelNodes[i];
    if (!node) {
      node = el('text', {'class': 'es-label', dx: '6', dy: '-5'}, this.labelLayer);
      node.textContent = this.words[i];
      this.labelNodes[i] = node;
    }
    return node;
  };

  ScatterView.prototype.updateOverlay = function () {
    var self = this, n = this.model.n, positions = this.model.positions;
    var width = this.width, height = this.height;
    function at(p) { return self.project(p[0], p[1], p[2]); }
    this.axisLabels.forEach(function (axis) {
      var end = at(axis.end), start = at(axis.start);
      var angle = Math.atan2(end[1] - start[1], end[0] - start[0]) * 180 / Math.PI;
      if (angle > 90 || angle < -90) angle += 180;
      var mid = [(end[0] * 3 + start[0]) / 4, (end[1] * 3 + start[1]) / 4];
      axis.text.setAttribute('transform', 'translate(' + mid[0].toFixed(1) + ',' + mid[1].toFixed(1) + ') rotate(' +
                             angle.toFixed(1) + ') translate(0,-6)');
    });
    this.arrows.forEach(function (a) {
      var s = at(a.start), e = at(a.end);
      a.line.setAttribute('x1', s[0]); a.line.setAttribute('y1', s[1]);
      a.line.setAttribute('x2', e[0]); a.line.setAttribute('y2', e[1]);
    });
    this.markers.forEach(function (m) {
      var p = at(m.at);
      m.g.setAttribute('transform', 'translate(' + p[0].toFixed(1) + ',' + p[1].toFixed(1) + ')');
      var low = p[1] > height * 0.8;  // the star's label goes under it, or over it near the bottom edge
      m.label.setAttribute('dx', '0');
      m.label.setAttribute('dy', low ? '-16' : '24');
      m.label.setAttribute('text-anchor', p[0] < width * 0.25 ? 'start' : p[0] > width * 0.75 ? 'end' : 'middle');
    });
    var focus = this.focusSet();
    var shown = {};
    if (this.showAll) for (var i = 0; i < n; i++) shown[i] = true;
    focus.forEach(function (j) { shown[j] = true; });
    if (this.hovered >= 0) shown[this.hovered] = true;
    for (var key in this.labelNodes) {
      if (!shown[key]) this.labelNodes[key].setAttribute('display', 'none');
    }
    for (var k in shown) {
      var idx = +k;
      var node = this.labelNode(idx);
      var off = this.states[idx] === 3;
      var p = this.project(positions[idx * 3], positions[idx * 3 + 1], positions[idx * 3 + 2]);
      var inside = p[2] > -1 && p[2] < 1 && p[0] > -50 && p[0] < width + 50 && p[1] > -20 && p[1] < height + 20;
      node.setAttribute('display', off || !inside ? 'none' : 'inline');
      var flip = p[0] > width * 0.8;  // near the right edge the label goes to the left of its point
      node.setAttribute('x', p[0].toFixed(1));
      node.setAttribute('y', p[1].toFixed(1));
      node.setAttribute('dx', flip ? '-6' : '6');
      node.setAttribute('text-anchor', flip ? 'end' : 'start');
      node.setAttribute('class', 'es-label' + (focus.indexOf(idx) >= 0 ? ' es-focus' : '') +
                        (idx === this.selected || idx === this.searchHit ? ' es-chosen' : ''));
    }
    while (this.ringLayer.firstChild) this.ringLayer.removeChild(this.ringLayer.firstChild);
    focus.forEach(function (j) {
      var q = self.project(positions[j * 3], positions[j * 3 + 1], positions[j * 3 + 2]);
      var chosen = j === self.selected || j === self.searchHit;
      el('circle', {cx: q[0].toFixed(1), cy: q[1].toFixed(1), r: chosen ? 9 : 6,
                    'class': chosen ? 'es-ring es-chosen' : 'es-ring'}, self.ringLayer);
    });
  };

  // -- camera and drawing ------------------------------------------------------------------------------
  ScatterView.prototype.matrix = function () {
    var cam = this.camera, aspect = this.width / Math.max(1, this.height);
    var model = multiply(rotateX(cam.elevation - Math.PI / 2), rotateZ(-cam.azimuth));
    model = multiply(model, translate(-cam.target[0], -cam.target[1], -cam.target[2]));
    var view = multiply(translate(0, 0, -cam.distance), model);
    var projection;
    if (this.model.dims === 3) {
      projection = perspective(FIELD_OF_VIEW / cam.zoom, aspect, 0.1, 100);
    } else {
      var half = 1.12 / cam.zoom;
      projection = aspect >= 1 ? ortho(half * aspect, half, 0.1, 100) : ortho(half, half / aspect, 0.1, 100);
    }
    return multiply(projection, view);
  };

  ScatterView.prototype.project = function (x, y, z) {
    var m = this.mvp;
    var w = m[3] * x + m[7] * y + m[11] * z + m[15];
    var px = (m[0] * x + m[4] * y + m[8] * z + m[12]) / w;
    var py = (m[1] * x + m[5] * y + m[9] * z + m[13]) / w;
    var pz = (m[2] * x + m[6] * y + m[10] * z + m[14]) / w;
    return [(px + 1) / 2 * this.width, (1 - py) / 2 * this.height, pz];
  };

  // the zoom at which the data's box fills most of the view as the camera first looks at it
  ScatterView.prototype.fitZoom = function () {
    var box = this.model.box, extent = 0, saved = this.camera.zoom;
    this.camera.zoom = 1;
    this.mvp = this.matrix();
    for (var c = 0; c < 8; c++) {
      var p = this.project(box[0][c & 1], box[1][(c >> 1) & 1], box[2][(c >> 2) & 1]);
      extent = Math.max(extent, Math.abs(p[0] / this.width * 2 - 1), Math.abs(p[1] / this.height * 2 - 1));
    }
    this.camera.zoom = saved;
    return extent > 0 ? Math.min(4, 0.86 / extent) : 1;
  };

  ScatterView.prototype.resize = function () {
    var rect = this.stage.getBoundingClientRect();
    var ratio = window.devicePixelRatio || 1;
    this.width = Math.max(1, rect.width);
    this.height = Math.max(1, rect.height);
    this.canvas.width = Math.round(this.width * ratio);
    this.canvas.height = Math.round(this.height * ratio);
    this.overlay.setAttribute('viewBox', '0 0 ' + this.width + ' ' + this.height);
    if ((this.data.view || {}).fit && !this.fitted) {  // a view that opens on a plane: fill the view with it
      this.fitted = true;
      this.camera.zoom = this.fitZoom();
    }
    this.requestRender();
  };

  ScatterView.prototype.requestRender = function () {
    var self = this;
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(function () { self.pending = false; self.render(); });
  };

  ScatterView.prototype.render = function () {
    var regl = this.regl;
    this.mvp = this.matrix();
    this.screenDirty = true;
    regl.poll();
    regl.clear({color: [1, 1, 1, 1], depth: 1});
    var ratio = window.devicePixelRatio || 1;
    this.drawBox({mvp: this.mvp});
    this.drawPoints({mvp: this.mvp, size: this.pointSize, ratio: ratio});
    this.updateOverlay();
    if (this.sync || this.firstFrameMs === null) {  // wait for the picture itself, not just the commands
      var pixel = new Uint8Array(4);
      regl.read({x: 0, y: 0, width: 1, height: 1, data: pixel});
    }
    this.frames += 1;
    if (this.firstFrameMs === null) {
      this.firstFrameMs = performance.now();
      this.root.setAttribute('data-first-frame', this.firstFrameMs.toFixed(1));
    }
    var waiting = this.waiting;
    this.waiting = [];
    waiting.forEach(function (resolve) { resolve(); });
  };

  // -- which points are in focus, and their states in the buffer --------------------------------------
  ScatterView.prototype.neighboursOf = function (i) {
    var nb = this.model.neighbours;
    if (!nb || i < 0) return [];
    var out = [];
    for (var r = 0; r < nb.k; r++) {
      var j = nb.index[i * nb.k + r];
      if (j >= 0) out.push({index: j, score: nb.score[i * nb.k + r]});
    }
    return out;
  };

  ScatterView.prototype.focusSet = function () {
    var n = this.model.n, out = [];
    if (this.selected >= 0) {
      out.push(this.selected);
      this.neighboursOf(this.selected).forEach(function (nb) { if (nb.index < n) out.push(nb.index); });
    }
    if (this.searchHit >= 0 && out.indexOf(this.searchHit) < 0) out.push(this.searchHit);
    return out;
  };

  // turn the camera's attention to the points in focus: centre on them, zoom until they fill the view
  ScatterView.prototype.frameFocus = function () {
    var focus = this.focusSet(), pos = this.model.positions, lo = [Infinity, Infinity, Infinity];
    var hi = [-Infinity, -Infinity, -Infinity];
    if (!focus.length) return;
    focus.forEach(function (i) {
      for (var d = 0; d < 3; d++) { lo[d] = Math.min(lo[d], pos[i * 3 + d]); hi[d] = Math.max(hi[d], pos[i * 3 + d]); }
    });
    var radius = Math.max(0.02, Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) / 2);
    this.camera.target = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
    this.camera.zoom = Math.min(40, Math.max(1, 1.2 / radius));
    this.requestRender();
  };

  ScatterView.prototype.updateStates = function () {
    var n = this.model.n, states = this.states, groups = this.model.groups, hidden = this.hidden;
    var focus = this.focusSet(), dimOthers = this.selected >= 0;
    var rest = dimOthers ? (this.isolate ? 3 : 1) : 0;
    for (var i = 0; i < n; i++) states[i] = groups && hidden[groups[i]] ? 3 : rest;
    focus.forEach(function (j) { states[j] = 2; });
    for (var k = 0; k < n; k++) this.looks[k * 4 + 3] = states[k];
    this.looksBuffer.subdata(this.looks);
    this.requestRender();
  };

  // -- picking --------------------------------------------------------------------------------------------
  ScatterView.prototype.refreshScreen = function () {
    if (!this.screenDirty) return;
    var n = this.model.n, pos = this.model.positions, m = this.mvp, screen = this.screen, ok = this.visibleOnScreen;
    var w = this.width, h = this.height;
    for (var i = 0; i < n; i++) {
      var x = pos[i * 3], y = pos[i * 3 + 1], z = pos[i * 3 + 2];
      var cw = m[3] * x + m[7] * y + m[11] * z + m[15];
      var cz = (m[2] * x + m[6] * y + m[10] * z + m[14]) / cw;
      screen[i * 2] = ((m[0] * x + m[4] * y + m[8] * z + m[12]) / cw + 1) / 2 * w;
      screen[i * 2 + 1] = (1 - (m[1] * x + m[5] * y + m[9] * z + m[13]) / cw) / 2 * h;
      ok[i] = cw > 0 && cz > -1 && cz < 1 ? 1 : 0;
    }
    this.screenDirty = false;
  };

  ScatterView.prototype.pick = function (x, y) {
    this.refreshScreen();
    var best = -1, bestDistance = PICK_PIXELS * PICK_PIXELS, screen = this.screen, states = this.states;
    for (var i = 0; i < this.model.n; i++) {
      if (!this.visibleOnScreen[i] || states[i] === 3) continue;
      var dx = screen[i * 2] - x, dy = screen[i * 2 + 1] - y, d = dx * dx + dy * dy;
      if (d < bestDistance || (d === bestDistance && states[i] === 2)) { best = i; bestDistance = d; }
    }
    return best;
  };

  // -- pointer: drag rotates (3D) or pans (2D); shift-drag pans; wheel zooms; click picks ----------------
  ScatterView.prototype.bindPointer = function () {
    var self = this, canvas = this.canvas, drag = null;
    canvas.addEventListener('pointerdown', function (e) {
      drag = {x: e.clientX, y: e.clientY, startX: e.clientX, startY: e.clientY, moved: false,
              pan: e.shiftKey || e.button === 2 || self.model.dims === 2};
      if (canvas.setPointerCapture && e.pointerId !== undefined) {
        try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* synthetic events have no capture */ }
      }
      e.preventDefault();
    });
    canvas.addEventListener('pointermove', function (e) {
      if (drag && (e.buttons || e.pressure)) {
        var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        drag.x = e.clientX; drag.y = e.clientY;
        if (Math.abs(e.clientX - drag.startX) + Math.abs(e.clientY - drag.startY) > CLICK_SLOP) drag.moved = true;
        if (drag.pan) self.pan(dx, dy); else self.rotate(dx, dy);
        self.hideTip();
        return;
      }
      var rect = canvas.getBoundingClientRect();
      self.hover(e.clientX - rect.left, e.clientY - rect.top);
    });
    canvas.addEventListener('pointerup', function (e) {
      if (drag && !drag.moved) {
        var rect = canvas.getBoundingClientRect();
        self.select(self.pick(e.clientX - rect.left, e.clientY - rect.top));
      }
      drag = null;
    });
    canvas.addEventListener('pointerleave', function () { self.hovered = -1; self.hideTip(); self.requestRender(); });
    canvas.addEventListener('contextmenu', function (e) { e.preventDefault(); });
    canvas.addEventListener('dblclick', function () { self.resetCamera(); });
    canvas.addEventListener('wheel', function (e) {
      e.preventDefault();
      self.camera.zoom = Math.min(40, Math.max(0.2, self.camera.zoom * Math.exp(-e.deltaY * 0.0015)));
      self.requestRender();
    }, {passive: false});
  };

  ScatterView.prototype.resetCamera = function () {
    this.camera = this.initialCamera();
    if ((this.data.view || {}).fit) this.camera.zoom = this.fitZoom();
    this.requestRender();
  };

  ScatterView.prototype.rotate = function (dx, dy) {
    var cam = this.camera;
    cam.azimuth += dx * ROTATE_SPEED;
    cam.elevation = Math.max(-Math.PI / 2, Math.min(Math.PI / 2, cam.elevation + dy * ROTATE_SPEED));
    this.requestRender();
  };

  ScatterView.prototype.pan = function (dx, dy) {
    var cam = this.camera, scale = 2.24 / cam.zoom / this.height;
    if (this.model.dims === 3) scale = 2 * cam.distance * Math.tan(FIELD_OF_VIEW / 2 / cam.zoom) / this.height;
    // screen right and up, in data coordinates: the rows of the rotation
    var r = multiply(rotateX(cam.elevation - Math.PI / 2), rotateZ(-cam.azimuth));
    for (var d = 0; d < 3; d++) cam.target[d] -= (r[d * 4] * dx - r[d * 4 + 1] * dy) * scale;
    this.requestRender();
  };

  ScatterView.prototype.hover = function (x, y) {
    var i = this.pick(x, y);
    if (i !== this.hovered) { this.hovered = i; this.requestRender(); }
    if (i < 0) { this.hideTip(); return; }
    var group = this.model.groups ? this.data.groups.names[this.model.groups[i]] : null;
    this.tip.textContent = this.words[i] + (group ? '  (' + group + ')' : '');
    this.tip.style.left = (x + 14) + 'px';
    this.tip.style.top = (y + 10) + 'px';
    this.tip.hidden = false;
  };

  ScatterView.prototype.hideTip = function () { this.tip.hidden = true; };

  // -- the side panel: search, selection with neighbours, legend ------------------------------------------
  ScatterView.prototype.bindPanel = function () {
    var self = this, root = this.root;
    this.searchBox = root.querySelector('.es-search');
    this.matchList = root.querySelector('.es-matches');
    this.selection = root.querySelector('.es-selection');
    this.isolateBox = root.querySelector('.es-isolate');
    this.searchBox.addEventListener('input', function () { self.search(self.searchBox.value); });
    this.searchBox.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { self.search(self.searchBox.value); if (self.searchHit >= 0) self.select(self.searchHit); }
      if (e.key === 'Escape') { self.searchBox.value = ''; self.search(''); }
    });
    if (this.isolateBox) {
      this.isolateBox.addEventListener('change', function () {
        self.isolate = self.isolateBox.checked;
        self.updateStates();
        if (self.isolate) self.frameFocus(); else self.resetCamera();
      });
    }
    Array.prototype.forEach.call(root.querySelectorAll('.es-legend li[data-group]'), function (item) {
      item.addEventListener('click', function () {
        var g = +item.getAttribute('data-group');
        self.hidden[g] = self.hidden[g] ? 0 : 1;
        item.classList.toggle('es-off', !!self.hidden[g]);
        self.updateStates();
      });
    });
  };

  ScatterView.prototype.indexOfWord = function (word) {
    if (!this.wordIndex) {
      this.wordIndex = new Map();
      for (var i = this.model.n - 1; i >= 0; i--) this.wordIndex.set(this.words[i], i);
    }
    var found = this.wordIndex.get(word);
    return found === undefined ? -1 : found;
  };

  ScatterView.prototype.matches = function (query) {
    var exact = this.indexOfWord(query), out = exact >= 0 ? [exact] : [];
    var folded = query.toLowerCase(), words = this.words, n = this.model.n;
    for (var pass = 0; pass < 3 && out.length < MAX_MATCHES; pass++) {
      for (var i = 0; i < n && out.length < MAX_MATCHES; i++) {
        var w = words[i].toLowerCase();
        var hit = pass === 0 ? w === folded : pass === 1 ? w.lastIndexOf(folded, 0) === 0 : w.indexOf(folded) >= 0;
        if (hit && out.indexOf(i) < 0) out.push(i);
      }
    }
    return out;
  };

  ScatterView.prototype.search = function (text) {
    var self = this, query = text.trim();
    var found = query ? this.matches(query) : [];
    this.searchHit = found.length ? found[0] : -1;
    while (this.matchList.firstChild) this.matchList.removeChild(this.matchList.firstChild);
    found.forEach(function (i) {
      var item = document.createElement('li');
      var button = document.createElement('button');
      button.type = 'button';
      button.textContent = self.words[i];
      button.addEventListener('click', function () { self.select(i); });
      item.appendChild(button);
      self.matchList.appendChild(item);
    });
    if (query && !found.length) {
      var none = document.createElement('li');
      none.className = 'es-none';
      none.textContent = 'not among these points';
      this.matchList.appendChild(none);
    }
    this.updateStates();
  };

  ScatterView.prototype.select = function (i) {
    var self = this;
    this.selected = i;
    var box = this.selection;
    if (i < 0) { box.hidden = true; this.updateStates(); return; }
    box.hidden = false;
    box.querySelector('.es-word').textContent = this.words[i];
    var group = this.model.groups ? this.data.groups.names[this.model.groups[i]] : '';
    box.querySelector('.es-group').textContent = group ? 'group: ' + group : '';
    var list = box.querySelector('.es-neighbours');
    while (list.firstChild) list.removeChild(list.firstChild);
    this.neighboursOf(i).forEach(function (nb) {
      var item = document.createElement('li');
      var word = document.createElement(nb.index < self.model.n ? 'button' : 'span');
      word.className = 'es-neighbour';
      word.textContent = self.words[nb.index];
      if (nb.index < self.model.n) {
        word.type = 'button';
        word.addEventListener('click', function () { self.select(nb.index); });
      } else {
        word.title = 'not among the points of this page';
      }
      var score = document.createElement('span');
      score.className = 'es-score';
      score.textContent = nb.score.toFixed(3);
      item.appendChild(word);
      item.appendChild(document.createTextNode(' '));
      item.appendChild(score);
      list.appendChild(item);
    });
    this.updateStates();
    if (this.isolate) this.frameFocus();
  };

  // -- what tests and benchmarks read --------------------------------------------------------------------
  ScatterView.prototype.api = function () {
    var self = this;
    return {
      id: this.root.id,
      words: function () { return self.words.slice(0, self.model.n); },
      screenPosition: function (word) {
        var i = self.indexOfWord(word);
        if (i < 0) return null;
        var pos = self.model.positions, rect = self.canvas.getBoundingClientRect();
        var p = self.project(pos[i * 3], pos[i * 3 + 1], pos[i * 3 + 2]);
        return {x: rect.left + p[0], y: rect.top + p[1]};
      },
      state: function () {
        return {selected: self.selected >= 0 ? self.words[self.selected] : null,
                searchHit: self.searchHit >= 0 ? self.words[self.searchHit] : null,
                focus: self.focusSet().map(function (i) { return self.words[i]; }),
                hiddenPoints: Array.prototype.filter.call(self.states, function (s) { return s === 3; }).length,
                frames: self.frames, firstFrameMs: self.firstFrameMs,
                azimuth: self.camera.azimuth, elevation: self.camera.elevation};
      },
      nextFrame: function () {
        return new Promise(function (resolve) { self.waiting.push(resolve); self.requestRender(); });
      },
      setSync: function (on) { self.sync = !!on; }
    };
  };

  // -- charts: tooltips on the marks Python wrote ------------------------------------------------------
  function bindChart(root) {
    var tip = root.querySelector('.es-tip'), stage = root.querySelector('.es-stage');
    Array.prototype.forEach.call(root.querySelectorAll('[data-tip]'), function (mark) {
      mark.addEventListener('pointerenter', function () {
        tip.textContent = mark.getAttribute('data-tip');
        tip.hidden = false;
        mark.classList.add('es-hot');
      });
      mark.addEventListener('pointermove', function (e) {
        var rect = stage.getBoundingClientRect();
        tip.style.left = (e.clientX - rect.left + 14) + 'px';
        tip.style.top = (e.clientY - rect.top + 10) + 'px';
      });
      mark.addEventListener('pointerleave', function () { tip.hidden = true; mark.classList.remove('es-hot'); });
    });
  }

  function start() {
    var registry = window.embedspace = window.embedspace || {views: []};
    Array.prototype.forEach.call(document.querySelectorAll('.es-view:not([data-ready])'), function (root) {
      root.setAttribute('data-ready', '');
      if (root.getAttribute('data-kind') === 'chart') { bindChart(root); return; }
      var data = JSON.parse(root.querySelector('script.es-data').textContent);
      try {
        registry.views.push(new ScatterView(root, data).api());
      } catch (error) {
        var stage = root.querySelector('.es-stage');
        stage.textContent = 'This view needs WebGL, which this browser does not offer (' + error.message + ').';
        stage.className += ' es-failed';
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
