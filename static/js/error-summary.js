// When a form comes back with errors, move focus to the summary at the top so a screen
// reader announces it and keyboard users start from the list of links to each field.
// A file, not an inline script: the coming Content-Security-Policy forbids inline code.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
