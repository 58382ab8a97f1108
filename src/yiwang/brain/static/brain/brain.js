// The brains' dashboard: a grid map coloured by a chosen figure (click to drill down) and
// ECharts charts, all from /api/v1/brain/. The same script drives the large screen (dark,
// refreshing itself). Plain ES2017; figures are computed on the server, never here.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("brain-config").textContent);
  var dark = config.screen;
  var charts = {};
  var map = null;
  var gridLayer = null;
  var last = null; // the last dashboard payload

  var LABELS = {
    reported: "上报数", overdue: "超期数", completion_rate: "办结率",
    satisfaction_rate: "满意率", on_time_rate: "按期办结率", response_rate: "及时响应率",
    closed: "办结数", stars: "星级", average_handling_hours: "平均办理时长(小时)",
  };
  var RATES = { completion_rate: 1, satisfaction_rate: 1, on_time_rate: 1, response_rate: 1 };

  function $(id) { return document.getElementById(id); }

  function h(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }

  function pct(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }

  function show(key, v) {
    if (v === null || v === undefined) return "—";
    return RATES[key] ? pct(v) : String(v);
  }

  function query() {
    var p = new URLSearchParams({ level: config.node.level, node: config.node.id });
    if ($("start").value) p.set("start", $("start").value);
    if ($("end").value) p.set("end", $("end").value);
    return p;
  }

  function getJSON(path, params) {
    return fetch(config.api + path + "?" + params.toString(), {
      credentials: "same-origin", headers: { Accept: "application/json" },
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error((body && body.message) || r.statusText);
        return body;
      });
    });
  }

  function fail(err) {
    var box = $("brain-error");
    box.textContent = String(err.message || err);
    box.hidden = false;
  }

  // ---- charts ---------------------------------------------------------------------------

  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init($("chart-" + id), dark ? "dark" : null, { renderer: "canvas" });
      charts[id].on("finished", function () { $("chart-" + id).dataset.rendered = "true"; });
    }
    return charts[id];
  }

  function base(extra) {
    var opt = {
      backgroundColor: dark ? "#0b1a33" : "#fff",
      animation: !dark,
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 24, top: 36, bottom: 40, containLabel: true },
      toolbox: { feature: { saveAsImage: { title: "保存图片", pixelRatio: 2 } } },
    };
    return Object.assign(opt, extra);
  }

  function drawTrend(rows) {
    chart("trend").setOption(base({
      legend: { data: ["上报数", "办结数", "办结率"] },
      xAxis: { type: "category", data: rows.map(function (r) { return r.period; }) },
      yAxis: [{ type: "value", name: "件" }, { type: "value", name: "办结率", min: 0, max: 1 }],
      series: [
        { name: "上报数", type: "bar", data: rows.map(function (r) { return r.reported; }) },
        { name: "办结数", type: "bar", data: rows.map(function (r) { return r.closed; }) },
        { name: "办结率", type: "line", yAxisIndex: 1, smooth: true,
          data: rows.map(function (r) { return r.completion_rate; }) },
      ],
    }), true);
  }

  function drawCategories(rows) {
    chart("categories").setOption(base({
      tooltip: { trigger: "item" },
      legend: { type: "scroll", bottom: 0 },
      series: [{
        type: "pie", radius: ["35%", "65%"],
        data: rows.map(function (r) { return { name: r.name, value: r.reported }; }),
      }],
    }), true);
  }

  function drawBars(id, rows, key) {
    var top = rows.slice(0, 15);
    chart(id).setOption(base({
      xAxis: { type: "value", max: RATES[key] ? 1 : null },
      yAxis: { type: "category", inverse: true, data: top.map(function (r) { return r.name; }) },
      series: [{ name: LABELS[key] || key, type: "bar",
                 data: top.map(function (r) { return r[key] || 0; }) }],
    }), true);
  }

  function drawPlaces(rows) {
    var top = rows.slice(0, 12);
    chart("places").setOption(base({
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true,
               data: top.map(function (r) { return r.address + " · " + r.category; }) },
      series: [{ name: "次数", type: "bar", data: top.map(function (r) { return r.count; }) }],
    }), true);
  }

  function drawKpis(s) {
    var box = $("kpis");
    box.textContent = "";
    [["reported", s.reported], ["closed", s.closed], ["overdue", s.overdue],
     ["completion_rate", s.completion_rate], ["on_time_rate", s.on_time_rate],
     ["satisfaction_rate", s.satisfaction_rate], ["response_rate", s.response_rate],
     ["average_handling_hours", s.average_handling_hours]].forEach(function (kv) {
      var card = h("div", { class: "brain-kpi", "data-kpi": kv[0] });
      card.appendChild(h("span", { class: "brain-kpi-value" }, show(kv[0], kv[1])));
      card.appendChild(h("span", { class: "brain-kpi-label" }, LABELS[kv[0]] || kv[0]));
      box.appendChild(card);
    });
  }

  function drawList(id, rows) {
    var t = $(id);
    t.textContent = "";
    var head = h("tr");
    ["编号", "标题", "网格", "状态", "办结时限"].forEach(function (c) { head.appendChild(h("th", {}, c)); });
    t.appendChild(h("thead")).appendChild(head);
    var body = t.appendChild(h("tbody"));
    if (!rows.length) {
      body.appendChild(h("tr")).appendChild(h("td", { colspan: 5 }, "无"));
    }
    rows.forEach(function (r) {
      var tr = body.appendChild(h("tr"));
      var a = h("a", { href: "/cases/" + r.id + "/" }, r.number);
      tr.appendChild(h("td")).appendChild(a);
      [r.title, r.grid, r.state, (r.resolve_due || "").slice(0, 16).replace("T", " ")]
        .forEach(function (v) { tr.appendChild(h("td", {}, v)); });
    });
  }

  // ---- the map --------------------------------------------------------------------------

  var PALETTE = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"];

  function colour(value, lo, hi, higherIsWorse) {
    if (value === null || value === undefined) return dark ? "#334155" : "#e5e7eb";
    var t = hi > lo ? (value - lo) / (hi - lo) : 0.5;
    if (!higherIsWorse) t = 1 - t;
    return PALETTE[Math.min(PALETTE.length - 1, Math.floor(t * PALETTE.length))];
  }

  var stars = {};

  function figureOf(gridId, key) {
    if (key === "stars") return stars[gridId] !== undefined ? stars[gridId] : null;
    var f = last && last.grids[String(gridId)];
    if (!f) return key.slice(-5) === "_rate" ? null : 0;
    return f[key];
  }

  function paintMap() {
    if (!gridLayer) return;
    var key = $("map-figure").value;
    var worse = key === "reported" || key === "overdue";
    var values = [];
    gridLayer.eachLayer(function (l) {
      var v = figureOf(l.feature.id, key);
      if (v !== null && v !== undefined) values.push(v);
    });
    var lo = Math.min.apply(null, values.concat([Infinity]));
    var hi = Math.max.apply(null, values.concat([-Infinity]));
    gridLayer.eachLayer(function (l) {
      var v = figureOf(l.feature.id, key);
      l.setStyle({ fillColor: colour(v, lo, hi, worse), fillOpacity: 0.75,
                   color: dark ? "#93c5fd" : "#334155", weight: 1 });
      l.bindTooltip(l.feature.properties.name + ":" + (LABELS[key] || key) + " " + show(key, v));
    });
    $("map-legend").textContent = values.length
      ? (LABELS[key] || key) + ":" + show(key, lo) + " — " + show(key, hi) : "";
  }

  function drill(props) {
    var next = { district: ["street", props.street_id], street: ["community", props.community_id],
                 community: ["grid", props.id] }[config.node.level];
    if (!next) return;
    var url = config.page_url.replace("LEVEL", next[0]).replace("ID", next[1]);
    window.location.href = config.screen ? "?level=" + next[0] + "&node=" + next[1] : url;
  }

  function loadMap() {
    var p = new URLSearchParams();
    if (config.node.level === "street") p.set("street_id", config.node.id);
    if (config.node.level === "community") p.set("community_id", config.node.id);
    if (config.node.level === "grid") p.set("community_id", config.community_id);
    return fetch(config.grids_url + "?" + p.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        if (config.node.level === "grid") {
          fc.features = fc.features.filter(function (f) { return f.id === config.node.id; });
        }
        map = L.map("brain-map", { zoomControl: true, attributionControl: false });
        gridLayer = L.geoJSON(fc, {
          onEachFeature: function (f, layer) {
            layer.on("click", function () { drill(f.properties); });
          },
        }).addTo(map);
        if (fc.features.length) map.fitBounds(gridLayer.getBounds(), { padding: [8, 8] });
        else map.setView([36.08, 120.37], 13);
        var el = $("brain-map");
        el.dataset.gridCount = String(fc.features.length);
        paintMap();
        el.dataset.loaded = "true";
      });
  }

  // ---- loading --------------------------------------------------------------------------

  function exportLinks(params) {
    document.querySelectorAll(".brain-xlsx").forEach(function (a) {
      var spec = a.dataset.export.split("?");
      var p = new URLSearchParams(params);
      new URLSearchParams(spec[1] || "").forEach(function (v, k) { p.set(k, v); });
      p.set("format", "xlsx");
      a.href = config.api + spec[0] + "?" + p.toString();
    });
  }

  function load() {
    var params = query();
    var withGrain = new URLSearchParams(params);
    withGrain.set("grain", $("grain").value || "auto");
    exportLinks(withGrain);
    $("brain-error").hidden = true;
    var jobs = [
      getJSON("dashboard", withGrain).then(function (d) {
        last = d;
        if (!$("start").value) $("start").value = d.start;
        if (!$("end").value) $("end").value = d.end;
        drawKpis(d.summary);
        drawTrend(d.trend);
        drawCategories(d.categories);
        drawBars("children", d.children, "completion_rate");
        paintMap();
      }),
      getJSON("departments", params).then(function (d) {
        drawBars("departments", d.departments, "completion_rate");
      }),
      getJSON("places", params).then(function (d) { drawPlaces(d.places); }),
      getJSON("live", params).then(function (d) {
        drawList("list-overdue", d.overdue);
        drawList("list-top", d.top);
      }),
      getJSON("stars", new URLSearchParams({ level: config.node.level, node: config.node.id }))
        .then(function (d) {
          stars = {};
          d.ratings.forEach(function (r) { stars[r.grid_id] = r.stars; });
          paintMap();
        }),
    ];
    return Promise.all(jobs).then(function () {
      $("brain").dataset.loaded = "true";
    }).catch(fail);
  }

  document.querySelectorAll(".brain-png").forEach(function (b) {
    b.addEventListener("click", function () {
      var c = charts[b.dataset.chart];
      if (!c) return;
      var a = h("a", { href: c.getDataURL({ type: "png", pixelRatio: 2,
                       backgroundColor: dark ? "#0b1a33" : "#fff" }),
                       download: config.node.name + "-" + b.dataset.chart + ".png" });
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  });

  $("brain-controls").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  $("map-figure").addEventListener("change", paintMap);
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });

  loadMap().then(load).catch(fail);

  if (config.refresh_seconds) {
    var clock = $("brain-clock");
    setInterval(function () { if (clock) clock.textContent = new Date().toLocaleString("zh-CN"); }, 1000);
    setInterval(load, config.refresh_seconds * 1000);
  }
})();
