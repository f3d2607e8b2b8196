// Progressive enhancement: turn the "Plain-text note" link into a "Copy note" button that
// puts the note on the clipboard for pasting into the EHR. Without JavaScript, or where
// the clipboard is not available (plain http), the link simply opens the note.
(function () {
  "use strict";
  var link = document.querySelector("a.copy-note");
  var status = document.querySelector(".copy-note-status");
  if (!link || !window.fetch || !navigator.clipboard || !window.isSecureContext) { return; }

  var label = link.textContent;
  link.textContent = link.dataset.copyLabel || "Copy note";
  link.setAttribute("role", "button");

  function say(message) { if (status) { status.textContent = message; } }

  link.addEventListener("click", function (event) {
    event.preventDefault();
    say("Copying…");
    fetch(link.href, { credentials: "same-origin", headers: { "Accept": "text/plain" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (text) { return navigator.clipboard.writeText(text); })
      .then(function () { say("Note copied. Paste it into the patient's record."); })
      .catch(function () {
        say("Could not copy the note; it opens instead.");
        link.textContent = label;
        window.location.href = link.href;
      });
  });
})();
