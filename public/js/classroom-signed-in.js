// The sign-in window: hand the completion secret to the add-on iframe that opened it (same origin
// only: the target origin is this page's own), then close. Only the browser that signed in has
// the secret, and "Continue" needs it. Without an opener, "Continue here instead" does the same.
(function () {
  var opener = window.opener;
  var page = document.getElementById('classroom-signed-in');
  var completion = page ? page.getAttribute('data-completion') : null;
  if (!opener || !completion) return;
  try {
    opener.postMessage(
      { type: 'mastery-pathways:classroom-signed-in', completion: completion },
      window.location.origin,
    );
    window.close();
  } catch {
    // The opener is gone or elsewhere: the page already offers "Continue here instead".
  }
})();
