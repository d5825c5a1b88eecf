// The campaign page's thermometer, live: the server sends the campaign's total (formatted in the
// page's language by the server) each time money is recorded anywhere in the campaign.
(function () {
  "use strict";
  var box = document.querySelector(".thermometer[data-campaign]");
  if (!box || !window.EventSource) return;
  // Reopened on any error with a growing delay (EventSource gives up for good on an answer that
  // is not a stream); each (re)connection starts with the totals as they are.
  var delay = 1000;
  function connect() {
    var source = new EventSource("/campaigns/" + box.dataset.campaign + "/stream");
    source.addEventListener("open", function () { delay = 1000; });
    source.addEventListener("error", function () {
      source.close();
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
    source.addEventListener("totals", function (e) {
      var t = JSON.parse(e.data);
      box.querySelector("[data-raised]").textContent = t.raised;
      var bar = box.querySelector("[data-percent]");
      bar.value = t.percent;
      bar.textContent = t.percent + " %";
    });
  }
  connect();
})();
