// The compose box's counter. The number shown is the server's own count (POST /web/count, the very
// function that refuses a note that is too long), asked for shortly after typing stops. In between,
// a local estimate keeps the number moving: grapheme clusters, http(s) URLs as the server's URL
// weight, mentions as their local part. The estimate is never the last word: data-state="server"
// marks the number once the server's answer for the current text is shown.
(function () {
  "use strict";
  var form = document.querySelector("form[data-compose]");
  if (!form) return;
  var text = form.querySelector("textarea[name=status]");
  var cw = form.querySelector("input[name=spoiler_text]");
  var counter = form.querySelector("[data-counter]");
  var remaining = counter.querySelector("[data-remaining]");
  var limit = Number(counter.dataset.limit);
  var token = form.querySelector("input[name=csrf_token]").value;
  var segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  var URLS = /https?:\/\/[^\s<>"]+/giu;
  var MENTIONS = /(^|[^=\/\w@])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_])?)@[\w.-]+\w/giu;
  var timer = null;
  var asked = 0;

  function graphemes(s) {
    if (!segmenter) return Array.from(s).length;
    var n = 0;
    for (var _ of segmenter.segment(s)) n++;
    return n;
  }

  function estimate(s, weight) {
    var urls = 0;
    // Trailing punctuation is not part of a URL (as for the server's URL extractor).
    s = s.replace(URLS, function (url) { urls++; return url.match(/[).,;:!?'"]*$/)[0]; });
    s = s.replace(MENTIONS, function (_, before, user) { return before + "@" + user; });
    return graphemes(s) + urls * weight;
  }

  function show(used, state) {
    remaining.textContent = String(limit - used);
    counter.classList.toggle("over", used > limit);
    counter.dataset.state = state;
  }

  function ask() {
    var mine = ++asked;
    var body = new URLSearchParams();
    body.set("csrf_token", token);
    body.set("status", text.value);
    body.set("spoiler_text", cw ? cw.value : "");
    fetch("/web/count", { method: "POST", body: body, credentials: "same-origin", headers: { "X-Cordee-Fetch": "1" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (answer && mine === asked) { limit = answer.limit; show(answer.count, "server"); }
      })
      .catch(function () { /* offline: the estimate stays; the server still checks on posting */ });
  }

  function changed() {
    show(estimate(text.value.trim(), 23) + estimate(cw ? cw.value : "", 23), "estimate");
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  }

  // "Publish later" is a wall-clock time: say in which zone (the server reads it in that one).
  var zone = form.querySelector("input[data-timezone]");
  if (zone && typeof Intl !== "undefined") {
    var name = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (name) {
      zone.value = name;
      var hint = form.querySelector("#compose-zone");
      if (hint && hint.dataset.template) hint.textContent = hint.dataset.template.replace("%ZONE%", name);
    }
  }

  text.addEventListener("input", changed);
  if (cw) cw.addEventListener("input", changed);
  if (text.value) ask();
})();
