// The live home timeline. The server sends the ids of new notes over server-sent events
// (/web/stream, the hub's "user" stream, authenticated by the session cookie); each note's HTML is
// fetched from /web/notes/{id}, rendered by the same template as the page. A reader at the top of
// the page sees notes arrive; a reader who has scrolled down gets a "n new notes" bar instead, so the
// text being read does not move. After a drop the page reconnects with a growing delay and fetches
// what it missed (/web/timeline/home?since_id=newest).
(function () {
  "use strict";
  var timeline = document.querySelector("[data-timeline][data-live]");
  if (!timeline || typeof EventSource === "undefined") return;
  // The same mechanism serves the notifications page: what arrives (the event, its fragment's URL,
  // the catch-up URL, the element ids) is read from the list's data attributes; home's are the defaults.
  var cfg = timeline.dataset;
  var kind = cfg.event || "update";
  var itemUrl = cfg.item || "/web/notes/";
  var catchUpUrl = cfg.catchUp || "/web/timeline/home";
  var prefix = cfg.prefix || "note-";
  var selector = ":scope > " + (cfg.selector || "article.note");
  var bar = document.querySelector("[data-new-notes]");
  var status = document.querySelector("[data-live-status]");
  var newest = timeline.dataset.newest || "";
  var pending = [];
  var delay = 1000;
  var source = null;

  function newer(a, b) {  // snowflake ids are past 2^53: compare them as decimal strings
    if (!b) return true;
    return a.length !== b.length ? a.length > b.length : a > b;
  }

  function scrolled() { return window.scrollY > timeline.offsetTop + 40; }

  function showBar() {
    if (!bar) return;
    bar.hidden = pending.length === 0;
    bar.textContent = pending.length === 1 ? bar.dataset.one : bar.dataset.many.replace("{n}", String(pending.length));
  }

  function place(article) {
    var id = article.dataset.id;
    if (document.getElementById(prefix + id)) return;
    if (newer(id, newest)) newest = id;
    var empty = document.querySelector("[data-empty]");
    if (empty) empty.remove();
    article.classList.add("fresh");
    timeline.insertBefore(article, timeline.firstElementChild);
  }

  function arrive(articles) {  // newest last
    if (scrolled()) {
      articles.forEach(function (a) {
        var id = a.dataset.id;
        if (document.getElementById(prefix + id) || pending.some(function (p) { return p.dataset.id === id; })) return;
        pending.push(a);
        if (newer(id, newest)) newest = id;
      });
      showBar();
    } else {
      articles.forEach(place);
    }
  }

  function parse(html) {
    var box = document.createElement("div");
    box.innerHTML = html;
    return Array.from(box.querySelectorAll(selector));
  }

  function fetchNote(id, url) {
    return fetch((url || "/web/notes/") + encodeURIComponent(id), { credentials: "same-origin", headers: { "X-Cordee-Fetch": "1" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(parse);
  }

  function catchUp() {
    if (!newest) return Promise.resolve(true);
    return fetch(catchUpUrl + "?since_id=" + encodeURIComponent(newest), { credentials: "same-origin", headers: { "X-Cordee-Fetch": "1" } })
      .then(function (r) {
        if (r.status === 401) return false;
        return r.ok ? r.text().then(function (html) { arrive(parse(html).reverse()); return true; }) : true;
      });
  }

  function idOf(data) {
    try { var v = JSON.parse(data); return typeof v === "object" && v ? String(v.id) : String(v); } catch (e) { return String(data); }
  }

  function connect() {
    source = new EventSource("/web/stream");
    source.addEventListener("open", function () {
      delay = 1000;
      if (status) status.textContent = "";
      catchUp();
    });
    source.addEventListener(kind, function (e) {
      var id = idOf(e.data);
      if (!document.getElementById(prefix + id)) fetchNote(id, itemUrl).then(arrive);
    });
    source.addEventListener("status.update", function (e) {
      var id = idOf(e.data);
      var old = document.getElementById("note-" + id);
      if (old) fetchNote(id).then(function (found) { if (found[0]) old.replaceWith(found[0]); });
    });
    source.addEventListener("delete", function (e) {
      var gone = document.getElementById("note-" + idOf(e.data));
      if (gone) gone.remove();
    });
    source.addEventListener("error", function () {
      source.close();
      if (status) status.textContent = status.dataset.offline;
      setTimeout(function () {
        // Still signed in? (a sign-out elsewhere or a password change ends the stream for good)
        catchUp().then(function (ok) { if (ok) connect(); }, connect);
      }, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  if (bar) {
    bar.addEventListener("click", function () {
      pending.forEach(place);
      pending = [];
      showBar();
      timeline.scrollIntoView({ block: "start" });
      var first = timeline.querySelector(cfg.selector || "article.note");
      if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
    });
  }
  window.addEventListener("scroll", function () {
    if (!scrolled() && pending.length) { pending.forEach(place); pending = []; showBar(); }
  }, { passive: true });
  connect();
})();
