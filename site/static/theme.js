// theme.js runs in <head>, before the first paint, so that a page in the
// dark theme never flashes light. It also marks the page as scripted, which
// reveals the controls that need JavaScript.
(function () {
  'use strict';
  var theme = 'auto';
  try {
    theme = localStorage.getItem('tutor-theme') || 'auto';
  } catch (e) { /* storage disabled: follow the system */ }
  if (theme !== 'light' && theme !== 'dark') {
    theme = 'auto';
  }
  var root = document.documentElement;
  root.setAttribute('data-theme', theme);
  root.classList.add('js');
})();
