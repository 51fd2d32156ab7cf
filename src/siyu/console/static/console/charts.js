/* Charts. A chart's box arrives with a "loading" note drawn by the server, which stays while
   ECharts downloads; `siyuChart` replaces it with the chart, or with a failure note if the
   chart cannot be drawn (ECharts missing, bad data). Charts with no data are never drawn: the
   server renders their empty state instead (console/_chart.html). */
(function () {
  "use strict";

  function fail(box, err) {
    box.dataset.chartState = "failed";
    box.textContent = box.dataset.failedText || "";
    box.classList.add("text-secondary", "d-flex", "align-items-center", "justify-content-center");
    if (err) console.error(err);
  }

  window.siyuChart = function (boxId, dataId, build) {
    const box = document.getElementById(boxId);
    const source = document.getElementById(dataId);
    if (!box || !source) return null;  // the empty state is shown instead
    if (typeof echarts === "undefined") { fail(box, null); return null; }
    try {
      const data = JSON.parse(source.textContent);
      box.replaceChildren();
      const chart = echarts.init(box, null, {renderer: "canvas"});
      chart.setOption(build(data));
      window.addEventListener("resize", function () { chart.resize(); });
      box.dataset.rendered = "true";
      box.dataset.chartState = "ready";
      return chart;
    } catch (err) {
      fail(box, err);
      return null;
    }
  };
})();
