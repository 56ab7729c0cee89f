/* Check-in forms (intake/patient/fill.html): a question that depends on an answer on the same
   page shows only while that answer is given. Without JavaScript every such question shows with
   its note ("Answer only if ..."), and the server clears an answer whose condition does not
   hold when the page is saved. */
(function () {
  "use strict";

  function holds(form, block) {
    var name = "q-" + block.getAttribute("data-show-if");
    var equals = block.getAttribute("data-equals");
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    return Array.prototype.some.call(inputs, function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        return input.checked && input.value === equals;
      }
      return input.value === equals;
    });
  }

  function update(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (block) {
      block.hidden = !holds(form, block);
      var note = block.querySelector(".intake-condition");
      if (note) {
        note.hidden = true;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-intake-form]").forEach(function (form) {
      update(form);
      form.addEventListener("change", function () {
        update(form);
      });
    });
  });
})();
