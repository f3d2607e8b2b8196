// The item form's prompt and help text: how many characters so far, under the field, so
// an editor sees a question growing long before the limit cuts it (issue 21).
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-count]").forEach(function (area) {
    var note = document.createElement("p");
    note.className = "help checklists-char-count";
    note.setAttribute("aria-live", "polite");
    var limit = area.getAttribute("maxlength");
    function update() {
      note.textContent = area.value.length + (limit ? " of " + limit : "") + " characters";
    }
    area.insertAdjacentElement("afterend", note);
    area.addEventListener("input", update);
    update();
  });
})();
