/* The widget builder (/widget): the snippets and the preview follow the form as it is filled in.
 * The server builds the same snippets when the form is submitted without JavaScript. */
(function () {
  "use strict";
  var form = document.getElementById("widget-form");
  if (!form) return;
  var output = document.getElementById("widget-output");
  var preview = document.getElementById("widget-preview");
  var scriptBox = document.getElementById("widget-script");
  var frameBox = document.getElementById("widget-iframe");
  var copied = document.getElementById("widget-copied");
  var base = location.origin;
  var timer = 0;

  function options() {
    var get = function (name) { return form.elements[name].value.trim(); };
    var account = get("account").replace(/^@/, "");
    var tag = account ? "" : get("tag").replace(/^#/, "");
    var pairs = [["account", account], ["tag", tag]];
    if (get("theme") !== "auto") pairs.push(["theme", get("theme")]);
    if (form.elements.accent.dataset.touched) pairs.push(["accent", get("accent")]);
    pairs.push(["lang", get("lang")]);
    var limit = Math.max(1, Math.min(40, parseInt(get("limit"), 10) || 10));
    if (limit !== 10) pairs.push(["limit", String(limit)]);
    return pairs.filter(function (p) { return p[1] && /^[\w.@#-]+$/.test(p[1]); });
  }

  function update() {
    var pairs = options();
    var ready = pairs.some(function (p) { return p[0] === "account" || p[0] === "tag"; });
    output.hidden = !ready;
    if (!ready) return;
    var attributes = pairs.map(function (p) { return " data-" + p[0] + '="' + p[1] + '"'; }).join("");
    var query = new URLSearchParams(pairs).toString();
    var who = (pairs[0][0] === "tag" ? "#" : "") + pairs[0][1];
    scriptBox.value = '<script src="' + base + '/widget.js"' + attributes + " async></script>";
    frameBox.value = '<iframe src="' + base + "/widget/frame?" + query + '" title="' + who +
      '" width="400" height="600" style="border:0;max-width:100%" loading="lazy"></iframe>';
    var src = "/widget/frame?" + query;
    if (preview.getAttribute("src") !== src) preview.src = src;
  }

  if (form.elements.accent.value !== "#2553a0") form.elements.accent.dataset.touched = "1";
  form.addEventListener("input", function (event) {
    if (event.target.name === "accent") event.target.dataset.touched = "1";
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    update();
    scriptBox.focus();
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var box = document.getElementById(button.dataset.copy);
      box.select();
      var done = function () { copied.textContent = copied.dataset.done; };
      if (navigator.clipboard) navigator.clipboard.writeText(box.value).then(done, function () {});
      else if (document.execCommand("copy")) done();
    });
  });
})();
