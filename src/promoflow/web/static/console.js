// promoflow console: the few things htmx does not do for us.
// Written by hand because each is a handful of lines with no library to take it from.
(function () {
  "use strict";
  // 1. Times are rendered by the server in the person's zone: tell it the browser's zone.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (zone && document.body && document.body.dataset.tz !== zone) {
    document.cookie = "pf_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=strict";
    if (!sessionStorage.getItem("pf_tz_reloaded")) {
      sessionStorage.setItem("pf_tz_reloaded", "1");
      window.location.reload();
    }
  }
  // 2. An action's refusal (4xx) is shown in the flash area instead of being dropped.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      event.detail.target = document.getElementById("flash");
      event.detail.swapOverride = "innerHTML";  // never replace #flash itself
    }
  });
  // 3. "Select all" boxes for bulk actions.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box && box.dataset && box.dataset.selectAll) {
      document.querySelectorAll("input[name='" + box.dataset.selectAll + "']").forEach(function (other) {
        other.checked = box.checked;
      });
    }
  });
  // 4. Charts: Plotly figures built on the server, carried in data-figure attributes.
  function drawCharts(root) {
    if (!window.Plotly) { return; }
    (root || document).querySelectorAll("[data-figure]:not([data-drawn])").forEach(function (el) {
      var figure = JSON.parse(el.dataset.figure);
      el.setAttribute("data-drawn", "1");
      window.Plotly.newPlot(el, figure.data, figure.layout, { displayModeBar: false, responsive: true });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
