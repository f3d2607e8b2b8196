// Progressive enhancement: hide a question until the earlier answer it depends on holds.
// Without JavaScript every such question stays visible with its condition in words, and
// the server drops answers to questions whose condition does not hold.
(function () {
  "use strict";
  var form = document.querySelector("form.section-form");
  if (!form) { return; }

  function valuesOf(name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    var values = [];
    inputs.forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox")) {
        if (input.checked) { values.push(input.value); }
      } else if (input.value) {
        values.push(input.value);
      }
    });
    return values;
  }

  // A condition is {item, op, value} or {all: [conditions]}; the server leaves here only
  // the parts about this page's own questions (checklists/conditions.py decides the rest).
  function holds(condition) {
    if (condition.all) { return condition.all.every(holds); }
    if (!form.querySelector('[name="' + condition.item + '"]')) { return true; }
    var values = valuesOf(condition.item);
    var expected = condition.value;
    switch (condition.op) {
      case "answered": return values.length > 0;
      case "equals": return values.length === 1 && values[0] === expected;
      case "not_equals": return values.length > 0 && values[0] !== expected;
      // One of the values; for several choices, any chosen one.
      case "in": return values.some(function (v) { return expected.indexOf(v) !== -1; });
      case "includes": return values.indexOf(expected) !== -1;
      default: return true;
    }
  }

  function refresh() {
    form.querySelectorAll("[data-show-when]").forEach(function (el) {
      var show = holds(JSON.parse(el.dataset.showWhen));
      el.hidden = !show;
      el.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !show;
      });
    });
  }

  form.addEventListener("change", refresh);
  refresh();
})();
