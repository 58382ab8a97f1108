// Case pages: the small maps (a case's pin, the report form's tap-to-place), and filling a
// reply from a chosen template. Plain ES2017 over Leaflet; no basemap unless configured.
(function () {
  "use strict";

  function readConfig(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function baseMap(el, config, options) {
    var map = L.map(el, Object.assign({ attributionControl: Boolean(config.tileUrl) }, options));
    if (config.tileUrl) L.tileLayer(config.tileUrl, { maxZoom: 19 }).addTo(map);
    return map;
  }

  function pin(latlng) {
    return L.circleMarker(latlng, {
      radius: 9,
      color: "#fff",
      weight: 3,
      fillColor: "#c8102e",
      fillOpacity: 1,
    });
  }

  function initCaseMap(root) {
    var el = root.querySelector("#case-map");
    if (!el || el.dataset.ready) return;
    var config = readConfig("case-map-config");
    if (!config || config.lat === null || config.lng === null) return;
    el.dataset.ready = "true";
    var map = baseMap(el, config, { zoomControl: false, dragging: true, scrollWheelZoom: false });
    var at = [config.lat, config.lng];
    map.setView(at, 17);
    L.circle(at, { radius: 40, color: "#24528f", weight: 1, fillOpacity: 0.08 }).addTo(map);
    pin(at).addTo(map);
  }

  function initReportMap() {
    var el = document.getElementById("report-map");
    if (!el) return;
    var config = readConfig("report-map-config");
    var latInput = document.getElementById("id_lat");
    var lngInput = document.getElementById("id_lng");
    var picked = document.getElementById("picked");
    var map = baseMap(el, config, { zoomControl: true, scrollWheelZoom: false });
    window.yiwangReportMap = map;
    if (config.outline) {
      L.geoJSON(config.outline, {
        interactive: false,
        style: { color: "#24528f", weight: 2, fillOpacity: 0.04 },
      }).addTo(map);
    }
    if (config.bounds) map.fitBounds(config.bounds, { padding: [8, 8] });
    else map.setView([36.08, 120.36], 13);
    var marker = null;

    function place(lat, lng, announce) {
      if (marker) marker.setLatLng([lat, lng]);
      else marker = pin([lat, lng]).addTo(map);
      picked.textContent = config.strings.picked + ": " + lat.toFixed(5) + ", " + lng.toFixed(5);
      el.dataset.picked = "true";
      if (announce) {
        latInput.value = lat.toFixed(6);
        lngInput.value = lng.toFixed(6);
        latInput.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    // A form sent back with errors keeps the point that was chosen.
    if (latInput.value && lngInput.value) {
      place(parseFloat(latInput.value), parseFloat(lngInput.value), false);
    }
    map.on("click", function (e) {
      place(e.latlng.lat, e.latlng.lng, true);
    });
    el.dataset.loaded = "true";
  }

  // Choosing a reply template fills the reply box (still editable).
  document.addEventListener("change", function (e) {
    var select = e.target;
    if (!select.matches || !select.matches("select[data-templates]")) return;
    var texts = JSON.parse(select.getAttribute("data-templates") || "{}");
    var form = select.form;
    var reply = form && form.querySelector("textarea[name$='reply']");
    if (reply && texts[select.value]) reply.value = texts[select.value];
  });

  document.addEventListener("DOMContentLoaded", function () {
    initCaseMap(document);
    initReportMap();
  });
  // After htmx swaps the case in, draw its map again.
  document.addEventListener("htmx:afterSettle", function () {
    initCaseMap(document);
  });
})();
