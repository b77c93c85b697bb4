// Grade sync page: updates the counts and the progress bar live while grades are being sent.
// Without JavaScript the page reloads itself every few seconds instead (a <noscript> refresh).
(function () {
  'use strict';
  const section = document.querySelector('[data-progress-url]');
  const bar = document.getElementById('sync-progress-bar');
  if (!section || !bar) return;
  const url = section.getAttribute('data-progress-url');
  const setText = (name, value) => {
    for (const el of document.querySelectorAll('[data-count="' + name + '"]')) {
      el.textContent = String(value);
    }
  };
  const poll = () => {
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((data) => {
        setText('pending', data.pending);
        setText('sent', data.sent);
        setText('failed', data.failed);
        setText('percent', data.percent);
        setText('lastRun', data.lastRun ?? 'Not yet');
        bar.value = data.percent;
        bar.textContent = data.percent + '%';
        if (data.pending > 0 && !data.paused) {
          setTimeout(poll, 2000);
        } else {
          // Done: reload once so problems and per-student status are current.
          window.location.reload();
        }
      })
      .catch(() => setTimeout(poll, 5000));
  };
  setTimeout(poll, 2000);
})();
