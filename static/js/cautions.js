// The cautions panel of a section page (issue 18). Its <details> works without script (the
// bar on a narrow screen opens the list); on a wide screen, where the panel sits beside
// the questions, the list is opened at once. Each autosave swaps the list in (htmx, out of
// band): what it added or took away is said once in the polite live region, never the
// whole list again, so a screen reader hears "New caution: ..." when an answer raises one.
(function () {
  "use strict";
  var panel = document.querySelector("[data-cautions-panel]");
  if (!panel) { return; }
  var details = panel.querySelector("details");
  var news = document.getElementById("caution-news");
  var wide = window.matchMedia("(min-width: 992px)");

  function fit() { details.open = wide.matches; }
  fit();
  wide.addEventListener("change", fit);

  function shown() {
    var titles = {};
    panel.querySelectorAll("[data-caution]").forEach(function (item) {
      titles[item.getAttribute("data-caution")] = item.getAttribute("data-caution-title");
    });
    return titles;
  }
  function missing(from, inside) {
    return Object.keys(from).filter(function (code) { return !(code in inside); })
      .map(function (code) { return from[code]; });
  }

  var before = shown();
  function announce() {
    var now = shown();
    var added = missing(now, before);
    var gone = missing(before, now);
    before = now;
    var parts = [];
    if (added.length) {
      parts.push((added.length === 1 ? "New caution: " : "New cautions: ") + added.join("; ") + ".");
    }
    if (gone.length) { parts.push("No longer raised: " + gone.join("; ") + "."); }
    if (parts.length) { news.textContent = parts.join(" "); }
  }
  // htmx replaces the list element itself (hx-swap-oob): watch its parent for the swap.
  var list = document.getElementById("live-flags");
  if (list && list.parentNode) {
    new MutationObserver(announce).observe(list.parentNode, {childList: true});
  }
})();
