// The medicine list answers questions as it is typed: the autosave's reply (redrawn out of
// band into #reconciliation) carries, for each question still unanswered on this page, the
// answer the list gives ("yes" beside tramadol for "any opioid?"; "kratom" beside "kratom
// powder"). Tick it, once per question and page, and let the change autosave it, so the
// clinician confirms it rather than answers it. A question already answered is never
// touched; a contradiction is the server's to show.
(function () {
  "use strict";
  var form = document.querySelector("form.section-form");
  if (!form) { return; }
  var done = {};

  function unanswered(name) {
    var inputs = form.querySelectorAll('input[name="' + name + '"]');
    return inputs.length > 0 && !Array.prototype.some.call(inputs, function (i) { return i.checked; });
  }

  // The list above the questions grows as medicines are typed, and its notes become
  // shorter once their answers are saved: the slot keeps the tallest height it has had on
  // this page, so the questions below never move up under the clinician's pointer.
  var tallest = 0;
  function keepHeight() {
    var slot = document.querySelector(".reconciliation-slot");
    if (!slot) { return; }
    var height = slot.getBoundingClientRect().height;
    if (height > tallest) {
      tallest = height;
      slot.style.minHeight = tallest + "px";
    }
  }

  function apply() {
    keepHeight();
    var holder = document.getElementById("reconciliation");
    if (!holder || !holder.dataset.prefill) { return; }
    var changed = null;
    var answers = JSON.parse(holder.dataset.prefill);
    Object.keys(answers).forEach(function (name) {
      if (done[name] || !unanswered(name)) { return; }
      done[name] = true;
      [].concat(answers[name]).forEach(function (value) {
        var input = form.querySelector('input[name="' + name + '"][value="' + value + '"]');
        if (input && !input.disabled) { input.checked = true; changed = input; }
      });
    });
    if (changed) { changed.dispatchEvent(new Event("change", {bubbles: true})); }
  }

  document.body.addEventListener("htmx:afterSettle", apply);
})();
