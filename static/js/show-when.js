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

  function holds(el) {
    var name = el.dataset.showItem;
    if (!form.querySelector('[name="' + name + '"]')) { return true; } // decided by the server
    var values = valuesOf(name);
    var expected = JSON.parse(el.dataset.showValue || "null");
    switch (el.dataset.showOp) {
      case "answered": return values.length > 0;
      case "equals": return values.length === 1 && values[0] === expected;
      case "not_equals": return values.length > 0 && values[0] !== expected;
      case "in": return values.length > 0 && expected.indexOf(values[0]) !== -1;
      case "includes": return values.indexOf(expected) !== -1;
      default: return true;
    }
  }

  function refresh() {
    form.querySelectorAll("[data-show-item]").forEach(function (el) {
      var show = holds(el);
      el.hidden = !show;
      el.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !show;
      });
    });
  }

  form.addEventListener("change", refresh);
  refresh();
})();
