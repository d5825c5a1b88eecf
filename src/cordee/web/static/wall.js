// The live wall: notes with the chapter's and the campaign's hashtags, newest first, live over
// SSE (reopened after any error; on each (re)connection the notes missed are fetched),
// the running totals, and for organisers a button to hide a note from every open wall.
(function () {
  "use strict";
  var root = document.getElementById("wall");
  if (!root) return;
  var d = root.dataset;
  var list = document.getElementById("wall-notes");
  var queue = document.getElementById("wall-queue");
  var status = document.getElementById("wall-status");
  var KEEP = 50;

  function longer(a, b) { return a.length !== b.length ? a.length > b.length : a > b; }
  function el(parent, tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function text(html) { return new DOMParser().parseFromString(html, "text/html").body.textContent || ""; }

  function render(note, queued) {
    var li = document.createElement("li");
    li.dataset.id = note.id;
    var head = el(li, "header");
    if (note.account.avatar) { var img = el(head, "img"); img.alt = ""; img.src = note.account.avatar; }
    el(head, "b", note.account.display_name);
    el(head, "span", "@" + note.account.acct);
    var body = el(li, "p", note.spoiler_text ? note.spoiler_text : text(note.content));
    if (note.language) body.lang = note.language;
    if (note.media.length && !note.sensitive) {
      var media = el(li, "div");
      media.className = "media";
      note.media.forEach(function (m) { var pic = el(media, "img"); pic.alt = m.description; pic.src = m.preview_url; });
    }
    if (d.moderate) {
      if (queued) button(li, d.msgApprove, d.approve, note.id);
      button(li, d.msgHide, d.hide, note.id);
    }
    return li;
  }

  // An organiser's decision, sent in the background; the note leaves the list it was in (an
  // approved one comes back on the wall through the stream, like on every other open wall).
  function button(li, label, url, id) {
    var b = el(li, "button", label);
    b.type = "button";
    b.addEventListener("click", function () {
      var form = new FormData();
      form.append(d.csrfName, d.csrf);
      form.append("status_id", id);
      fetch(url, { method: "POST", body: form, credentials: "same-origin" })
        .then(function (r) { if (r.ok) { li.remove(); if (url === d.hide) remove(id); } });
    });
  }

  function enqueue(note) {
    if (!queue || queue.querySelector('li[data-id="' + note.id + '"]')) return;
    var before = null;
    for (var i = 0; i < queue.children.length; i++) {
      if (longer(note.id, queue.children[i].dataset.id)) { before = queue.children[i]; break; }
    }
    queue.insertBefore(render(note, true), before);
  }

  function add(note, replace) {
    var old = list.querySelector('li[data-id="' + note.id + '"]');
    if (old) { if (replace) old.replaceWith(render(note, false)); return; }
    if (replace) return;  // an edit of a note this wall does not show
    var li = render(note, false);
    var before = null;
    for (var i = 0; i < list.children.length; i++) {
      if (longer(note.id, list.children[i].dataset.id)) { before = list.children[i]; break; }
    }
    list.insertBefore(li, before);
    while (list.children.length > KEEP) list.lastElementChild.remove();
  }
  function remove(id) {
    var li = list.querySelector('li[data-id="' + id + '"]');
    if (li) li.remove();
    var waiting = queue && queue.querySelector('li[data-id="' + id + '"]');
    if (waiting) waiting.remove();
  }

  JSON.parse(d.notes || "[]").reverse().forEach(function (n) { add(n, false); });
  JSON.parse(d.queue || "[]").reverse().forEach(enqueue);

  // What the wall should show now (the newest notes): the ones missed while the stream was down
  // are added, and the ones hidden or deleted meanwhile leave (those older than the answer's
  // oldest note are left alone: the answer says nothing about them).
  // The organisers' queue of notes waiting for approval is brought up to date the same way.
  function refresh(url, container, put) {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (notes) {
        if (!notes) return;
        var shown = {};
        notes.forEach(function (n) { shown[n.id] = true; });
        var oldest = notes.length ? notes[notes.length - 1].id : "0";  // none: nothing to show
        Array.prototype.slice.call(container.children).forEach(function (li) {
          if (!longer(oldest, li.dataset.id) && !shown[li.dataset.id]) li.remove();
        });
        notes.reverse().forEach(put);
      })
      .catch(function () {});
  }
  function catchUp() {
    refresh(d.notesUrl, list, function (n) { add(n, false); });
    if (queue) refresh(d.queueUrl, queue, enqueue);
  }

  // EventSource reconnects by itself after a dropped connection, but gives up for good on an
  // answer that is not a stream (a proxy's 502, our 503 while restarting): a screen left alone
  // for hours must not. So on any error the page closes it and opens a new one, waiting a little
  // longer each time (1 s, 2 s… 30 s); on every (re)connection it fetches what it missed, and the
  // server sends the totals as they are.
  var delay = 1000;
  function connect() {
    var source = new EventSource(d.stream);
    source.addEventListener("open", function () { delay = 1000; status.textContent = ""; catchUp(); });
    source.addEventListener("error", function () {
      source.close();
      status.textContent = "…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
    listen(source);
  }

  function listen(source) {
    source.addEventListener("update", function (e) { add(JSON.parse(e.data), false); });
    source.addEventListener("status.update", function (e) { add(JSON.parse(e.data), true); });
    source.addEventListener("delete", function (e) { remove(e.data); });
    source.addEventListener("pending", function (e) { enqueue(JSON.parse(e.data)); });
    source.addEventListener("totals", function (e) {
      var t = JSON.parse(e.data);
      document.getElementById("wall-campaign-raised").textContent = t.raised;
      var bar = document.getElementById("wall-percent");
      bar.value = t.percent;
      bar.textContent = t.percent + " %";
    });
    source.addEventListener("chapter_totals", function (e) {
      document.getElementById("wall-chapter-raised").textContent = JSON.parse(e.data).raised;
    });
  }
  connect();

  // Full screen for the venue's screen, where the browser allows it (the button hides itself then).
  var full = document.getElementById("wall-fullscreen");
  if (full && document.fullscreenEnabled) {
    var shown = function () { full.hidden = Boolean(document.fullscreenElement); };
    full.addEventListener("click", function () { document.documentElement.requestFullscreen().catch(function () {}); });
    document.addEventListener("fullscreenchange", shown);
    shown();
  }
})();
