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
  var stale = document.getElementById("preview-stale");
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
    // server-rendered and sanitised; also when only the id is refused (the example's, or taken): the text is a
    // scenario, and its preview is what a rep would see
    var current = result.ok || result.preview_current;
    if (current) preview.innerHTML = result.preview;
    // the last good preview stays (the trainer sees what they are fixing), said to be out of date
    if (stale) stale.hidden = current || !preview.querySelector(".card");  // nothing shown yet: nothing to warn of
  }

  function goToLine(n) {
    var lines = text.value.split("\n");
    var start = lines.slice(0, n - 1).join("\n").length + (n > 1 ? 1 : 0);
    text.focus();
    text.setSelectionRange(start, start + (lines[n - 1] || "").length);
  }

  // One check at a time, and only the answer about the text now in the box is shown: answers could arrive out of
  // order (a slow check of an older text landing after a newer one put back errors the trainer had fixed), and a
  // trainer typing on a slow server no longer queues a check per pause.
  var checking = false, again = false;

  function validate() {
    if (checking) { again = true; return; }
    checking = true;
    again = false;
    var sent = text.value;
    fetch(form.getAttribute("data-validate"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify(form.getAttribute("data-lesson") ? {text: sent, lesson: form.getAttribute("data-lesson")}
                                                          : {text: sent, editing: form.getAttribute("data-editing") || ""})
    }).then(function (r) { return r.json(); })
      .then(function (result) { if (text.value === sent) show(result); })
      .catch(function () {})
      .then(function () {
        checking = false;
        if (again) validate();  // the text changed meanwhile (else the pending pause in typing will check it)
      });
  }

  // The draft remembers the version it started from (the form's base). Restored over a newer version,
  // it is sent with its own base, so the server refuses the save with its conflict message instead of
  // silently replacing the other trainer's version; the draft is cleared only once a save went through.
  var pageBase = form.getAttribute("data-base") || "";

  function baseInput() { return form.querySelector('input[name="base"]'); }

  function setBase(value) {
    var input = baseInput();
    if (!value) { if (input) input.remove(); return; }  // no base: the server refuses as "did not say which version"
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden"; input.name = "base"; input.id = "base";
      form.appendChild(input);
    }
    input.value = value;
  }

  function readDraft() {
    var raw = localStorage.getItem(draftKey);
    if (raw === null) return null;
    try {
      var draft = JSON.parse(raw);
      if (draft && typeof draft.text === "string") return {text: draft.text, base: draft.base == null ? null : String(draft.base)};
    } catch (e) {}
    return {text: raw, base: null};  // a draft kept before drafts recorded their version: its base is unknown
  }

  function writeDraft() {
    var input = baseInput();
    localStorage.setItem(draftKey, JSON.stringify({text: text.value, base: input ? input.value : ""}));
  }

  function discardDraft(note) {
    try { localStorage.removeItem(draftKey); } catch (e) {}
    text.value = text.defaultValue;  // the saved version the page was served with
    setBase(pageBase);
    note.remove();
    text.focus();
    validate();
  }

  function restoreDraft(draft) {
    text.value = draft.text;
    var note = document.createElement("div");
    note.className = "flash draft-note";
    note.setAttribute("role", "status");
    var message = document.createElement("p");
    var stale = pageBase !== "" && draft.base !== pageBase;
    if (stale) {
      setBase(draft.base);
      message.textContent = "Your unsaved draft was restored, but " + (draft.base
        ? "it started from version " + draft.base + " and version " + pageBase + " has been saved since."
        : "it does not say which version it started from (the latest is version " + pageBase + ").") +
        " Saving it will first tell you who saved what, so compare it with the history; or discard the draft to start from version " + pageBase + ".";
    } else {
      message.textContent = "Your unsaved draft was restored.";
    }
    var discard = document.createElement("button");
    discard.type = "button";
    discard.id = "discard-draft";
    discard.textContent = "Discard draft";
    discard.addEventListener("click", function () { discardDraft(note); });
    note.appendChild(message);
    note.appendChild(discard);
    form.insertBefore(note, form.firstChild);
  }

  try {
    var saved = form.getAttribute("data-saved-draft");
    if (saved) localStorage.removeItem("learnapp-draft:" + saved);  // that draft has just been saved
    var draft = readDraft();
    if (form.hasAttribute("data-refused")) {
      writeDraft();  // a refused save shows the typed text with the base the next save should carry
    } else if (draft && draft.text === text.value) {
      localStorage.removeItem(draftKey);  // nothing unsaved
    } else if (draft) {
      restoreDraft(draft);
    }
  } catch (e) {}

  // The preview is the item as a rep sees it, Answer button included; its form is no answer to send (it posted to
  // this page, as an empty save that wiped the typed text and its draft). Try it answers, once the text is saved.
  preview.addEventListener("submit", function (event) {
    event.preventDefault();
    if (preview.querySelector("#preview-no-answer")) return;
    var note = document.createElement("p");
    note.id = "preview-no-answer";
    note.className = "flash";
    note.setAttribute("role", "status");
    note.textContent = "The preview shows the item; it takes no answer. Save, then use Try it to answer it as a rep.";
    preview.insertBefore(note, preview.firstChild);
  });

  text.addEventListener("input", function () {
    try { writeDraft(); } catch (e) {}
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  });
  validate();
})();
