// The grid map: the grids in the user's scope (from the API), a legend of streets, a grid
// panel with the grid's team, address lookup and "which grid is this point in".
// Plain ES2017 over Leaflet; all text comes translated from the server in #map-config.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("map-config").textContent);
  var S = config.strings;
  var LABEL_MIN_PX = 96; // a grid shows its name once it is at least this wide on screen
  var LABEL_MAX = 400; // never more labels than this at once

  // ---- small helpers -----------------------------------------------------------------

  function h(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "class") node.className = v;
        else if (k === "style") node.setAttribute("style", v);
        else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : v);
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) {
      return values[k] !== undefined ? values[k] : "";
    });
  }

  function percent(x) {
    return Math.round((x || 0) * 100) + "%";
  }

  function area(m2) {
    if (!m2) return "—";
    if (m2 >= 100000) return (m2 / 1e6).toFixed(2) + " km²";
    return Math.round(m2).toLocaleString() + " m²";
  }

  function fetchJSON(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (body) {
          if (response.status === 401) {
            window.location.href = config.loginUrl + "?next=" + encodeURIComponent(location.pathname);
          }
          if (!response.ok) {
            var err = new Error((body && body.message) || response.statusText);
            err.status = response.status;
            err.body = body;
            throw err;
          }
          return body;
        });
    });
  }

  // ---- the map ------------------------------------------------------------------------

  var mapEl = document.getElementById("map");
  var statusEl = document.getElementById("map-status");
  var resultEl = document.getElementById("address-result");
  var panel = document.getElementById("grid-panel");
  var panelTitle = document.getElementById("grid-panel-title");
  var panelBody = document.getElementById("grid-panel-body");
  var legend = document.getElementById("legend");
  var legendList = document.getElementById("legend-list");
  var narrow = window.matchMedia("(max-width: 640px)");

  // One canvas for all polygons: hundreds of grids stay smooth on a cheap phone.
  var renderer = L.canvas({ padding: 0.3, tolerance: 3 });
  var map = L.map(mapEl, {
    renderer: renderer,
    preferCanvas: true,
    zoomControl: false,
    attributionControl: Boolean(config.tileUrl),
    zoomSnap: 0.25,
    minZoom: 9,
    maxZoom: 19,
  });
  L.control.zoom({ position: "bottomright", zoomInTitle: "+", zoomOutTitle: "−" }).addTo(map);
  L.control.scale({ position: "bottomright", imperial: false }).addTo(map);
  if (config.tileUrl) {
    map.attributionControl.setPrefix("Leaflet");
    L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
  }
  // No view until the grids arrive: the first view is theirs, without a zoom animation.
  var DEFAULT_VIEW = [36.08, 120.36];
  window.yiwangMap = map;

  if (narrow.matches) legend.open = false;

  var gridLayer = null;
  var layersById = new Map();
  var boundsById = new Map();
  var selectedId = null;
  var candidateIds = new Set();
  var searchLayer = L.layerGroup().addTo(map);
  var labelLayer = L.layerGroup().addTo(map);

  function styleFor(feature) {
    var id = feature.id;
    var color = feature.properties.color || "#3b82f6";
    if (id === selectedId) {
      return { color: "#0f172a", weight: 3, opacity: 1, fillColor: color, fillOpacity: 0.5, dashArray: null };
    }
    if (candidateIds.has(id)) {
      return { color: "#d97706", weight: 3, opacity: 1, fillColor: "#fbbf24", fillOpacity: 0.45, dashArray: "6 4" };
    }
    return { color: color, weight: 1, opacity: 0.9, fillColor: color, fillOpacity: 0.22, dashArray: null };
  }

  function restyle() {
    if (!gridLayer) return;
    layersById.forEach(function (layer) {
      layer.setStyle(styleFor(layer.feature));
    });
    var selected = layersById.get(selectedId);
    if (selected) selected.bringToFront();
  }

  function setStatus(text, kind) {
    statusEl.textContent = text || "";
    statusEl.hidden = !text;
    if (kind) statusEl.dataset.kind = kind;
    else delete statusEl.dataset.kind;
  }

  // ---- labels at higher zoom -------------------------------------------------------------

  function updateLabels() {
    labelLayer.clearLayers();
    if (!gridLayer) return;
    var view = map.getBounds().pad(0.1);
    var shown = 0;
    layersById.forEach(function (layer, id) {
      if (shown >= LABEL_MAX) return;
      var p = layer.feature.properties;
      if (p.center_lat === null || p.center_lat === undefined) return;
      var center = L.latLng(p.center_lat, p.center_lng);
      if (!view.contains(center)) return;
      var b = boundsById.get(id);
      var west = map.latLngToContainerPoint(b.getSouthWest());
      var east = map.latLngToContainerPoint(b.getNorthEast());
      if (east.x - west.x < LABEL_MIN_PX) return;
      shown += 1;
      L.marker(center, {
        icon: L.divIcon({ className: "grid-label", html: h("span", { text: p.name }), iconSize: null }),
        interactive: false,
        keyboard: false,
      }).addTo(labelLayer);
    });
    mapEl.dataset.labels = String(shown);
  }

  // ---- legend ----------------------------------------------------------------------------

  function buildLegend(features) {
    var streets = new Map();
    features.forEach(function (f) {
      var p = f.properties;
      var s = streets.get(p.street_id);
      if (!s) {
        s = { id: p.street_id, name: p.street, color: p.color, ids: [] };
        streets.set(p.street_id, s);
      }
      s.ids.push(f.id);
    });
    legendList.textContent = "";
    Array.from(streets.values())
      .sort(function (a, b) {
        return a.id - b.id;
      })
      .forEach(function (s) {
        legendList.appendChild(
          h(
            "li",
            { "data-street-id": s.id },
            h(
              "button",
              {
                type: "button",
                onclick: function () {
                  fitTo(s.ids);
                },
              },
              h("span", { class: "swatch", style: "background:" + s.color }),
              h("span", { text: s.name }),
              h("span", { class: "count", text: String(s.ids.length) })
            )
          )
        );
      });
    legendList.appendChild(h("li", { class: "total", text: fmt(S.grid_count, { n: features.length }) }));
  }

  // Padding that keeps fitted shapes clear of the search box and an open side panel.
  function viewPadding() {
    var mapBox = mapEl.getBoundingClientRect();
    var tools = document.querySelector(".map-tools").getBoundingClientRect();
    var top = Math.min(tools.bottom - mapBox.top, mapBox.height / 3) + 16;
    var right = 24;
    var bottom = 24;
    if (!panel.hidden) {
      var p = panel.getBoundingClientRect();
      if (narrow.matches) bottom = Math.min(p.height, mapBox.height / 2) + 16;
      else right = Math.min(p.width, mapBox.width / 2) + 16;
    }
    return { paddingTopLeft: [24, top], paddingBottomRight: [right, bottom] };
  }

  function fitTo(ids) {
    var bounds = null;
    ids.forEach(function (id) {
      var b = boundsById.get(id);
      if (!b) return;
      bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    });
    if (bounds) map.flyToBounds(bounds, Object.assign(viewPadding(), { maxZoom: 17, duration: 0.6 }));
  }

  // ---- grid panel ------------------------------------------------------------------------

  var detailRequest = 0;

  function openPanel() {
    panel.hidden = false;
  }

  function closePanel() {
    panel.hidden = true;
    panel.removeAttribute("data-grid-id");
    selectedId = null;
    restyle();
  }

  function fact(label, value) {
    return [h("dt", { text: label }), h("dd", { text: value === null || value === undefined || value === "" ? S.none : String(value) })];
  }

  function renderDetail(g) {
    panelTitle.textContent = g.name;
    panelBody.textContent = "";
    var facts = h("dl", { class: "facts", "data-testid": "grid-facts" });
    [
      fact(S.code, g.code),
      fact(S.community, g.community),
      fact(S.street, g.street),
      fact(S.party_branch, g.party_branch),
      fact(S.building_count, g.building_count),
      fact(S.area, area(g.area_m2)),
    ].forEach(function (pair) {
      facts.appendChild(pair[0]);
      facts.appendChild(pair[1]);
    });
    panelBody.appendChild(facts);
    panelBody.appendChild(h("h3", { text: S.team }));
    if (!g.team || !g.team.length) {
      panelBody.appendChild(h("p", { class: "muted", text: S.no_team }));
      return;
    }
    var list = h("ul", { class: "team", "data-testid": "team" });
    g.team.forEach(function (m) {
      list.appendChild(
        h(
          "li",
          { "data-testid": "team-member", "data-role": m.role },
          h("span", { class: "role", text: m.role_label }),
          h("span", { class: "name", text: m.name }),
          m.department ? h("span", { class: "dept", text: m.department }) : null
        )
      );
    });
    panelBody.appendChild(list);
  }

  function selectGrid(id, options) {
    options = options || {};
    selectedId = id;
    restyle();
    var layer = layersById.get(id);
    var name = layer ? layer.feature.properties.name : "";
    panel.dataset.gridId = String(id);
    panel.dataset.state = "loading";
    panelTitle.textContent = name;
    panelBody.textContent = "";
    panelBody.appendChild(h("p", { class: "muted", text: S.detail_loading }));
    openPanel();
    if (layer && options.fit) {
      map.flyToBounds(boundsById.get(id), Object.assign(viewPadding(), { maxZoom: 17, duration: 0.6 }));
    }
    var ticket = ++detailRequest;
    fetchJSON(config.gridUrl.replace("{id}", encodeURIComponent(id)))
      .then(function (g) {
        if (ticket !== detailRequest) return;
        renderDetail(g);
        panel.dataset.state = "ready";
      })
      .catch(function () {
        if (ticket !== detailRequest) return;
        panelBody.textContent = "";
        panelBody.appendChild(h("p", { class: "muted", text: S.detail_failed }));
        panel.dataset.state = "error";
      });
  }

  document.getElementById("grid-panel-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) closePanel();
  });

  // ---- address lookup --------------------------------------------------------------------

  function showResult(kind, nodes) {
    resultEl.textContent = "";
    resultEl.dataset.kind = kind;
    nodes.forEach(function (n) {
      if (n) resultEl.appendChild(n);
    });
    resultEl.hidden = false;
  }

  function clearSearch() {
    searchLayer.clearLayers();
    candidateIds = new Set();
    // A grid highlighted by an earlier search goes; one the user opened in the panel stays.
    if (panel.hidden) selectedId = null;
    restyle();
  }

  // Highlight the grid an address resolved to; an open panel follows it, a closed one stays
  // closed so that on a phone the bottom sheet does not cover the marker.
  function focusGrid(id) {
    if (!layersById.has(id)) {
      selectedId = null;
      restyle();
      if (!panel.hidden) closePanel();
      return;
    }
    if (!panel.hidden) {
      selectGrid(id);
      return;
    }
    selectedId = id;
    restyle();
  }

  function gridButton(id, label) {
    if (!layersById.has(id)) return h("span", { text: label + " " + S.out_of_scope });
    return h("button", {
      type: "button",
      class: "btn-link",
      text: label,
      onclick: function () {
        selectGrid(id, { fit: true });
      },
    });
  }

  function showResolution(r) {
    var message = h("p", { "data-testid": "result-message", text: r.message || "" });
    if (r.resolved && r.lat !== null && r.lat !== undefined) {
      var where = L.latLng(r.lat, r.lng);
      var popup = h(
        "div",
        { class: "building-popup", "data-testid": "building-popup" },
        h("strong", { text: r.building_address || r.query }),
        h("div", { text: S.grid + ":" + r.grid_name + (r.grid_code ? "(" + r.grid_code + ")" : "") }),
        h("div", { text: S.confidence + ":" + percent(r.confidence) })
      );
      var marker = L.marker(where, { title: r.building_address || r.query, alt: r.building_address || "" })
        .bindPopup(popup)
        .addTo(searchLayer);
      var markerEl = marker.getElement();
      if (markerEl) markerEl.setAttribute("data-testid", "address-marker");
      focusGrid(r.grid_id);
      map.flyTo(where, Math.max(map.getZoom(), 17), { duration: 0.8 });
      map.once("moveend", function () {
        marker.openPopup();
      });
      showResult(r.level === "building" ? "ok" : "partial", [
        message,
        h(
          "p",
          { class: "result-grid", "data-testid": "result-grid" },
          S.grid + ":",
          gridButton(r.grid_id, r.grid_name),
          " · " + S.confidence + " " + percent(r.confidence)
        ),
      ]);
      return;
    }
    if (r.resolved) {
      focusGrid(r.grid_id);
      if (layersById.has(r.grid_id)) fitTo([r.grid_id]);
      showResult("partial", [
        message,
        h("p", { class: "result-grid", "data-testid": "result-grid" }, S.grid + ":", gridButton(r.grid_id, r.grid_name)),
      ]);
      return;
    }
    if (r.candidates && r.candidates.length) {
      candidateIds = new Set(
        r.candidates
          .map(function (c) {
            return c.grid_id;
          })
          .filter(function (id) {
            return layersById.has(id);
          })
      );
      restyle();
      if (candidateIds.size) fitTo(Array.from(candidateIds));
      var list = h("ul", { class: "candidate-list", "data-testid": "candidates" });
      r.candidates.forEach(function (c) {
        list.appendChild(h("li", null, gridButton(c.grid_id, c.grid_name + " " + percent(c.share))));
      });
      showResult("partial", [message, h("p", { text: S.candidates + ":" }), list]);
      return;
    }
    showResult("warn", [h("p", { "data-testid": "result-message", text: r.message || S.not_found })]);
  }

  document.getElementById("address-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = document.getElementById("address-input");
    var address = input.value.trim();
    clearSearch();
    if (!address) {
      showResult("warn", [h("p", { text: S.empty_address })]);
      input.focus();
      return;
    }
    showResult("info", [h("p", { text: S.resolving })]);
    fetchJSON(config.resolveUrl + "?address=" + encodeURIComponent(address))
      .then(showResolution)
      .catch(function (err) {
        var text = err.status === 400 && err.message ? err.message : S.resolve_failed;
        showResult("error", [h("p", { "data-testid": "result-message", text: text })]);
      });
  });

  // ---- which grid is this point in (right click / long press) ---------------------------

  map.on("contextmenu", function (e) {
    var url = config.locateUrl + "?lat=" + e.latlng.lat.toFixed(6) + "&lng=" + e.latlng.lng.toFixed(6);
    fetchJSON(url)
      .then(function (r) {
        L.popup()
          .setLatLng(e.latlng)
          .setContent(h("div", { class: "building-popup" }, h("strong", { text: S.locate_title }), h("div", { text: r.message })))
          .openOn(map);
      })
      .catch(function () {});
  });

  // ---- load the grids --------------------------------------------------------------------

  function selectFromHash() {
    var m = /(?:^#|&)grid=(\d+)/.exec(window.location.hash);
    var id = m ? Number(m[1]) : null;
    if (id !== null && layersById.has(id) && id !== selectedId) selectGrid(id, { fit: true });
  }

  setStatus(S.loading);
  fetchJSON(config.gridsUrl)
    .then(function (data) {
      var features = (data && data.features) || [];
      mapEl.dataset.gridCount = String(features.length);
      if (!features.length) {
        map.setView(DEFAULT_VIEW, 13);
        setStatus(S.no_grids, "warn");
        legend.hidden = true;
        mapEl.dataset.loaded = "true";
        return;
      }
      gridLayer = L.geoJSON(data, {
        style: styleFor,
        onEachFeature: function (feature, layer) {
          layersById.set(feature.id, layer);
          boundsById.set(feature.id, layer.getBounds());
          layer.on("click", function (ev) {
            L.DomEvent.stopPropagation(ev);
            selectGrid(feature.id);
          });
          layer.on("mouseover", function () {
            if (feature.id !== selectedId && !candidateIds.has(feature.id)) layer.setStyle({ fillOpacity: 0.4 });
          });
          layer.on("mouseout", function () {
            layer.setStyle(styleFor(feature));
          });
        },
      });
      setStatus("");
      map.fitBounds(gridLayer.getBounds(), Object.assign(viewPadding(), { animate: false }));
      gridLayer.addTo(map);
      buildLegend(features);
      updateLabels();
      map.on("moveend", updateLabels);
      // Links from cards and lists say which grid to show: /map/#grid=12.
      selectFromHash();
      window.addEventListener("hashchange", selectFromHash);
      mapEl.dataset.loaded = "true";
    })
    .catch(function (err) {
      if (window.console) console.error(err);
      if (!gridLayer) map.setView(DEFAULT_VIEW, 13);
      setStatus(S.load_failed, "error");
      mapEl.dataset.loaded = "error";
    });

  // For tests and for other scripts on the page.
  window.yiwang = {
    map: map,
    grids: layersById,
    selectGrid: selectGrid,
  };
})();
