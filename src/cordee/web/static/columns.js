// Live columns of tracked searches. One server-sent events stream for every column
// (/web/columns/stream, the hub's cordee:tracked channels, authenticated by the session cookie);
// each "update" event names a note, whose HTML is fetched from /web/columns/notes/{id} (rendered by
// the page's own template); its X-Cordee-Columns header names the reader's columns that matched it,
// and the note goes at the top of each. After a drop the page reconnects with a growing delay.
(function () {
  "use strict";
  var board = document.querySelector("[data-columns][data-stream]");
  if (!board || typeof EventSource === "undefined") return;
  var status = document.querySelector("[data-live-status]");
  var delay = 1000;

  function column(id) { return board.querySelector('[data-column="' + id + '"]'); }

  function place(id, html, columns) {
    columns.forEach(function (columnId) {
      var section = column(columnId);
      if (!section) return;
      var list = section.querySelector("[data-column-notes]");
      if (list.querySelector('[data-id="' + id + '"]')) return;
      var box = document.createElement("div");
      box.innerHTML = html;
      var article = box.querySelector("article.note");
      if (!article) return;
      // The same note may sit in several columns: ids must stay unique in the page.
      article.id = "column-" + columnId + "-note-" + id;
      article.querySelectorAll("[id]").forEach(function (el) { el.id = "column-" + columnId + "-" + el.id; });
      article.querySelectorAll("[aria-labelledby]").forEach(function (el) {
        el.setAttribute("aria-labelledby", "column-" + columnId + "-" + el.getAttribute("aria-labelledby"));
      });
      if (article.hasAttribute("aria-labelledby")) {
        article.setAttribute("aria-labelledby", "column-" + columnId + "-note-" + id + "-by");
      }
      article.classList.add("fresh");
      var empty = section.querySelector("[data-column-empty]");
      if (empty) empty.remove();
      list.insertBefore(article, list.firstElementChild);
    });
  }

  function arrive(id) {
    fetch("/web/columns/notes/" + encodeURIComponent(id), { credentials: "same-origin", headers: { "X-Cordee-Fetch": "1" } })
      .then(function (r) {
        if (!r.ok) return;
        var columns = (r.headers.get("X-Cordee-Columns") || "").split(",").filter(Boolean);
        return r.text().then(function (html) { place(id, html, columns); });
      });
  }

  function connect() {
    var source = new EventSource(board.dataset.stream);
    source.addEventListener("open", function () {
      delay = 1000;
      if (status) status.textContent = "";
    });
    source.addEventListener("update", function (e) {
      try { arrive(JSON.parse(e.data).id); } catch (err) { /* not a note */ }
    });
    source.addEventListener("error", function () {
      source.close();
      if (status) status.textContent = status.dataset.offline || "";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
