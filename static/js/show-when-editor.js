// The item form's show-when (issues 21, 18): each "Answers" list offers only the answers of
// the question chosen beside it ("Show this question when", and "and also when"). Without
// JavaScript every earlier question's answers are listed, grouped by question, and the
// server refuses answers of another one.
(function () {
  "use strict";

  function filterBy(item, values) {
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
  }

  [["id_show_item", "id_show_values"], ["id_also_item", "id_also_values"]].forEach(function (ids) {
    var item = document.getElementById(ids[0]);
    var values = document.getElementById(ids[1]);
    if (item && values) { filterBy(item, values); }
  });
})();
