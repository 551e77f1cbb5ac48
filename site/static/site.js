// site.js: live updates, buttons without page reloads, keyboard shortcuts,
// the theme switch and copy buttons. Every page works without it; this only
// makes it quicker. No framework, no build step.
(function () {
  'use strict';

  var root = document.documentElement;
  var lessonID = document.body.getAttribute('data-lesson') || '';
  var themes = ['light', 'dark', 'auto'];

  // ---- Theme -------------------------------------------------------------

  function showTheme() {
    var current = root.getAttribute('data-theme') || 'auto';
    document.querySelectorAll('[data-theme-choice]').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-theme-choice') === current));
    });
  }

  function setTheme(t) {
    if (themes.indexOf(t) < 0) {
      t = 'auto';
    }
    root.setAttribute('data-theme', t);
    try {
      localStorage.setItem('tutor-theme', t);
    } catch (e) { /* not persisted; still applied */ }
    showTheme();
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest('[data-theme-choice]');
    if (b) {
      setTheme(b.getAttribute('data-theme-choice'));
    }
  });

  // Another tab changed the theme.
  window.addEventListener('storage', function (e) {
    if (e.key === 'tutor-theme') {
      root.setAttribute('data-theme', e.newValue || 'auto');
      showTheme();
    }
  });
  showTheme();

  // ---- Messages ----------------------------------------------------------

  function flash(msg, isError) {
    var el = document.getElementById('flash');
    if (!el) {
      if (isError) {
        window.alert(msg);
      }
      return;
    }
    el.textContent = msg;
    el.hidden = !msg;
    el.classList.toggle('error', !!isError);
  }

  // ---- Buttons: POST without leaving the page ----------------------------

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.matches('form[data-async]')) {
      return;
    }
    e.preventDefault();
    if (form.getAttribute('aria-busy') === 'true') {
      return;
    }
    var button = form.querySelector('button[type="submit"]') || form.querySelector('button');
    var label = button && button.textContent;
    form.setAttribute('aria-busy', 'true');
    if (button) {
      button.disabled = true;
      if (form.getAttribute('data-busy')) {
        button.textContent = form.getAttribute('data-busy');
      }
    }
    fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: 'application/json' },
      credentials: 'same-origin'
    }).then(function (res) {
      return res.json().catch(function () {
        return { ok: false, message: 'The tutor answered ' + res.status + ' ' + res.statusText + '.' };
      });
    }).then(function (rep) {
      if (rep.hints) {
        document.getElementById('hints').innerHTML = rep.hints;
      }
      if (rep.solution) {
        var target = document.getElementById(form.getAttribute('data-target') || 'solution');
        target.innerHTML = rep.solution;
        target.scrollIntoView({ block: 'start' });
      }
      if (rep.demo || rep.fire) {
        var out = document.getElementById(form.getAttribute('data-target'));
        if (out) {
          out.innerHTML = rep.demo || rep.fire;
        }
      }
      if (rep.message || !rep.ok) {
        flash(rep.message || 'That did not work.', !rep.ok);
      }
    }).catch(function () {
      flash('The tutor is not answering. Is it still running?', true);
    }).finally(function () {
      form.removeAttribute('aria-busy');
      if (button) {
        button.disabled = false;
        button.textContent = label;
      }
    });
  });

  // ---- Copy buttons on code blocks --------------------------------------

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button.copy');
    if (!b) {
      return;
    }
    var block = b.closest('.code');
    var pre = block && block.querySelector('pre');
    if (!pre || !navigator.clipboard) {
      return;
    }
    navigator.clipboard.writeText(pre.innerText).then(function () {
      var label = b.textContent;
      b.textContent = 'Copied';
      setTimeout(function () { b.textContent = label; }, 1500);
    });
  });

  // ---- Live updates (Server-Sent Events) --------------------------------

  function setLive(state, text) {
    var el = document.getElementById('live');
    if (el) {
      el.setAttribute('data-state', state);
      el.textContent = text;
    }
  }

  function onNotice(n) {
    var el = document.getElementById('notice');
    if (el) {
      el.textContent = n.notice || '';
      el.hidden = !n.notice;
    }
  }

  function updateMap() {
    var rows = document.querySelectorAll('.lesson-row');
    if (!rows.length) {
      return;
    }
    var passed = 0;
    var next = null;
    rows.forEach(function (r) {
      if (r.getAttribute('data-status') === 'passed') {
        passed++;
      } else if (!next) {
        next = r;
      }
    });
    var bar = document.getElementById('progress');
    if (bar) {
      bar.value = passed;
      bar.textContent = Math.round(100 * passed / rows.length) + '%';
    }
    var count = document.getElementById('passed-count');
    if (count) {
      count.textContent = String(passed);
    }
    var cont = document.getElementById('continue');
    if (cont && next) {
      var a = next.querySelector('a');
      cont.href = a.getAttribute('href');
      cont.firstChild.nodeValue = 'Continue: ' + next.querySelector('.num').textContent + ' · ' +
        next.querySelector('.title').textContent + ' ';
    }
  }

  // The checks whose own timeline the learner has open, by check name.
  var openCharts = {};
  document.addEventListener('toggle', function (e) {
    var d = e.target;
    if (d.matches && d.matches('details.check-timeline')) {
      openCharts[d.getAttribute('data-check')] = d.open;
    }
  }, true);

  function onLesson(ev) {
    document.querySelectorAll('.lesson-row').forEach(function (row) {
      if (row.getAttribute('data-lesson') !== ev.lesson) {
        return;
      }
      row.setAttribute('data-status', ev.status);
      row.setAttribute('data-verdict', ev.verdict);
      row.querySelector('[data-status-text]').textContent = ev.status_text;
    });
    updateMap();
    if (ev.lesson !== lessonID) {
      return;
    }
    var hints = document.getElementById('hints');
    if (hints && ev.hints_key && hints.getAttribute('data-key') !== ev.hints_key) {
      hints.innerHTML = ev.hints_html;
      hints.setAttribute('data-key', ev.hints_key);
    }
    var v = document.getElementById('verdict');
    if (!v) {
      return;
    }
    if (typeof ev.html === 'string') {
      // Keep the output open if the learner opened it, and every check's
      // timeline the learner opened (openCharts remembers them across
      // updates: while a run is in progress a check's chart can be the one
      // shown below the list, then folded under its check again).
      var out = v.querySelector('details.output');
      var wasOpen = out && out.open;
      v.innerHTML = ev.html;
      out = v.querySelector('details.output');
      if (out && wasOpen) {
        out.open = true;
      }
      v.querySelectorAll('details.check-timeline').forEach(function (d) {
        if (openCharts[d.getAttribute('data-check')]) {
          d.open = true;
        }
      });
    }
    var changed = v.getAttribute('data-verdict') !== ev.verdict;
    v.setAttribute('data-verdict', ev.verdict);
    document.querySelectorAll('[data-verdict-pill]').forEach(function (p) {
      p.setAttribute('data-verdict', ev.verdict);
      p.textContent = ev.verdict_text || ev.verdict; // the words come from the tutor, defined once
    });
    var panel = document.querySelector('.panel');
    if (panel) {
      panel.setAttribute('data-status', ev.status);
    }
    var status = document.querySelector('.lesson-status');
    if (status) {
      status.setAttribute('data-status', ev.status);
      status.textContent = ev.status_text;
    }
    if (changed) {
      var say = document.getElementById('announce');
      var head = v.querySelector('.headline');
      if (say && head) {
        say.textContent = head.textContent;
      }
    }
  }

  var source = null;
  var retry = null;

  function connect() {
    if (source || !window.EventSource) {
      return;
    }
    var url = '/events?' + (lessonID ? 'lesson=' + encodeURIComponent(lessonID) : 'html=0');
    source = new EventSource(url);
    setLive('connecting', 'connecting…');
    source.onopen = function () {
      setLive('live', 'live');
    };
    source.onerror = function () {
      if (!source) {
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (the tutor restarted or refused): try again.
        source = null;
        setLive('off', 'offline');
        clearTimeout(retry);
        retry = setTimeout(connect, 3000);
      } else {
        setLive('connecting', 'reconnecting…');
      }
    };
    source.addEventListener('lesson', function (m) {
      onLesson(JSON.parse(m.data));
    });
    source.addEventListener('notice', function (m) {
      onNotice(JSON.parse(m.data));
    });
  }

  function disconnect() {
    clearTimeout(retry);
    if (source) {
      source.close();
      source = null;
    }
  }

  // Close the stream when the page goes away (browsers allow only six
  // connections per host), and open it again if the page comes back from
  // the back-forward cache.
  window.addEventListener('pagehide', disconnect);
  window.addEventListener('pageshow', function (e) {
    if (e.persisted) {
      connect();
    }
  });
  connect();

  // ---- Presenter mode ---------------------------------------------------

  // Presenter mode (?present=1 or the p key): large type, high contrast,
  // the checks beside the text at any width. It follows the presenter from
  // lesson to lesson through the links.
  function presentLinks(on) {
    document.querySelectorAll('a[href^="/lesson/"], a.brand, a.prev[href="/"], a.next[href="/"]').forEach(function (a) {
      var u = new URL(a.getAttribute('href'), window.location.href);
      if (on) {
        u.searchParams.set('present', '1');
      } else {
        u.searchParams.delete('present');
      }
      a.setAttribute('href', u.pathname + u.search + u.hash);
    });
  }

  function setPresent(on) {
    document.body.toggleAttribute('data-present', on);
    var u = new URL(window.location.href);
    if (on) {
      u.searchParams.set('present', '1');
    } else {
      u.searchParams.delete('present');
    }
    window.history.replaceState(null, '', u.pathname + u.search + u.hash);
    presentLinks(on);
  }
  if (document.body.hasAttribute('data-present')) {
    presentLinks(true);
  }

  // ---- Keyboard shortcuts -----------------------------------------------

  function follow(selector) {
    var a = document.querySelector(selector);
    if (a) {
      window.location.href = a.href;
    }
  }

  function submit(selector) {
    var f = document.querySelector(selector);
    if (f) {
      f.requestSubmit();
    }
  }

  function toggleShortcuts() {
    var d = document.getElementById('shortcuts');
    if (!d) {
      return;
    }
    if (d.open) {
      d.close();
    } else {
      d.showModal();
    }
  }

  document.addEventListener('click', function (e) {
    if (e.target.closest('[data-action="shortcuts"]')) {
      toggleShortcuts();
    }
  });

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) {
      return;
    }
    var t = e.target;
    if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) {
      return;
    }
    var d = document.getElementById('shortcuts');
    if (d && d.open && e.key !== '?') {
      return;
    }
    switch (e.key) {
      case 'j':
      case 'ArrowRight':
        follow('a[rel="next"]');
        break;
      case 'k':
      case 'ArrowLeft':
        follow('a[rel="prev"]');
        break;
      case 'c':
        submit('form[data-key="c"]');
        break;
      case 'h':
        submit('form[data-key="h"]');
        break;
      case 'm':
        window.location.href = '/';
        break;
      case 't':
        setTheme(themes[(themes.indexOf(root.getAttribute('data-theme')) + 1) % themes.length]);
        break;
      case 'p':
        setPresent(!document.body.hasAttribute('data-present'));
        break;
      case '?':
        toggleShortcuts();
        break;
      default:
        return;
    }
    e.preventDefault();
  });
})();
