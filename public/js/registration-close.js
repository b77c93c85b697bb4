// LTI Dynamic Registration 1.0 §3.7: tell the LMS the registration finished so it can close the
// popup or frame. A static file, because the CSP forbids inline scripts.
(function () {
  var target = window.opener || (window.parent !== window ? window.parent : null);
  if (target) target.postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
})();
