/* Cordée's blog widget: <script src="https://INSTANCE/widget.js" data-account="alice" async></script>
 * (or data-tag="name"; data-theme="light|dark|auto", data-accent="#rrggbb", data-limit, data-lang="fr|en").
 * It draws into a shadow root on its own element, inserted right after its script tag, and touches
 * nothing else of the host page: no global, no cookie (every request says credentials: "omit"), no
 * request but to its own instance. Notes come from /widget/notes, then live from /widget/stream. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.parentNode) return;
  var data = script.dataset;
  var base = new URL(script.src, location.href).origin;
  var T = {
    en: {
      by: "Notes by ", tag: "Notes tagged #", empty: "No public notes yet.", error: "The notes could not be loaded.",
      fresh: "New note by ", cw: "Content warning: ", show: "Show", more: "More on ", edited: "edited"
    },
    fr: {
      by: "Notes de ", tag: "Notes avec #", empty: "Pas encore de note publique.", error: "Les notes n’ont pas pu être chargées.",
      fresh: "Nouvelle note de ", cw: "Avertissement : ", show: "Afficher", more: "La suite sur ", edited: "modifiée"
    }
  };
  var lang = data.lang || (navigator.language || "en").slice(0, 2);
  if (!T[lang]) lang = "en";
  var t = T[lang];
  var limit = Math.max(1, Math.min(40, parseInt(data.limit, 10) || 10));
  var accent = /^#[0-9a-f]{6}$/i.test(data.accent || "") ? data.accent : "";
  var theme = data.theme === "dark" || data.theme === "light" ? data.theme : "auto";
  var source = data.account ? "account=" + encodeURIComponent(data.account) : "tag=" + encodeURIComponent(data.tag || "");

  var host = document.createElement("div");
  var placed = false;
  function place() {
    placed = true;
    // Pasted into <head>, where nothing is drawn: at the end of the body instead.
    if (script.parentNode === document.head) document.body.appendChild(host);
    else script.parentNode.insertBefore(host, script.nextSibling);
  }
  if (script.parentNode !== document.head || document.body) place();
  else document.addEventListener("DOMContentLoaded", place);
  var root = host.attachShadow({ mode: "open" });
  var light = "--bg:#fff;--fg:#1b1b1f;--muted:#55565c;--line:#d5d6dc;--a:" + (accent || "#2553a0");
  var dark = "--bg:#17181c;--fg:#ececf1;--muted:#b4b5bd;--line:#3a3b42;--a:" + (accent || "#9dbdf5");
  var css =
    ":host{all:initial;display:block;" + (theme === "dark" ? dark : light) + "}" +
    (theme === "auto" ? "@media (prefers-color-scheme:dark){:host{" + dark + "}}" : "") +
    "section{box-sizing:border-box;font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);" +
    "border:1px solid var(--line);border-radius:8px;max-width:100%;overflow:hidden}" +
    (data.frame ? "section{border:0;border-radius:0}" : "") +
    "h1,h2{font-size:1em;margin:0;padding:.6em .8em;border-bottom:1px solid var(--line)}" +
    "a{color:var(--a);text-decoration:underline}a:focus-visible,article:focus-visible{outline:2px solid var(--a);outline-offset:2px}" +
    "[role=feed]{max-height:" + (data.frame ? "none" : "640px") + ";overflow:auto}" +
    "article{padding:.6em .8em;border-bottom:1px solid var(--line)}article:last-child{border-bottom:0}" +
    "header{display:flex;gap:.5em;align-items:center;margin-bottom:.3em}header img{width:32px;height:32px;border-radius:4px}" +
    "header span{display:flex;flex-direction:column;min-width:0}b{overflow:hidden;text-overflow:ellipsis}" +
    "small,time{color:var(--muted);font-size:.85em}p{margin:.3em 0}section>p{padding:0 .8em}.invisible{display:none}.ellipsis:after{content:'…'}" +
    ".media img{max-width:100%;height:auto;border-radius:4px}summary{cursor:pointer;color:var(--muted)}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";
  if (root.adoptedStyleSheets && window.CSSStyleSheet) {
    // A constructed sheet: not an inline <style>, so a strict Content-Security-Policy lets it be.
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    el(root, "style").textContent = css;
  }

  function el(parent, tag, text) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function link(parent, href, text) {
    var a = el(parent, "a", text);
    if (/^https?:\/\//.test(href || "")) a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  var section = el(root, "section");
  var title = el(section, data.frame ? "h1" : "h2");
  title.id = "t";
  section.setAttribute("aria-labelledby", "t");
  var feed = el(section, "div");
  feed.setAttribute("role", "feed");
  feed.setAttribute("aria-labelledby", "t");
  feed.setAttribute("aria-busy", "true");
  var notice = el(section, "p");
  notice.hidden = true;
  var status = el(section, "p");
  status.className = "sr";
  status.setAttribute("role", "status");
  var newest = "";
  var fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });

  // The server sends sanitised HTML; it is copied again element by element, keeping only what a
  // note may hold, so that nothing in it can run or load anything (an inert document parses it).
  var KEEP = { P: 1, BR: 1, A: 1, SPAN: 1, B: 1, STRONG: 1, I: 1, EM: 1, U: 1, DEL: 1, CODE: 1, PRE: 1, BLOCKQUOTE: 1, UL: 1, OL: 1, LI: 1 };
  function copy(from, to) {
    from.childNodes.forEach(function (node) {
      if (node.nodeType === 3) return void to.appendChild(document.createTextNode(node.nodeValue));
      if (node.nodeType !== 1) return;
      if (!KEEP[node.tagName]) return void copy(node, to);
      var made = node.tagName === "A" ? link(to, node.getAttribute("href")) : el(to, node.tagName.toLowerCase());
      var cls = (node.getAttribute("class") || "").match(/\b(invisible|ellipsis)\b/);
      if (cls) made.className = cls[1];
      copy(node, made);
    });
  }

  function render(note) {
    var article = document.createElement("article");
    article.tabIndex = 0;
    article.dataset.id = note.id;
    article.setAttribute("aria-labelledby", "n" + note.id);
    var head = el(article, "header");
    if (note.account.avatar) {
      var img = el(head, "img");
      img.alt = "";
      img.referrerPolicy = "no-referrer";
      img.src = note.account.avatar;
    }
    var who = el(head, "span");
    var name = el(who, "b", note.account.display_name);
    name.id = "n" + note.id;
    el(who, "small", "@" + note.account.acct);
    var body = document.createElement("div");
    if (note.language) body.lang = note.language;
    copy(new DOMParser().parseFromString(note.content, "text/html").body, body);
    if (note.spoiler_text) {
      var details = el(article, "details");
      el(details, "summary", t.cw + note.spoiler_text);
      details.appendChild(body);
    } else {
      article.appendChild(body);
    }
    if (note.media.length) {
      var media = el(article, "div");
      media.className = "media";
      note.media.forEach(function (m) {
        var pic = el(media, "img");
        pic.alt = m.description;
        pic.loading = "lazy";
        pic.referrerPolicy = "no-referrer";
        pic.src = m.preview_url;
      });
    }
    var when = link(el(article, "p"), note.url);
    var time = el(when, "time", fmt.format(new Date(note.created_at)));
    time.dateTime = note.created_at;
    if (note.edited_at) el(when.parentNode, "small", " · " + t.edited);
    return article;
  }

  function number() {
    var items = feed.children;
    for (var i = 0; i < items.length; i++) {
      items[i].setAttribute("aria-posinset", i + 1);
      items[i].setAttribute("aria-setsize", items.length);
    }
  }

  function find(id) {
    return feed.querySelector('article[data-id="' + String(id).replace(/\D/g, "") + '"]');
  }

  function add(note, live) {
    var old = find(note.id);
    var made = render(note);
    if (old) return void feed.replaceChild(made, old);
    if (live) status.textContent = t.fresh + note.account.display_name;
    notice.hidden = true;
    var after = null;
    for (var i = 0; i < feed.children.length; i++) {
      if (BigInt(feed.children[i].dataset.id) < BigInt(note.id)) { after = feed.children[i]; break; }
    }
    feed.insertBefore(made, after);
    while (feed.children.length > limit) feed.lastChild.remove();
    if (!newest || BigInt(note.id) > BigInt(newest)) newest = note.id;
    number();
  }

  function get(path) {
    return fetch(base + path, { credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer" });
  }

  function load() {
    return get("/widget/notes?" + source + "&limit=" + limit + (newest ? "&since_id=" + newest : ""))
      .then(function (r) { if (!r.ok) throw r; return r.json(); })
      .then(function (page) {
        if (!title.firstChild) {
          var a = page.account;
          link(title, a ? a.url : page.tag.url, a ? t.by + a.display_name : t.tag + page.tag.name);
        }
        page.notes.slice().reverse().forEach(function (n) { add(n, false); });
        if (!feed.children.length) say(t.empty);
        feed.setAttribute("aria-busy", "false");
      });
  }

  var wait = 1000;
  function listen() {
    if (placed && !host.isConnected) return;
    var buffer = "";
    var decoder = new TextDecoder();
    get("/widget/stream?" + source)
      .then(function (r) {
        if (!r.ok || !r.body) throw r;
        wait = 1000;
        var reader = r.body.getReader();
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            if (placed && !host.isConnected) return void reader.cancel();
            buffer += decoder.decode(chunk.value, { stream: true });
            var frames = buffer.split("\n\n");
            buffer = frames.pop();
            frames.forEach(handle);
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {})
      .then(function () {
        // The stream ended (a restart, a drop): catch up, then listen again, waiting longer each time.
        setTimeout(function () { load().catch(function () {}).then(listen); }, wait);
        wait = Math.min(wait * 2, 60000);
      });
  }

  function handle(text) {
    var event = "", payload = "";
    text.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) event = line.slice(7);
      else if (line.indexOf("data: ") === 0) payload += line.slice(6);
    });
    if (event === "update" || event === "status.update") add(JSON.parse(payload), event === "update");
    else if (event === "delete") {
      var gone = find(payload);
      if (gone) { gone.remove(); number(); }
    }
  }

  function say(text) {
    notice.textContent = text;
    notice.hidden = false;
  }

  load().then(listen, function () {
    feed.setAttribute("aria-busy", "false");
    say(t.error);
    setTimeout(function () { load().then(listen, function () {}); }, 30000);
  });
})();
