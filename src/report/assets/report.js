// The lossgap HTML report's viewer (embedded into the page). Reads the JSON in
// the element with id "lossgap-data" (written by src/report/html.cpp; docs/report-html.md) and renders
// one document at a time: every unit coloured by delta = NLL_A - NLL_B, a category filter that
// dims the other units, the spans where each model wins most, and a tooltip with each model's
// probability and top-1 prediction. Text is only ever inserted with textContent, never as HTML.
// Also sorts the category tables by a clicked column. Opening the page with ?selftest exercises
// all of this once and logs "lossgap-selftest: ok" (or a console error) for the browser test.
(function () {
  'use strict';
  var DELTA = '\u0394', MINUS = '\u2212';
  var RGB_A = [178, 24, 43], RGB_B = [33, 102, 172];

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function signed(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return '\u2013';
    var s = Math.abs(x).toFixed(digits);
    return (x > 0 ? '+' : x < 0 ? MINUS : '') + s;
  }
  function prob(nll) {
    if (nll === null || nll === undefined) return '\u2013';
    var p = Math.exp(-nll);
    return p >= 0.01 ? (100 * p).toFixed(1) + '%' : p.toExponential(1);
  }
  // A token's text made visible: whitespace shown as symbols.
  function visible(s) {
    if (s === '') return '(empty)';
    return s.replace(/\n/g, '\u23ce').replace(/\t/g, '\u21e5').replace(/ /g, '\u2423');
  }

  // Table sorting (any table.sortable).
  function sortableTables() {
    var tables = document.querySelectorAll('table.sortable');
    Array.prototype.forEach.call(tables, function (table) {
      var heads = table.tHead ? table.tHead.rows[0].cells : [];
      Array.prototype.forEach.call(heads, function (th, col) {
        th.addEventListener('click', function () {
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          var dir = th.getAttribute('data-dir') === 'desc' ? 'asc' : 'desc';
          Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('data-dir'); });
          th.setAttribute('data-dir', dir);
          function key(r) {
            var t = r.cells[col].textContent.replace(MINUS, '-').replace(/[,%\[]/g, '');
            var v = parseFloat(t);
            return isNaN(v) ? r.cells[col].textContent : v;
          }
          rows.sort(function (x, y) {
            var a = key(x), b = key(y);
            var c = (typeof a === 'number' && typeof b === 'number') ? a - b : String(a).localeCompare(String(b));
            return dir === 'asc' ? c : -c;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }

  var dataNode = $('lossgap-data');
  var D = dataNode ? JSON.parse(dataNode.textContent) : null;
  var state = { doc: 0, b: 1, cat: -1 };
  var setMembers = D ? D.sets.map(function (s) { var o = {}; s.forEach(function (c) { o[c] = true; }); return o; }) : [];

  function delta(doc, i) {
    if (D.models.length < 2) return null;
    var a = doc.nll[0][i], b = doc.nll[state.b][i];
    return (a === null || b === null) ? null : a - b;
  }
  function colour(d) {
    var t = Math.max(-1, Math.min(1, d / D.scale));
    var c = t < 0 ? RGB_A : RGB_B;
    return 'rgba(' + c[0] + ',' + c[1] + ',' + c[2] + ',' + (0.85 * Math.abs(t)).toFixed(3) + ')';
  }

  function renderDoc() {
    var view = $('doc-view');
    var doc = D.docs[state.doc];
    view.textContent = '';
    var head = el('div', 'doc-head');
    head.textContent = doc.id + (doc.domain ? ' \u00b7 ' + doc.domain : '') + ' \u00b7 ' + doc.t.length + ' of ' +
      doc.units + ' ' + D.unit + 's' + (doc.cut ? ' (cut)' : '') +
      (D.models.length >= 2 ? ' \u00b7 \u03a3' + DELTA + ' (A vs ' + D.models[1] + ') = ' + signed(doc.delta_sum, 3) + ' nats' : '');
    view.appendChild(head);
    var frag = document.createDocumentFragment();
    var g = 0;
    for (var i = 0; i <= doc.t.length; ++i) {
      while (g < doc.gap.length && doc.gap[g][0] === i) {
        frag.appendChild(el('span', 'gap', doc.gap[g][1]));
        ++g;
      }
      if (i === doc.t.length) break;
      var s = el('span', 'u', doc.t[i]);
      s.setAttribute('data-i', i);
      var d = delta(doc, i);
      if (d === null) s.className += ' nt';
      else s.style.backgroundColor = colour(d);
      frag.appendChild(s);
    }
    view.appendChild(frag);
    applyFilter();
  }

  function applyFilter() {
    var doc = D.docs[state.doc];
    var units = $('doc-view').querySelectorAll('span.u');
    Array.prototype.forEach.call(units, function (s) {
      var i = +s.getAttribute('data-i');
      var on = state.cat < 0 || setMembers[doc.set[i]][state.cat] === true;
      s.classList.toggle('dim', !on);
    });
  }

  function snippet(doc, b, e) { return doc.t.slice(b, e).join(''); }

  function renderSpans() {
    var pair = D.spans[state.b - 1];
    [['spans-b', pair ? pair.b : []], ['spans-a', pair ? pair.a : []]].forEach(function (x) {
      var ol = $(x[0]);
      ol.textContent = '';
      if (x[1].length === 0) ol.appendChild(el('li', 'none', 'none'));
      x[1].forEach(function (sp) {
        var doc = D.docs[sp[0]];
        var li = el('li');
        li.appendChild(el('span', 'sum', signed(sp[3], 3)));
        li.appendChild(el('span', 'where', doc.id + ': '));
        li.appendChild(el('span', 'snip', snippet(doc, sp[1], sp[2])));
        li.addEventListener('click', function () { jump(sp[0], sp[1], sp[2]); });
        ol.appendChild(li);
      });
    });
    $('legend-a').textContent = 'A better (' + D.models[0] + ') ' + MINUS + D.scale;
    $('legend-b').textContent = '+' + D.scale + ' B better (' + (D.models[state.b] || '') + ')';
  }

  function jump(d, b, e) {
    if (state.doc !== d) {
      state.doc = d;
      $('doc-select').value = String(d);
      renderDoc();
    }
    var units = $('doc-view').querySelectorAll('span.u.hl');
    Array.prototype.forEach.call(units, function (s) { s.classList.remove('hl'); });
    var first = null;
    for (var i = b; i < e; ++i) {
      var s = $('doc-view').querySelector('span.u[data-i="' + i + '"]');
      if (s) { s.classList.add('hl'); first = first || s; }
    }
    if (first) {
      // Scroll the document pane only (the span lists sit beside it, so the page stays put).
      var view = $('doc-view');
      view.scrollTop = Math.max(0, first.offsetTop - view.clientHeight / 2);
    }
    return first;
  }

  function showTip(span, x, y) {
    var doc = D.docs[state.doc];
    var i = +span.getAttribute('data-i');
    var tip = $('tooltip');
    tip.textContent = '';
    var title = el('div');
    title.appendChild(el('span', 'tok', visible(doc.t[i])));
    title.appendChild(document.createTextNode(' ' + D.unit + ' ' + i));
    tip.appendChild(title);
    var table = el('table');
    var hr = el('tr');
    ['model', 'p(true)', 'NLL', 'top-1', 'p(top-1)'].forEach(function (h) { hr.appendChild(el('th', '', h)); });
    table.appendChild(hr);
    for (var m = 0; m < D.models.length; ++m) {
      var tr = el('tr');
      var name = el('td', '', D.models[m] + (m === 0 ? ' (A)' : ''));
      name.style.color = D.colours[m];
      tr.appendChild(name);
      var nll = doc.nll[m][i];
      tr.appendChild(el('td', '', prob(nll)));
      tr.appendChild(el('td', '', nll === null ? '\u2013' : nll.toFixed(3)));
      var id = doc.top1 ? doc.top1[m][i] : -1;
      var top = el('td');
      var na = D.top1_available && !D.top1_available[m];  // a run without top-1 (an import of log-probs)
      if (na) {
        top.textContent = 'not available';
        top.colSpan = 2;
      } else if (id !== undefined && id >= 0) {
        var text = D.vocab[m][id];
        top.appendChild(el('span', 'tok', text === undefined ? '#' + id : visible(text)));
      } else top.textContent = '\u2013';
      tr.appendChild(top);
      var lp = doc.top1_lp ? doc.top1_lp[m][i] : null;
      if (!na) tr.appendChild(el('td', '', lp === null || lp === undefined ? '\u2013' : prob(-lp)));
      table.appendChild(tr);
    }
    tip.appendChild(table);
    if (D.models.length >= 2) {
      var d = delta(doc, i);
      tip.appendChild(el('div', '', DELTA + ' (A ' + MINUS + ' ' + D.models[state.b] + ') = ' + signed(d, 3) + ' nats' +
        (d === null ? ' (not a target)' : d > 0 ? ': B better' : d < 0 ? ': A better' : '')));
    }
    var cats = D.sets[doc.set[i]].map(function (c) { return D.categories[c][0]; });
    tip.appendChild(el('div', 'cats', cats.length ? cats.join(' \u00b7 ') : 'no category'));
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(4, Math.min(x + 14, window.innerWidth - w - 8)) + 'px';
    tip.style.top = (y + 18 + h > window.innerHeight ? Math.max(4, y - h - 10) : y + 18) + 'px';
    return tip;
  }

  function setupViewer() {
    var ds = $('doc-select'), ps = $('pair-select'), cs = $('cat-select');
    D.docs.forEach(function (doc, k) {
      var o = el('option', '', (k + 1) + '. ' + doc.id + (doc.domain ? ' (' + doc.domain + ')' : '') +
        (D.models.length >= 2 ? ' \u03a3' + DELTA + ' ' + signed(doc.delta_sum, 2) : '') + (doc.cut ? ' [cut]' : ''));
      o.value = String(k);
      ds.appendChild(o);
    });
    for (var m = 1; m < D.models.length; ++m) {
      var o = el('option', '', D.models[m]);
      o.value = String(m);
      ps.appendChild(o);
    }
    if (D.models.length <= 2) $('pair-label').hidden = true;
    var groups = {};
    D.categories.forEach(function (c, k) {
      if (k === 0) return;  // ALL
      if (!groups[c[1]]) { groups[c[1]] = el('optgroup'); groups[c[1]].label = c[1]; cs.appendChild(groups[c[1]]); }
      var o = el('option', '', c[0]);
      o.value = String(k);
      groups[c[1]].appendChild(o);
    });
    ds.addEventListener('change', function () { state.doc = +ds.value; renderDoc(); });
    ps.addEventListener('change', function () { state.b = +ps.value; renderDoc(); renderSpans(); });
    cs.addEventListener('change', function () { state.cat = +cs.value; applyFilter(); });
    var view = $('doc-view');
    view.addEventListener('mouseover', function (ev) {
      var s = ev.target.closest ? ev.target.closest('span.u') : null;
      if (s) showTip(s, ev.clientX, ev.clientY);
    });
    view.addEventListener('mouseout', function (ev) {
      if (ev.target.closest && ev.target.closest('span.u')) $('tooltip').hidden = true;
    });
    renderDoc();
    renderSpans();
  }

  function selftest() {
    var fail = function (what) { console.error('lossgap-selftest: FAIL ' + what); };
    var charts = document.querySelectorAll('figure.chart svg').length;
    if (charts < 3) return fail('only ' + charts + ' charts');
    if (!D || D.docs.length === 0) return fail('no viewer documents');
    var units = document.querySelectorAll('#doc-view span.u');
    if (units.length !== D.docs[0].t.length) return fail('document 0 shows ' + units.length + ' units, expected ' + D.docs[0].t.length);
    var target = document.querySelector('#doc-view span.u:not(.nt)');
    if (!target) return fail('no target unit coloured');
    var r = target.getBoundingClientRect();
    target.dispatchEvent(new MouseEvent('mouseover', { bubbles: true, clientX: r.left + 2, clientY: r.top + 2 }));
    var tip = $('tooltip');
    if (tip.hidden || tip.querySelectorAll('tr').length !== D.models.length + 1) return fail('tooltip');
    var cs = $('cat-select');
    if (cs.options.length > 1) {
      cs.selectedIndex = 1;
      cs.dispatchEvent(new Event('change'));
    }
    var spans = document.querySelectorAll('#spans-b li, #spans-a li');
    var clicked = document.querySelector('#spans-b li:not(.none), #spans-a li:not(.none)');
    if (clicked) {
      clicked.dispatchEvent(new MouseEvent('click', { bubbles: true }));
      if (!document.querySelector('#doc-view span.u.hl')) return fail('span click highlighted nothing');
    }
    var sortable = document.querySelector('table.sortable th:nth-child(7)');
    if (sortable) sortable.click();
    console.log('lossgap-selftest: ok charts=' + charts + ' documents=' + D.docs.length + ' units=' + units.length +
      ' spans=' + spans.length + ' dimmed=' + document.querySelectorAll('#doc-view span.u.dim').length +
      ' tooltip=' + JSON.stringify(tip.textContent.slice(0, 120)));
  }

  sortableTables();
  if (D && D.docs.length > 0 && $('doc-view')) setupViewer();
  if (/[?&]selftest\b/.test(location.search)) {
    try { selftest(); } catch (e) { console.error('lossgap-selftest: FAIL ' + e); }
  }
})();
