// The add-on iframe: when the sign-in window reports success, continue without a click.
// Without JavaScript the "Continue" button does the same.
(function () {
  var form = document.getElementById('classroom-continue');
  if (!form) return;
  window.addEventListener('message', function (event) {
    if (event.origin !== window.location.origin) return;
    var data = event.data;
    if (data && data.type === 'mastery-pathways:classroom-signed-in') form.submit();
  });
})();
