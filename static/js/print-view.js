// Progressive enhancement for the print view: a Print button that only exists when
// JavaScript can use it (without it, the browser's own Print menu does the same).
(function () {
  "use strict";
  var button = document.querySelector(".print-button");
  if (!button || typeof window.print !== "function") { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
