// Autosave (htmx) and the section's own buttons share one lock version. A submit made
// while an autosave is still in flight would carry the lock version from before it and be
// refused as stale, so wait for the autosave to finish (its reply updates the hidden
// lock_version), then submit with the button that was pressed.
(function () {
  "use strict";
  var form = document.querySelector("form.section-form[hx-post]");
  if (!form) { return; }
  var inFlight = 0;
  var pending = null;

  form.addEventListener("htmx:beforeRequest", function () { inFlight += 1; });
  form.addEventListener("htmx:afterRequest", function () {
    inFlight = Math.max(0, inFlight - 1);
    if (inFlight === 0 && pending) {
      var button = pending;
      pending = null;
      window.setTimeout(function () { form.requestSubmit(button); }, 0);
    }
  });
  form.addEventListener("submit", function (event) {
    if (inFlight > 0) {
      event.preventDefault();
      pending = event.submitter || form.querySelector("button[name=next]");
    }
  });
})();
