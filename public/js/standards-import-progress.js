// Live progress of a standards import: polls the status (JSON) and updates the progress bar and
// the text; when the import is done, reloads the page to show its outcome. Without JavaScript the
// page refreshes itself (a meta refresh inside <noscript>).
(function () {
  'use strict';
  var box = document.querySelector('.standards-progress[data-status-url]');
  if (!box) return;
  var url = box.getAttribute('data-status-url');
  var bar = box.querySelector('progress');
  var phase = box.querySelector('[data-phase]');
  var done = box.querySelector('[data-done]');
  var total = box.querySelector('[data-total]');
  var delay = 500;

  function update(state) {
    if (bar) {
      bar.max = Math.max(state.total, 1);
      bar.value = state.done;
      bar.textContent = state.done + ' of ' + state.total;
    }
    if (phase) phase.textContent = state.phase;
    if (done) done.textContent = String(state.done);
    if (total) total.textContent = String(state.total);
  }

  function poll() {
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) throw new Error('status ' + response.status);
        return response.json();
      })
      .then(function (state) {
        update(state);
        if (state.status === 'finished') {
          window.location.reload();
          return;
        }
        delay = 500;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // A slow or refused answer: try again a little later.
        delay = Math.min(delay * 2, 5000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
