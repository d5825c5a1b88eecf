// The buttons under a note (like, boost, bookmark, delete): each is a plain form that works without
// JavaScript. Here it is sent in the background and the note is replaced by its new server-rendered
// fragment (X-Cordee-Fetch asks for it), so the page keeps its place. Delegated from the document, so
// notes inserted later (live.js) work too.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-note-action")) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    event.preventDefault();
    var note = form.closest("article.note");
    var buttons = note ? Array.from(note.querySelectorAll(".note-actions button")) : [];
    var button = form.querySelector("button");
    var place = buttons.indexOf(button);
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-Cordee-Fetch": "1" } })
      .then(function (r) {
        if (r.status === 204) { if (note) note.remove(); return; }
        if (!r.ok) { form.submit(); return; }  // let the server's page say what went wrong
        return r.text().then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html;
          var fresh = box.querySelector("article.note");
          if (note && fresh) {
            note.replaceWith(fresh);
            var again = fresh.querySelectorAll(".note-actions button")[place];
            if (again) again.focus();  // keyboard users stay on the button they pressed
          }
        });
      })
      .catch(function () { form.submit(); })
      .finally(function () { if (button) button.disabled = false; });
  });
})();
