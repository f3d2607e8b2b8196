// Autosave (htmx) and the section's own buttons share one lock version. A submit made
// while an autosave is still in flight would carry the lock version from before it and be
// refused as stale, so wait for the autosave to finish (its reply updates the hidden
// lock_version), then submit with the button that was pressed.
//
// htmx saves on `change`, which a text box fires only when it is left. So that closing
// the tab (or the laptop lid) loses nothing typed, a page being hidden with typing not yet
// saved sends the form once more with fetch(keepalive), which outlives the page.
(function () {
  "use strict";
  var form = document.querySelector("form.section-form[hx-post]");
  if (!form) { return; }
  var inFlight = 0;
  var pending = null;
  var dirty = false;
  var submitting = false;

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("htmx:beforeRequest", function () { inFlight += 1; dirty = false; });
  function finished() {
    inFlight = Math.max(0, inFlight - 1);
    if (inFlight === 0 && pending) {
      var button = pending;
      pending = null;
      window.setTimeout(function () { form.requestSubmit(button); }, 0);
    }
  }
  form.addEventListener("htmx:afterRequest", finished);
  form.addEventListener("submit", function (event) {
    if (inFlight > 0) {
      event.preventDefault();
      pending = event.submitter || form.querySelector("button[name=next]");
      return;
    }
    submitting = true;  // the page is leaving with everything in the POST
  });

  function flush() {
    if (!dirty || submitting || inFlight > 0) { return; }
    dirty = false;
    inFlight += 1;
    fetch(form.getAttribute("hx-post"), {
      method: "POST",
      body: new FormData(form),
      headers: {"HX-Request": "true"},
      credentials: "same-origin",
      keepalive: true
    }).then(function (reply) { return reply.text(); }).then(function (html) {
      // The tab was only hidden, not closed: take the reply as htmx would (the status
      // text, and the new lock version swapped in out of band).
      htmx.swap("#autosave-status", html, {swapStyle: "innerHTML"});
    }).catch(function () {}).then(finished);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  window.addEventListener("pagehide", flush);
})();
