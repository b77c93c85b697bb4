// LTI Client Side postMessages (Platform Storage): keeps the login state in the LMS's own frame so a
// launch works where third-party cookies are blocked (Safari, iPads, Chrome with blocking on).
// The page carries its instructions in data-* attributes of #lti-storage; with JavaScript off, the
// <noscript> form still continues with the cookie fallback.
(function () {
  'use strict';
  var el = document.getElementById('lti-storage');
  if (!el) return;
  var mode = el.getAttribute('data-mode');
  var target = el.getAttribute('data-target') || '_parent';
  var platformOrigin = el.getAttribute('data-platform-origin') || '*';
  var key = el.getAttribute('data-key') || '';
  var status = document.getElementById('lti-storage-status');
  var TIMEOUT_MS = 3000;

  function targetFrame() {
    // The platform names the frame that answers (Canvas: "post_message_forwarding"); "_parent" or a
    // missing frame means the parent window itself answers.
    if (target !== '_parent') {
      try {
        var named = window.parent.frames[target];
        if (named) return named;
      } catch {
        /* cross-origin access to a missing frame name: fall back to the parent */
      }
    }
    return window.parent;
  }

  function send(message, done) {
    var id = 'mp-' + Math.random().toString(36).slice(2) + Date.now().toString(36);
    message.message_id = id;
    var finished = false;
    function finish(error, value) {
      if (finished) return;
      finished = true;
      window.removeEventListener('message', onMessage);
      done(error, value);
    }
    function onMessage(event) {
      if (platformOrigin !== '*' && event.origin !== platformOrigin) return;
      var data = event.data;
      if (!data || typeof data !== 'object' || data.message_id !== id) return;
      if (data.subject !== message.subject + '.response') return;
      if (data.error) {
        finish(new Error(String(data.error.message || data.error.code)));
        return;
      }
      finish(null, data.value);
    }
    window.addEventListener('message', onMessage);
    setTimeout(function () {
      finish(new Error('the LMS did not answer'));
    }, TIMEOUT_MS);
    if (window.parent === window) {
      finish(new Error('not inside an LMS frame'));
      return;
    }
    targetFrame().postMessage(message, platformOrigin);
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  if (mode === 'put') {
    var next = el.getAttribute('data-next');
    send({ subject: 'lti.put_data', key: key, value: el.getAttribute('data-value') }, function () {
      // Stored or not, continue: when storage failed, the cookie set with this page is the fallback.
      if (next) window.location.replace(next);
    });
  } else if (mode === 'get') {
    var form = document.getElementById('lti-storage-form');
    var field = document.getElementById('lti-storage-binding');
    send({ subject: 'lti.get_data', key: key }, function (error, value) {
      if (error || typeof value !== 'string') {
        say('Your browser blocked the sign-in check. Open the tool in a new window from your LMS.');
        if (form) form.submit();
        return;
      }
      field.value = value;
      form.submit();
    });
  }
})();
