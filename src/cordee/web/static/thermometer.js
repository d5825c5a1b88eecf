// The campaign page's thermometer, live: the server sends the campaign's total (formatted in the
// page's language by the server) each time money is recorded anywhere in the campaign.
(function () {
  "use strict";
  var box = document.querySelector(".thermometer[data-campaign]");
  if (!box || !window.EventSource) return;
  var source = new EventSource("/campaigns/" + box.dataset.campaign + "/stream");
  source.addEventListener("totals", function (e) {
    var t = JSON.parse(e.data);
    box.querySelector("[data-raised]").textContent = t.raised;
    var bar = box.querySelector("[data-percent]");
    bar.value = t.percent;
    bar.textContent = t.percent + " %";
  });
})();
