// The door page: checks ticket codes in the browser with the chapter's Ed25519 public key
// (WebCrypto), so it works without a network; queues the scans in localStorage and sends them
// when it can (the server checks every code again and flags a ticket scanned twice).
// Code format (cordee/domain/ticket_codes.py): "CT1." + base64url(chapter id, ticket id as
// 64-bit big-endian, then the signature of "cordee-ticket-v1" + those 16 bytes).
(function () {
  "use strict";
  var root = document.getElementById("door");
  if (!root) return;
  var d = root.dataset;
  var storeKey = "cordee-door-" + d.chapter;
  var state = JSON.parse(localStorage.getItem(storeKey) || "null") || { pending: [], seen: {}, counter: 0 };
  var device = localStorage.getItem("cordee-door-device");
  if (!device) {
    device = Math.random().toString(36).slice(2, 10);
    localStorage.setItem("cordee-door-device", device);
  }
  var result = document.getElementById("door-result");
  var pendingOut = document.getElementById("door-pending");
  var serverList = document.getElementById("door-server");
  document.getElementById("door-pending-label").textContent = d.msgPending;
  var syncing = false;

  function bytes(b64) {
    var s = b64.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  var key = crypto.subtle.importKey("raw", bytes(d.key), { name: "Ed25519" }, false, ["verify"]);
  var context = new TextEncoder().encode("cordee-ticket-v1");

  function save() {
    localStorage.setItem(storeKey, JSON.stringify(state));
    pendingOut.textContent = String(state.pending.length);
  }

  // The ticket id the code names, or null when it is not a code signed for this chapter.
  function verify(code) {
    if (code.indexOf("CT1.") !== 0) return Promise.resolve(null);
    var raw;
    try { raw = bytes(code.slice(4)); } catch (e) { return Promise.resolve(null); }
    if (raw.length !== 80) return Promise.resolve(null);
    var ids = raw.slice(0, 16), message = new Uint8Array(context.length + 16);
    message.set(context); message.set(ids, context.length);
    var view = new DataView(ids.buffer);
    if (view.getBigUint64(0).toString() !== d.chapter) return Promise.resolve(null);
    return key.then(function (k) {
      return crypto.subtle.verify({ name: "Ed25519" }, k, raw.slice(16), message);
    }).then(function (ok) { return ok ? view.getBigUint64(8).toString() : null; });
  }

  function say(text, kind) {
    result.textContent = text;
    result.className = "door-" + kind;
  }

  function sync() {
    if (syncing || state.pending.length === 0) return;
    syncing = true;
    var batch = state.pending.slice(0, 500);
    var body = new FormData();
    body.append(d.csrfName, d.csrf);
    body.append("scans", JSON.stringify(batch));
    fetch(d.sync, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (answers) {
        var sent = {};
        answers.forEach(function (a) {
          sent[a.scan_key] = true;
          var message = { duplicate: d.msgDuplicate, refused: d.msgRefused, invalid: d.msgInvalid }[a.result];
          if (!message && a.unpaid) message = d.msgUnpaid;
          if (message && !a.replayed) {
            var li = document.createElement("li");
            li.textContent = a.scan_key + ": " + message;
            serverList.prepend(li);
          }
        });
        state.pending = state.pending.filter(function (s) { return !sent[s.scan_key]; });
        save();
      })
      .catch(function () { /* offline or refused: the scans stay queued, sent on the next try */ })
      .finally(function () { syncing = false; });
  }

  document.getElementById("door-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("door-code");
    var code = input.value.trim();
    input.value = "";
    input.focus();
    verify(code).then(function (ticket) {
      if (ticket === null) { say(d.msgInvalid, "invalid"); return; }
      if (state.seen[ticket]) say(d.msgAgain, "again"); else say(d.msgOk, "ok");
      state.seen[ticket] = true;
      state.counter += 1;
      state.pending.push({ code: code, scan_key: device + "-" + d.chapter + "-" + state.counter, scanned_at: new Date().toISOString() });
      save();
      sync();
    });
  });
  window.addEventListener("online", sync);
  setInterval(sync, 5000);
  save();
  sync();
})();
