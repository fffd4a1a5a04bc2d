// Dashboard charts. Data comes from the json_script block "dashboard-data"; no inline scripts.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var labels = data.labels;
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  Chart.defaults.animation = reduceMotion ? false : Chart.defaults.animation;
  Chart.defaults.maintainAspectRatio = true;

  function numbers(values) {
    // Amounts arrive as decimal strings; charts only need approximate magnitudes.
    return values.map(function (value) { return Number(value); });
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { return new Chart(canvas, config); }
    return null;
  }

  function accountsAndAmounts(id, block) {
    draw(id, {
      type: "bar",
      data: {
        labels: block.labels,
        datasets: [
          { label: labels.accounts, data: block.accounts, yAxisID: "accounts" },
          // A bar too: the buckets and classes are categories, and a line between them would read as a trend.
          { label: labels.amount, data: numbers(block.amounts), yAxisID: "amount" }
        ]
      },
      options: {
        responsive: true,
        scales: {
          accounts: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } },
          amount: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  accountsAndAmounts("chart-aging", data.aging);
  accountsAndAmounts("chart-classification", data.classification);

  draw("chart-stages", {
    type: "bar",
    data: { labels: data.stages.labels, datasets: [{ label: labels.cases, data: data.stages.cases }] },
    options: { indexAxis: "y", responsive: true, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
  });

  draw("chart-recovery", {
    type: "bar",
    data: { labels: data.recovery.labels, datasets: [{ label: labels.recovered, data: numbers(data.recovery.amounts) }] },
    options: { responsive: true, scales: { y: { beginAtZero: true } } }
  });
})();
