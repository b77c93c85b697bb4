/*
 * Recalculation progress: reloads the page while the job runs (without JavaScript a
 * <noscript> meta refresh does the same).
 */
(function () {
  'use strict';
  var running = document.querySelector('[data-job-running]');
  if (!running) return;
  var seconds = Number(running.getAttribute('data-job-running')) || 2;
  setTimeout(function () {
    window.location.reload();
  }, seconds * 1000);
})();
