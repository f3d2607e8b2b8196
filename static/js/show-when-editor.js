// The item form's show-when (issue 21): the "Answers" list offers only the answers of the
// question chosen in "Show this question when". Without JavaScript every earlier question's
// answers are listed, grouped by question, and the server refuses answers of another one.
(function () {
  "use strict";
  var item = document.getElementById("id_show_item");
  var values = document.getElementById("id_show_values");
  if (!item || !values) { return; }

  function refresh() {
    var prefix = item.value + ":";
    values.querySelectorAll("optgroup").forEach(function (group) {
      var mine = false;
      group.querySelectorAll("option").forEach(function (option) {
        var match = option.value.indexOf(prefix) === 0;
        option.hidden = !match;
        option.disabled = !match;
        if (!match) { option.selected = false; }
        mine = mine || match;
      });
      group.hidden = !mine;
    });
  }

  item.addEventListener("change", refresh);
  refresh();
})();
