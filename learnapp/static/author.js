// The trainer's editor: validate and preview while typing (debounced), list errors by line,
// and keep the typed text in the browser so a crash or a refused save never loses it.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) return;
  var text = document.getElementById("text");
  var errors = document.getElementById("errors");
  var preview = document.getElementById("preview");
  var save = document.getElementById("save");
  var token = form.querySelector('input[name="csrf_token"]').value;
  var draftKey = "learnapp-draft:" + location.pathname;
  var timer = null;

  function show(result) {
    errors.textContent = "";
    var lines = text.value.split("\n");
    (result.errors || []).forEach(function (e) {
      // each error beside the line it concerns: the line number, the line itself, then the message
      var li = document.createElement("li");
      li.className = "error";
      var where = document.createElement("code");
      where.textContent = e.line + " | " + (lines[e.line - 1] || "");
      li.appendChild(where);
      li.appendChild(document.createTextNode(" " + e.message));
      li.addEventListener("click", function () { goToLine(e.line); });
      errors.appendChild(li);
    });
    save.disabled = !result.ok;
    if (result.ok) preview.innerHTML = result.preview;  // server-rendered and sanitised
  }

  function goToLine(n) {
    var lines = text.value.split("\n");
    var start = lines.slice(0, n - 1).join("\n").length + (n > 1 ? 1 : 0);
    text.focus();
    text.setSelectionRange(start, start + (lines[n - 1] || "").length);
  }

  function validate() {
    fetch(form.getAttribute("data-validate"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify(form.getAttribute("data-lesson") ? {text: text.value, lesson: form.getAttribute("data-lesson")} : {text: text.value})
    }).then(function (r) { return r.json(); }).then(show).catch(function () {});
  }

  try {
    var draft = localStorage.getItem(draftKey);
    if (draft && draft !== text.value && !errors.children.length) {
      text.value = draft;
      var note = document.createElement("p");
      note.className = "flash";
      note.textContent = "Your unsaved draft was restored. Reload after clearing it to start from the saved version.";
      form.insertBefore(note, form.firstChild);
    }
  } catch (e) {}

  text.addEventListener("input", function () {
    try { localStorage.setItem(draftKey, text.value); } catch (e) {}
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  });
  form.addEventListener("submit", function () {
    try { localStorage.removeItem(draftKey); } catch (e) {}
  });
  validate();
})();
