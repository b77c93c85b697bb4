// The sign-in window: tell the add-on iframe (same origin) that sign-in finished, then close.
(function () {
  var opener = window.opener;
  if (!opener) return;
  try {
    opener.postMessage({ type: 'mastery-pathways:classroom-signed-in' }, window.location.origin);
    window.close();
  } catch {
    // The opener is gone or elsewhere: the page already says to go back and choose "Continue".
  }
})();
