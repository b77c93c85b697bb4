// The login binding of a launch in the tool's own window (top level, first party): the login state
// is kept in this tab's sessionStorage, which needs no cookie, so a browser that keeps none (or a
// cookie jar emptied in between) still proves that it started the login. Instructions come in the
// data-* attributes of #lti-window.
(function () {
  'use strict';
  var el = document.getElementById('lti-window');
  if (!el) return;
  var key = el.getAttribute('data-key') || '';
  var status = document.getElementById('lti-window-status');

  function store(value) {
    try {
      window.sessionStorage.setItem(key, value);
    } catch {
      /* storage disabled: the cookie set with the page is the only binding */
    }
  }

  function load() {
    try {
      return window.sessionStorage.getItem(key);
    } catch {
      return null;
    }
  }

  if (el.getAttribute('data-mode') === 'put') {
    store(el.getAttribute('data-value') || '');
    var next = el.getAttribute('data-next');
    if (next) window.location.replace(next);
    return;
  }
  var form = document.getElementById('lti-window-form');
  var field = document.getElementById('lti-window-binding');
  var value = load();
  if (value === null) {
    if (status)
      status.textContent =
        'This window did not start the sign-in. Open the tool again from your LMS.';
  } else {
    try {
      window.sessionStorage.removeItem(key);
    } catch {
      /* nothing to clean */
    }
  }
  if (field) field.value = value === null ? '' : value;
  if (form) form.submit();
})();
