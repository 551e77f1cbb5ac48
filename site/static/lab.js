// lab.js: the lab pages. Run posts the knobs, reads the answer as it
// streams (one JSON object a line), fills the table and redraws the chart
// (SVG, no library) after every row. Stop aborts the request, which stops
// the run on the server.
(function () {
  'use strict';

  var page = document.querySelector('.lab[data-lab]');
  if (!page) {
    return;
  }
  var name = page.getAttribute('data-lab');
  var form = document.getElementById('lab-form');
  var runBtn = document.getElementById('lab-run');
  var stopBtn = document.getElementById('lab-stop');
  var resetBtn = document.getElementById('lab-reset');
  var statusEl = document.getElementById('lab-status');
  var chartEl = document.getElementById('lab-chart');
  var table = document.getElementById('lab-table');
  var metaEl = document.getElementById('lab-meta');
  var SVG = 'http://www.w3.org/2000/svg';

  var state = null; // {start, rows, done}
  var aborter = null;

  function ms(ns) { return ns / 1e6; }
  function fmtDur(ns) {
    if (ns >= 1e9) { return (ns / 1e9).toFixed(2) + ' s'; }
    return Math.round(ns / 1e6) + ' ms';
  }
  function setStatus(msg, kind) {
    statusEl.textContent = msg;
    statusEl.setAttribute('data-kind', kind || '');
  }

  // ---- Per-lab description: table columns and chart series ----------------

  var labs = {
    'async-vs-sync': {
      // The blog's rows and this machine's, by concurrency: the blog's
      // table shows before any run.
      rows: function (st, rows) {
        var byN = {}, ns = [];
        (st.seed || []).forEach(function (s) { byN[s.concurrency] = null; ns.push(s.concurrency); });
        rows.forEach(function (r) {
          if (!(r.concurrency in byN)) { ns.push(r.concurrency); }
          byN[r.concurrency] = r;
        });
        ns.sort(function (a, b) { return a - b; });
        return ns.map(function (n) { return byN[n] || {concurrency: n}; });
      },
      head: ['requests at once', 'blog: async', 'blog: sync', 'blog: sync in units', 'here: async', 'here: sync', 'here: sync in units', 'waiting at once: async / sync'],
      row: function (r, st) {
        var seed = seedFor(st, r.concurrency);
        var u = st.unit_ns;
        var here = r.sync_ns !== undefined;
        return [r.concurrency,
          seed ? fmtDur(seed.async_ns) : '–', seed ? fmtDur(seed.sync_ns) : '–',
          seed ? (seed.sync_ns / st.seed_unit_ns).toFixed(1) + '×' : '–',
          here ? fmtDur(r.async_ns) : '–', here ? fmtDur(r.sync_ns) : '–', here ? (r.sync_ns / u).toFixed(1) + '×' : '–',
          here ? r.async_peak + ' / ' + r.sync_peak : '–'];
      },
      chart: function (st, rows) {
        var su = st.seed_unit_ns, u = st.unit_ns;
        var seed = st.seed || [];
        return {
          x: 'requests at once', y: 'burst time, in units of the handler\u2019s wait',
          series: [
            {name: 'blog (2 s wait): async', cls: 's-a', dash: true, pts: seed.map(function (s) { return [s.concurrency, s.async_ns / su]; })},
            {name: 'blog (2 s wait): sync', cls: 's-b', dash: true, pts: seed.map(function (s) { return [s.concurrency, s.sync_ns / su]; })},
            {name: rows.length ? 'this machine (' + fmtDur(u) + ' wait): async' : 'this machine, async: press Run', cls: 's-a', pts: rows.map(function (r) { return [r.concurrency, r.async_ns / u]; })},
            {name: rows.length ? 'this machine (' + fmtDur(u) + ' wait): sync' : 'this machine, sync: press Run', cls: 's-b', pts: rows.map(function (r) { return [r.concurrency, r.sync_ns / u]; })}
          ],
          xMin: 0, yMin: 0, xTicks: rows.length ? rows.map(function (r) { return r.concurrency; }) : seed.map(function (r) { return r.concurrency; })
        };
      }
    },
    cores: {
      head: ['way', 'on time', 'late', 'p50', 'p90', 'last', 'computing at once'],
      row: function (r) {
        return [r.way, r.on_time, r.late, fmtDur(r.p50_ns), fmtDur(r.p90_ns), fmtDur(r.last_ns), r.peak];
      },
      chart: function (st, rows) {
        var cls = ['s-a', 's-b', 's-c'];
        return {
          x: 'completion time (ms)', y: 'jobs finished', step: true,
          series: rows.map(function (r, i) {
            var pts = [[0, 0]];
            (r.times_ns || []).forEach(function (t, j) { pts.push([ms(t), j + 1]); });
            return {name: r.way + ': ' + r.late + ' late', cls: cls[i % 3], pts: pts, noDots: true};
          }),
          vlines: [{x: ms(st.deadline_ns), label: 'deadline ' + fmtDur(st.deadline_ns)}],
          xMin: 0, yMin: 0
        };
      }
    },
    workers: {
      head: ['workers', 'sync slots', 'def sleep burst', 'async await burst', 'blocking async burst', '/ping during it', 'one worker\u2019s counter'],
      row: function (r, st) {
        return [r.workers, r.slots, fmtDur(r.sync_ns), fmtDur(r.async_ns), fmtDur(r.blocking_ns), fmtDur(r.ping_ns),
          r.counter + ' of ' + st.knobs.requests];
      },
      chart: function (st, rows) {
        function s(n, c, f) { return {name: n, cls: c, pts: rows.map(function (r) { return [r.workers, ms(f(r))]; })}; }
        return {
          x: 'worker processes', y: 'wall time of the burst (ms)',
          series: [
            s(st.knobs.requests + ' × def sleep', 's-b', function (r) { return r.sync_ns; }),
            s(st.knobs.requests + ' × async await', 's-a', function (r) { return r.async_ns; }),
            s(st.knobs.blocking + ' × blocking async', 's-c', function (r) { return r.blocking_ns; }),
            s('/ping during the blocking burst', 's-d', function (r) { return r.ping_ns; })
          ],
          xMin: 0, yMin: 0, xTicks: rows.map(function (r) { return r.workers; })
        };
      }
    },
    queue: {
      summary: function (st, rows) {
        var worst = 0;
        rows.forEach(function (r) { worst = Math.max(worst, r.l ? Math.abs(r.l - r.lambda_w) / r.l : 0); });
        return 'Little\u2019s law: L and \u03bbW within ' + Math.round(worst * 100) + '% of each other at every load.';
      },
      head: ['load', 'λ asked', 'λ measured', 'W mean', 'W p90', 'W (M/M/k theory)', 'in queue', 'L sampled', 'λ × W', 'Little: apart'],
      row: function (r) {
        var gap = r.l ? Math.abs(r.l - r.lambda_w) / r.l : 0;
        return [r.load + '%', Math.round(r.offered) + '/s', Math.round(r.arrivals) + '/s', fmtDur(r.mean_ns), fmtDur(r.p90_ns),
          r.predict_ns ? fmtDur(r.predict_ns) : 'grows without bound', fmtDur(r.wait_ns), r.l.toFixed(2), r.lambda_w.toFixed(2),
          Math.round(gap * 100) + '%'];
      },
      chart: function (st, rows) {
        function s(n, c, f, dash) {
          return {name: n, cls: c, dash: dash, pts: rows.filter(function (r) { return f(r) > 0; }).map(function (r) { return [r.load, ms(f(r))]; })};
        }
        return {
          x: 'utilisation (% of k/d)', y: 'time in the system (ms)',
          series: [
            s('W mean, measured', 's-a', function (r) { return r.mean_ns; }),
            s('W p90, measured', 's-b', function (r) { return r.p90_ns; }),
            s('W mean, M/M/k theory', 's-c', function (r) { return r.predict_ns; }, true)
          ],
          vlines: [{x: 100, label: 'k/d'}],
          hlines: [{y: ms(st.unit_ns), label: 'd'}],
          xMin: 0, xMax: 100, yMin: 0
        };
      }
    }
  };
  var spec = labs[name];

  function seedFor(st, n) {
    var s = st.seed || [];
    for (var i = 0; i < s.length; i++) {
      if (s[i].concurrency === n) { return s[i]; }
    }
    return null;
  }

  // ---- Table -------------------------------------------------------------

  function fillTable() {
    var thead = table.tHead, tbody = table.tBodies[0];
    thead.textContent = '';
    tbody.textContent = '';
    var tr = thead.insertRow();
    spec.head.forEach(function (h) {
      var th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      tr.appendChild(th);
    });
    if (!state) { return; }
    (spec.rows ? spec.rows(state.start, state.rows) : state.rows).forEach(function (r) {
      var row = tbody.insertRow();
      spec.row(r, state.start).forEach(function (c, i) {
        var cell = i === 0 ? document.createElement('th') : document.createElement('td');
        if (i === 0) { cell.scope = 'row'; }
        cell.textContent = String(c);
        row.appendChild(cell);
      });
    });
  }

  // ---- Chart -------------------------------------------------------------

  function el(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function niceMax(v) {
    if (!(v > 0)) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * p >= v) { return steps[i] * p; }
    }
    return 10 * p;
  }
  // tickCount picks how many steps divide [0, max] into round numbers.
  function tickCount(max) {
    var counts = [5, 4, 6, 3, 8, 2];
    for (var i = 0; i < counts.length; i++) {
      var step = max / counts[i];
      var f = step / Math.pow(10, Math.floor(Math.log10(step)));
      if ([1, 2, 2.5, 5, 10].some(function (n) { return Math.abs(f - n) < 1e-9; })) {
        return counts[i];
      }
    }
    return 5;
  }
  function fmtTick(v) {
    if (Math.abs(v) >= 100 || v === Math.round(v)) { return String(Math.round(v)); }
    return v.toFixed(1);
  }

  function draw() {
    chartEl.textContent = '';
    if (!state) {
      chartEl.setAttribute('data-empty', 'true');
      return;
    }
    chartEl.setAttribute('data-empty', 'false');
    var c = spec.chart(state.start, state.rows);
    var W = Math.max(300, Math.min(chartEl.clientWidth || 640, 1100));
    var narrow = W < 520;
    var H = narrow ? 300 : 360;
    var m = {l: 56, r: 16, t: 12, b: 44};
    var pw = W - m.l - m.r, ph = H - m.t - m.b;
    var xs = [], ys = [];
    c.series.forEach(function (s) { s.pts.forEach(function (p) { xs.push(p[0]); ys.push(p[1]); }); });
    (c.vlines || []).forEach(function (v) { xs.push(v.x); });
    (c.hlines || []).forEach(function (h) { ys.push(h.y); });
    var x0 = c.xMin !== undefined ? c.xMin : Math.min.apply(null, xs);
    var x1 = niceMax(Math.max(c.xMax || 0, Math.max.apply(null, xs.length ? xs : [1])));
    var y0 = c.yMin !== undefined ? c.yMin : 0;
    var y1 = niceMax(Math.max.apply(null, ys.length ? ys : [1]) * 1.05);
    function X(v) { return m.l + (v - x0) / (x1 - x0 || 1) * pw; }
    function Y(v) { return m.t + ph - (v - y0) / (y1 - y0 || 1) * ph; }

    var svg = el('svg', {viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img',
      'aria-labelledby': 'lab-svg-title', class: 'lab-svg'});
    svg.appendChild(el('title', {id: 'lab-svg-title'}, 'Chart: ' + c.y + ' against ' + c.x + '. The table below has the same numbers.'));
    var g = el('g', {class: 'axes'});
    var yt = tickCount(y1 - y0), xt = tickCount(x1 - x0), i;
    for (i = 0; i <= yt; i++) {
      var yv = y0 + (y1 - y0) * i / yt;
      g.appendChild(el('line', {x1: m.l, x2: m.l + pw, y1: Y(yv), y2: Y(yv), class: 'grid'}));
      g.appendChild(el('text', {x: m.l - 6, y: Y(yv) + 4, 'text-anchor': 'end', class: 'tick'}, fmtTick(yv)));
    }
    for (i = 0; i <= xt && !c.xTicks; i++) {
      var xv = x0 + (x1 - x0) * i / xt;
      g.appendChild(el('text', {x: X(xv), y: m.t + ph + 16, 'text-anchor': 'middle', class: 'tick'}, fmtTick(xv)));
    }
    (c.xTicks || []).forEach(function (xv) {
      g.appendChild(el('line', {x1: X(xv), x2: X(xv), y1: m.t + ph, y2: m.t + ph + 4, class: 'axis'}));
      g.appendChild(el('text', {x: X(xv), y: m.t + ph + 16, 'text-anchor': 'middle', class: 'tick'}, fmtTick(xv)));
    });
    g.appendChild(el('line', {x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, class: 'axis'}));
    g.appendChild(el('line', {x1: m.l, x2: m.l, y1: m.t, y2: m.t + ph, class: 'axis'}));
    g.appendChild(el('text', {x: m.l + pw / 2, y: H - 8, 'text-anchor': 'middle', class: 'label'}, c.x));
    g.appendChild(el('text', {x: 14, y: m.t + ph / 2, 'text-anchor': 'middle', class: 'label',
      transform: 'rotate(-90 14 ' + (m.t + ph / 2) + ')'}, narrow ? c.y.replace(/, in units of.*/, ' (units)') : c.y));
    svg.appendChild(g);

    (c.vlines || []).forEach(function (v) {
      svg.appendChild(el('line', {x1: X(v.x), x2: X(v.x), y1: m.t, y2: m.t + ph, class: 'mark'}));
      // The label goes left of the line, or right of it where the left has no room.
      var left = X(v.x) - m.l > v.label.length * 7 + 8;
      svg.appendChild(el('text', {x: left ? X(v.x) - 4 : X(v.x) + 4, y: m.t + 12, 'text-anchor': left ? 'end' : 'start', class: 'mark-label'}, v.label));
    });
    (c.hlines || []).forEach(function (h) {
      svg.appendChild(el('line', {x1: m.l, x2: m.l + pw, y1: Y(h.y), y2: Y(h.y), class: 'mark'}));
      svg.appendChild(el('text', {x: m.l + 4, y: Y(h.y) - 4, class: 'mark-label'}, h.label));
    });

    c.series.forEach(function (s) {
      if (!s.pts.length) { return; }
      var d = '';
      s.pts.forEach(function (p, j) {
        if (j === 0) {
          d += 'M' + X(p[0]).toFixed(1) + ' ' + Y(p[1]).toFixed(1);
        } else if (c.step) {
          d += 'H' + X(p[0]).toFixed(1) + 'V' + Y(p[1]).toFixed(1);
        } else {
          d += 'L' + X(p[0]).toFixed(1) + ' ' + Y(p[1]).toFixed(1);
        }
      });
      svg.appendChild(el('path', {d: d, class: 'series ' + s.cls + (s.dash ? ' dash' : '')}));
      if (!s.noDots) {
        s.pts.forEach(function (p) {
          svg.appendChild(el('circle', {cx: X(p[0]), cy: Y(p[1]), r: s.dash ? 3 : 4, class: 'dot ' + s.cls + (s.dash ? ' hollow' : '')}));
        });
      }
    });
    chartEl.appendChild(svg);

    var legend = document.createElement('ul');
    legend.className = 'lab-legend';
    c.series.forEach(function (s) {
      var li = document.createElement('li');
      var key = el('svg', {width: 28, height: 10, 'aria-hidden': 'true', class: 'key'});
      key.appendChild(el('line', {x1: 0, x2: 28, y1: 5, y2: 5, class: 'series ' + s.cls + (s.dash ? ' dash' : '')}));
      li.appendChild(key);
      li.appendChild(document.createTextNode(' ' + s.name));
      legend.appendChild(li);
    });
    chartEl.appendChild(legend);
  }

  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(draw, 150);
  });
  // A theme switch changes only CSS colours; nothing to redraw.

  // ---- Run ---------------------------------------------------------------

  function knobInputs() { return form.querySelectorAll('input[name]'); }

  function markInvalid(msg) {
    knobInputs().forEach(function (i) { i.removeAttribute('aria-invalid'); });
    var m = /^tutor: (\w+)[: ]/.exec(msg);
    if (m) {
      var input = form.querySelector('input[name="' + m[1] + '"]');
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    }
  }

  function running(on) {
    runBtn.disabled = on;
    stopBtn.hidden = !on;
    page.setAttribute('data-running', on ? 'true' : 'false');
  }

  function handle(ev) {
    if (ev.kind === 'start') {
      state = {start: ev.data, rows: [], done: false};
      metaEl.textContent = 'Measured on this machine: ' + ev.data.cpus + ' CPUs, GOMAXPROCS ' + ev.data.gomaxprocs +
        (ev.data.load ? ', load average ' + ev.data.load + ' when the run started (a busy machine makes the numbers noisier)' : '') + '.';
      setStatus('Running: 0 of ' + ev.data.rows + ' rows measured…', 'busy');
    } else if (ev.kind === 'row' && state) {
      state.rows.push(ev.data);
      setStatus('Running: ' + state.rows.length + ' of ' + state.start.rows + ' rows measured…', 'busy');
    } else if (ev.kind === 'done' && state) {
      state.done = true;
      setStatus('Done: ' + state.rows.length + ' rows measured.' + (spec.summary ? ' ' + spec.summary(state.start, state.rows) : ''), 'done');
    } else if (ev.kind === 'stopped') {
      var msg = ev.message || 'stopped';
      setStatus(/^stopped/.test(msg) ? msg : 'stopped: ' + msg, 'stopped');
    }
    fillTable();
    draw();
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (aborter) { return; }
    var body = new URLSearchParams(new FormData(form));
    aborter = new AbortController();
    running(true);
    markInvalid('');
    setStatus('Starting…', 'busy');
    state = null;
    fillTable();
    draw();
    var buf = '';
    fetch('/api/lab/' + encodeURIComponent(name) + '/run', {
      method: 'POST', body: body, signal: aborter.signal,
      headers: {'Content-Type': 'application/x-www-form-urlencoded'}
    }).then(function (resp) {
      if (!resp.ok) {
        return resp.text().then(function (t) {
          var line = t.trim().split('\n')[0];
          setStatus(line.replace(/^tutor: /, ''), 'error');
          markInvalid(line);
        });
      }
      var reader = resp.body.getReader();
      var dec = new TextDecoder();
      function pump() {
        return reader.read().then(function (r) {
          if (r.value) {
            buf += dec.decode(r.value, {stream: true});
            var lines = buf.split('\n');
            buf = lines.pop();
            lines.forEach(function (l) {
              if (l.trim()) { handle(JSON.parse(l)); }
            });
          }
          if (r.done) {
            if (state && !state.done && statusEl.getAttribute('data-kind') === 'busy') {
              setStatus('stopped: the tutor closed the connection', 'stopped');
            }
            return null;
          }
          return pump();
        });
      }
      return pump();
    }).catch(function (err) {
      if (err && err.name === 'AbortError') {
        setStatus('stopped: you pressed Stop', 'stopped');
      } else {
        setStatus('stopped: the tutor could not be reached (' + err + ')', 'error');
      }
    }).then(function () {
      aborter = null;
      running(false);
    });
  });

  stopBtn.addEventListener('click', function () {
    if (aborter) { aborter.abort(); }
  });
  resetBtn.addEventListener('click', function () {
    knobInputs().forEach(function (i) {
      i.value = i.getAttribute('data-default');
      i.removeAttribute('aria-invalid');
    });
  });

  // A lab with reference numbers (the blog's table) draws them at once.
  var seed = page.getAttribute('data-seed');
  if (seed) {
    try {
      state = {start: JSON.parse(seed), rows: [], done: false};
    } catch (e) { state = null; }
  }
  fillTable();
  draw();
})();
