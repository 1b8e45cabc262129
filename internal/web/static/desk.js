// Steward's keyboard shortcuts. Every page works without this file; it only
// adds keys for people who live in the service desk all day:
//   /        focus the global search box
//   g d      go to the service desk        g p   go to the self-service portal
//   n        log a new incident
//   j / k    next / previous record in a queue (rows marked data-row)
//   x        tick the current record's checkbox for a bulk change
//   Enter    open the current record
//   ?        show or hide the list of shortcuts
// Loaded with <script defer> from /static (the CSP forbids inline scripts).
(function () {
  'use strict';

  var pendingG = 0; // time the "g" prefix was pressed, or 0

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-row]'));
  }

  function currentIndex(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains('kb-current')) return i;
    }
    return -1;
  }

  // select marks row i of the queue as current and gives its link the focus,
  // so a screen reader announces it and Enter opens it.
  function select(list, i) {
    if (!list.length) return;
    i = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (r) {
      r.classList.remove('kb-current');
      r.removeAttribute('aria-current');
    });
    var row = list[i];
    row.classList.add('kb-current');
    row.setAttribute('aria-current', 'true');
    var link = row.querySelector('a[data-open]') || row.querySelector('a');
    if (link) link.focus();
    row.scrollIntoView({ block: 'nearest' });
  }

  function help() {
    var d = document.getElementById('shortcuts');
    if (!d || typeof d.showModal !== 'function') return;
    if (d.open) d.close();
    else d.showModal();
  }

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) {
      if (e.key === 'Escape' && e.target.id === 'global-q') e.target.blur();
      return;
    }
    var d = document.getElementById('shortcuts');
    if (d && d.open && e.key !== '?') return; // the dialog handles its own keys (Escape closes it)

    var now = Date.now();
    if (pendingG && now - pendingG < 1500) {
      pendingG = 0;
      if (e.key === 'd') { e.preventDefault(); location.href = '/desk'; return; }
      if (e.key === 'p') { e.preventDefault(); location.href = '/portal'; return; }
    }
    pendingG = 0;

    var list;
    switch (e.key) {
      case '/':
        var q = document.getElementById('global-q');
        if (q) { e.preventDefault(); q.focus(); q.select(); }
        break;
      case 'g':
        pendingG = now;
        break;
      case 'n':
        e.preventDefault();
        location.href = '/desk/incidents/new';
        break;
      case 'j':
      case 'k':
        list = rows();
        if (!list.length) return;
        e.preventDefault();
        var i = currentIndex(list);
        if (i < 0) i = e.key === 'j' ? 0 : list.length - 1;
        else i += e.key === 'j' ? 1 : -1;
        select(list, i);
        break;
      case 'x':
        list = rows();
        var c = currentIndex(list);
        if (c < 0) return;
        var box = list[c].querySelector('input[type="checkbox"]');
        if (box) { e.preventDefault(); box.checked = !box.checked; }
        break;
      case 'Enter':
        list = rows();
        var at = currentIndex(list);
        if (at < 0 || (e.target && e.target.tagName === 'A')) return; // a focused link opens itself
        var open = list[at].querySelector('a[data-open]') || list[at].querySelector('a');
        if (open) { e.preventDefault(); location.href = open.href; }
        break;
      case '?':
        e.preventDefault();
        help();
        break;
    }
  });

  // "Tick every record on this page": only with JavaScript, so it starts hidden.
  var all = document.querySelector('[data-select-all]');
  if (all) {
    all.hidden = false;
    all.addEventListener('change', function () {
      rows().forEach(function (r) {
        var box = r.querySelector('input[type="checkbox"]');
        if (box) box.checked = all.checked;
      });
    });
  }

  // A click on a row's checkbox or link also makes it the current row, so j/k go on from there.
  document.addEventListener('focusin', function (e) {
    var row = e.target && e.target.closest ? e.target.closest('[data-row]') : null;
    if (!row) return;
    rows().forEach(function (r) {
      r.classList.toggle('kb-current', r === row);
      if (r === row) r.setAttribute('aria-current', 'true');
      else r.removeAttribute('aria-current');
    });
  });
})();
