// Progressive enhancement for lists of rows (medications, products): an "Add a row"
// button that copies the last row, empty, under the next index, so a clinician adds
// medicines as the patient names them. Without JavaScript, "Save draft" brings three
// more empty rows instead. The server reads up to 50 rows (forms.RowListWidget).
(function () {
  "use strict";
  var MAX_ROWS = 50;

  function renumber(input, index) {
    var parts = input.name.split("-");  // <item>-<index>-<column>
    parts[parts.length - 2] = String(index);
    input.name = parts.join("-");
    input.id = "id_" + input.name;
    input.value = "";
    var label = input.getAttribute("aria-label") || "";
    input.setAttribute("aria-label", label.replace(/row \d+$/, "row " + (index + 1)));
  }

  document.querySelectorAll("[data-row-list]").forEach(function (list) {
    var body = list.querySelector("tbody");
    if (!body) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-secondary mb-1";
    button.textContent = "Add a row";
    button.addEventListener("click", function () {
      var rows = body.querySelectorAll("tr");
      if (rows.length >= MAX_ROWS) { return; }
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) { renumber(input, rows.length); });
      body.appendChild(copy);
      copy.querySelector("input").focus();
    });
    list.querySelector("table").after(button);
    var hint = list.querySelector(".row-list-more");
    if (hint) { hint.hidden = true; }
  });
})();
