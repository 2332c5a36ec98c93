// Keyboard and tap helpers for the drill. The pages work without this file; it only saves keystrokes.
(function () {
  "use strict";
  var CONTROLS = "a[href], button, input, textarea, select, summary, [contenteditable], [tabindex]";

  // The drill's keys (1-9 to pick, Enter to answer or go on) act only when focus is on the page itself or on the
  // answer form's own radios, order field or "unsure" box: Enter on a link or a button must follow it.
  function keysAreOurs(event, form) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) return false;
    var focused = event.target;
    if (!focused || !focused.closest || !focused.closest(CONTROLS)) return true;
    return !!form && focused.tagName === "INPUT" && form.contains(focused);
  }

  var form = document.getElementById("answer-form");
  if (form) {
    var radios = form.querySelectorAll('input[type="radio"][name="choice"]');
    var order = document.getElementById("order");
    var steps = form.querySelectorAll("button.step");
    var sent = false;
    // the message for Enter with no option picked, shown once under the options (role=alert: read out too)
    var pickFirst = function () {
      var message = document.getElementById("pick-first");
      if (!message) {
        message = document.createElement("p");
        message.id = "pick-first";
        message.className = "error";
        message.setAttribute("role", "alert");
        message.textContent = "Pick an answer first: tap an option or press 1\u2013" + radios.length + ".";
        form.querySelector("fieldset.options").after(message);
      }
      radios[0].focus();
    };
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }  // a double click sends one answer
      sent = true;
    });
    document.addEventListener("keydown", function (event) {
      // Enter on an order step answers, as on a picked radio: a step clicked with the mouse keeps the focus, and
      // Enter would otherwise press it again and take it out of the order. Space still picks or unpicks a step.
      var onStep = steps.length && event.target.closest && event.target.closest("button.step");
      if (event.key === "Enter" && onStep && !event.defaultPrevented && !event.isComposing
          && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        form.requestSubmit();
        return;
      }
      if (!radios.length || !keysAreOurs(event, form)) return;
      if (/^[1-9]$/.test(event.key)) {
        var radio = radios[Number(event.key) - 1];
        if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
      } else if (event.key === "Enter" && form.querySelector('input[name="choice"]:checked')) {
        event.preventDefault();
        form.requestSubmit();
      } else if (event.key === "Enter") {  // nothing picked yet: say so instead of doing nothing
        event.preventDefault();
        pickFirst();
      }
    });
    if (order && steps.length) {
      var typed = function () { return order.value.split(/[\s,]+/).filter(Boolean); };
      var markPicked = function () {
        var numbers = typed();
        Array.prototype.forEach.call(steps, function (button) {
          var picked = numbers.indexOf(button.getAttribute("data-number")) !== -1;
          button.classList.toggle("picked", picked);
          button.setAttribute("aria-pressed", picked ? "true" : "false");
        });
      };
      Array.prototype.forEach.call(steps, function (button) {
        // a tap adds the step to the order, a second tap takes it out again; the field is not focused,
        // so a phone does not open its keyboard over the steps after every tap
        button.addEventListener("click", function () {
          var numbers = typed();
          var n = button.getAttribute("data-number");
          var at = numbers.indexOf(n);
          if (at === -1) numbers.push(n); else numbers.splice(at, 1);
          order.value = numbers.join(" ");
          markPicked();
        });
      });
      order.addEventListener("input", markPicked);
      markPicked();  // an order sent back after a mistake shows its steps picked
      // The field is for typing. A laptop (a fine pointer that hovers) gets it focused at once; on a phone or tablet
      // the steps are tapped, and a focused field would open the on-screen keyboard over them, so nothing takes the
      // focus there. A number typed anyway (a keyboard paired with a tablet, or after clicking a step) moves the focus
      // into the field, which then takes the key's character.
      var laptop = window.matchMedia && window.matchMedia("(hover: hover) and (pointer: fine)").matches;
      if (laptop && (!document.activeElement || document.activeElement === document.body)) order.focus();
      document.addEventListener("keydown", function (event) {
        var onStep = event.target.closest && event.target.closest("button.step");  // tapped or clicked last
        if (document.activeElement !== order && /^[1-9]$/.test(event.key) && (onStep || keysAreOurs(event, form))
            && !event.defaultPrevented && !event.ctrlKey && !event.metaKey && !event.altKey) {
          if (order.value && !/\s$/.test(order.value)) order.value += " ";  // after tapped steps: "2 1", not "21"
          order.focus();
        }
      });
    }
  }
  var next = document.getElementById("next");
  if (next) {
    document.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && keysAreOurs(event, null)) { event.preventDefault(); next.click(); }
    });
  }
  // A form sent back with an error lands on its own section (/settings/password#password): with a fragment in the
  // address the browser skips autofocus, so the first field in error takes the focus here, as the page means it to
  var invalid = document.querySelector("[autofocus][aria-invalid]");
  if (invalid) {
    window.addEventListener("load", function () { if (document.activeElement !== invalid) invalid.focus(); });
  }
})();
