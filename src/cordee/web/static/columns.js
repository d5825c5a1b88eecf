// Live columns of tracked searches. One server-sent events stream for every column
// (/web/columns/stream, the hub's cordee:tracked channels, authenticated by the session cookie);
// each "update" event names a note, whose HTML is fetched from /web/columns/notes/{id} (rendered by
// the page's own template); its X-Cordee-Columns header names the reader's columns that matched it,
// and the note goes at the top of each. After a drop the page reconnects with a growing delay and
// fetches what each column missed (/web/columns/{id}/notes?since_id=its newest note).
(function () {
  "use strict";
  var board = document.querySelector("[data-columns][data-stream]");
  if (!board || typeof EventSource === "undefined") return;
  var status = document.querySelector("[data-live-status]");
  var delay = 1000;

  function column(id) { return board.querySelector('[data-column="' + id + '"]'); }

  function place(id, html, columns) {
    columns.forEach(function (columnId) {
      var box = document.createElement("div");
      box.innerHTML = html;
      insert(columnId, box.querySelector("article.note"));
    });
  }

  // The same note may sit in several columns: its ids (and the labels that point at them) get the
  // column's prefix, so that ids stay unique in the page.
  function rename(columnId, article) {
    var prefix = "column-" + columnId + "-";
    if (article.id.indexOf(prefix) === 0) return;
    article.id = prefix + article.id;
    article.querySelectorAll("[id]").forEach(function (el) { el.id = prefix + el.id; });
    [article].concat(Array.from(article.querySelectorAll("[aria-labelledby]"))).forEach(function (el) {
      if (el.hasAttribute("aria-labelledby")) el.setAttribute("aria-labelledby", prefix + el.getAttribute("aria-labelledby"));
    });
  }

  board.querySelectorAll("[data-column]").forEach(function (section) {
    section.querySelectorAll("[data-column-notes] article.note").forEach(function (a) { rename(section.dataset.column, a); });
  });

  function insert(columnId, article) {
    var section = column(columnId);
    if (!section || !article) return;
    var id = article.dataset.id;
    var list = section.querySelector("[data-column-notes]");
    if (list.querySelector('[data-id="' + id + '"]')) return;
    rename(columnId, article);
    article.classList.add("fresh");
    var empty = section.querySelector("[data-column-empty]");
    if (empty) empty.remove();
    list.insertBefore(article, list.firstElementChild);
  }

  function catchUp() {  // after a drop: what each column missed, oldest first so the newest ends on top
    board.querySelectorAll("[data-column]").forEach(function (section) {
      var newest = section.querySelector("[data-column-notes] article.note");
      var since = newest ? newest.dataset.id : "0";  // an empty column: whatever matched meanwhile
      var columnId = section.dataset.column;
      fetch("/web/columns/" + columnId + "/notes?since_id=" + encodeURIComponent(since), { credentials: "same-origin", headers: { "X-Cordee-Fetch": "1" } })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html;
          Array.from(box.querySelectorAll("article.note")).reverse().forEach(function (a) { insert(columnId, a); });
        });
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

  var dropped = false;

  function connect() {
    var source = new EventSource(board.dataset.stream);
    source.addEventListener("open", function () {
      delay = 1000;
      if (status) status.textContent = "";
      if (dropped) catchUp();
      dropped = false;
    });
    source.addEventListener("update", function (e) {
      try { arrive(JSON.parse(e.data).id); } catch (err) { /* not a note */ }
    });
    source.addEventListener("error", function () {
      dropped = true;
      source.close();
      if (status) status.textContent = status.dataset.offline || "";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
