/* Statistics page: draws the charts from the JSON that the server put in #stats-data.
 * Chart.js (static/vendor/chartjs) draws on <canvas>; the heatmap is server-rendered SVG.
 * Colours are read from the CSS variables so the charts follow light and dark mode. */
(function () {
  "use strict";

  var charts = [];

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function percent(value) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + "%";
  }

  function palette() {
    return {
      text: cssVar("--text", "#1d1f23"),
      muted: cssVar("--muted", "#5d636e"),
      border: cssVar("--border", "#d9dbe0"),
      accent: cssVar("--accent", "#2456c7"),
      ok: cssVar("--ok", "#1e7a3c"),
      warn: cssVar("--warn", "#8a5a00"),
      surface: cssVar("--surface", "#ffffff"),
    };
  }

  function baseOptions(colors) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { grid: { display: false }, ticks: { color: colors.muted, maxRotation: 0, autoSkip: true } },
        y: {
          beginAtZero: true,
          grid: { color: colors.border },
          ticks: { color: colors.muted, precision: 0 },
        },
      },
    };
  }

  function bar(canvas, labels, values, color, colors) {
    return new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: "Cards", data: values, backgroundColor: color, borderRadius: 3 }] },
      options: baseOptions(colors),
    });
  }

  function retention(canvas, series, desired, colors) {
    var options = baseOptions(colors);
    options.scales.y = {
      min: 0,
      max: 1,
      grid: { color: colors.border },
      ticks: { color: colors.muted, callback: function (v) { return Math.round(v * 100) + "%"; } },
    };
    options.plugins.legend = { display: true, labels: { color: colors.text, boxWidth: 12 } };
    options.plugins.tooltip = {
      callbacks: {
        label: function (ctx) {
          if (ctx.datasetIndex === 1) return "Desired: " + percent(ctx.parsed.y);
          return "Recalled " + percent(ctx.parsed.y) + " of " + series.reviews[ctx.dataIndex] + " reviews";
        },
      },
    };
    return new window.Chart(canvas, {
      type: "line",
      data: {
        labels: series.labels,
        datasets: [
          {
            label: "True retention",
            data: series.rates,
            borderColor: colors.accent,
            backgroundColor: colors.accent,
            spanGaps: true,
            pointRadius: 3,
          },
          {
            label: "Desired",
            data: series.labels.map(function () { return desired; }),
            borderColor: colors.warn,
            backgroundColor: colors.warn,
            borderDash: [6, 4],
            pointRadius: 0,
            borderWidth: 1.5,
          },
        ],
      },
      options: options,
    });
  }

  function mastery(canvas, data, colors) {
    var options = baseOptions(colors);
    options.indexAxis = "y";
    options.scales = {
      x: {
        min: 0,
        max: 1,
        grid: { color: colors.border },
        ticks: { color: colors.muted, callback: function (v) { return Math.round(v * 100) + "%"; } },
      },
      y: { grid: { display: false }, ticks: { color: colors.text } },
    };
    options.plugins.tooltip = { callbacks: { label: function (ctx) { return "Mastered: " + percent(ctx.parsed.x); } } };
    return new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: "Mastered", data: data.shares, backgroundColor: colors.ok, borderRadius: 3 }] },
      options: options,
    });
  }

  function calibration(canvas, data, colors) {
    var points = data.predicted.map(function (p, i) { return { x: p, y: data.actual[i], n: data.counts[i] }; });
    var max = Math.max.apply(null, data.counts.concat([1]));
    var unit = {
      min: 0,
      max: 1,
      grid: { color: colors.border },
      ticks: { color: colors.muted, stepSize: 0.1, callback: function (v) { return Math.round(v * 100) + "%"; } },
    };
    return new window.Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [
          {
            label: "You",
            data: points,
            showLine: true,
            borderColor: colors.accent,
            backgroundColor: colors.accent,
            pointRadius: points.map(function (pt) { return 3 + 6 * Math.sqrt(pt.n / max); }),
          },
          {
            label: "Perfect",
            data: [{ x: 0, y: 0 }, { x: 1, y: 1 }],
            showLine: true,
            borderColor: colors.muted,
            backgroundColor: colors.muted,
            borderDash: [6, 4],
            borderWidth: 1,
            pointRadius: 0,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: true, labels: { color: colors.text, boxWidth: 12 } },
          tooltip: {
            filter: function (item) { return item.datasetIndex === 0; },
            callbacks: {
              label: function (ctx) {
                return "Predicted " + percent(ctx.raw.x) + ", recalled " + percent(ctx.raw.y) + " (" + ctx.raw.n + " reviews)";
              },
            },
          },
        },
        scales: {
          x: Object.assign({ title: { display: true, text: "Predicted recall", color: colors.muted } }, unit),
          y: Object.assign({ title: { display: true, text: "Actually recalled", color: colors.muted } }, unit),
        },
      },
    });
  }

  function draw() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    var source = document.getElementById("stats-data");
    if (!source || !window.Chart) return;
    var data = JSON.parse(source.getAttribute("data-stats"));
    var colors = palette();
    window.Chart.defaults.color = colors.muted;
    window.Chart.defaults.borderColor = colors.border;
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

    // Canvases carry data-chart, not ids: htmx copies the style attribute between elements of
    // the same id when it swaps, which the CSP (style-src 'self') blocks.
    var byId = function (name) { return document.querySelector('canvas[data-chart="' + name + '"]'); };
    var made = [
      byId("forecast") && bar(byId("forecast"), data.forecast.labels, data.forecast.counts, colors.accent, colors),
      byId("retention-weekly") && retention(byId("retention-weekly"), data.weekly, data.desiredRetention, colors),
      byId("retention-monthly") && retention(byId("retention-monthly"), data.monthly, data.desiredRetention, colors),
      byId("mastery") && mastery(byId("mastery"), data.mastery, colors),
      byId("stability") && bar(byId("stability"), data.stability.labels, data.stability.counts, colors.ok, colors),
      byId("difficulty") && bar(byId("difficulty"), data.difficulty.labels, data.difficulty.counts, colors.warn, colors),
      byId("calibration") && calibration(byId("calibration"), data.calibration, colors),
    ];
    charts = made.filter(Boolean);
    // On a narrow screen the heatmap scrolls: start at today, not a year ago.
    var wrap = document.querySelector(".heatmap-wrap");
    if (wrap) wrap.scrollLeft = wrap.scrollWidth;
  }

  document.addEventListener("DOMContentLoaded", draw);
  // The deck filter swaps #stats-body (and its #stats-data) through htmx.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "stats-body") draw();
  });
  // Back/forward after a filter change: htmx restores the page from the server.
  document.addEventListener("htmx:historyRestore", draw);
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
  }
})();
