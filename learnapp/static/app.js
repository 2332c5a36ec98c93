// Keyboard and tap helpers for the drill. The pages work without this file; it only saves keystrokes.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  if (form) {
    var radios = form.querySelectorAll('input[type="radio"][name="choice"]');
    var order = document.getElementById("order");
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }  // a double click sends one answer
      sent = true;
    });
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (radios.length && /^[1-9]$/.test(event.key)) {
        var radio = radios[Number(event.key) - 1];
        if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
      } else if (radios.length && event.key === "Enter" && form.querySelector('input[name="choice"]:checked')) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    Array.prototype.forEach.call(form.querySelectorAll("button.step"), function (button) {
      button.addEventListener("click", function () {
        var numbers = order.value.split(/[\s,]+/).filter(Boolean);
        var n = button.getAttribute("data-number");
        if (numbers.indexOf(n) === -1) numbers.push(n);
        order.value = numbers.join(" ");
        button.classList.add("picked");
        order.focus();
      });
    });
  }
  var next = document.getElementById("next");
  if (next) {
    document.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && document.activeElement !== next) { event.preventDefault(); next.click(); }
    });
  }
})();
