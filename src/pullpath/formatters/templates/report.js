/* pullpath report: sort and filter the tables, link the diagram to them. No network, no eval,
   no HTML parsing of data: rows are moved or hidden, text is only ever compared. */
(function () {
  "use strict";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }

  function setupSort(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    each(headers, function (th, index) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        each(headers, function (other) {
          if (other.hasAttribute("aria-sort")) { other.setAttribute("aria-sort", "none"); }
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "num";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index), r;
          if (numeric) {
            r = (parseFloat(x) || 0) - (parseFloat(y) || 0);
          } else {
            r = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
          }
          if (r === 0) {
            r = parseInt(a.getAttribute("data-index"), 10) - parseInt(b.getAttribute("data-index"), 10);
            return r;
          }
          return ascending ? r : -r;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function setupFilter(controls) {
    var table = document.getElementById(controls.getAttribute("data-table"));
    if (!table) { return null; }
    var body = table.tBodies[0];
    var output = controls.querySelector("[data-count]");
    var fields = controls.querySelectorAll("[data-filter]");

    function apply() {
      var want = {};
      each(fields, function (f) { want[f.getAttribute("data-filter")] = f.value; });
      var text = (want.text || "").trim().toLowerCase();
      var shown = 0;
      each(body.rows, function (row) {
        var ok = true;
        ["path", "consumer", "registry"].forEach(function (key) {
          if (want[key] && row.getAttribute("data-" + key) !== want[key]) { ok = false; }
        });
        if (ok && text && row.textContent.toLowerCase().indexOf(text) < 0) { ok = false; }
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (output) {
        output.textContent = "Showing " + shown + " of " + body.rows.length + " rows";
      }
      table.setAttribute("data-visible", String(shown));
    }

    each(fields, function (f) {
      f.addEventListener(f.tagName === "INPUT" ? "input" : "change", apply);
    });
    var reset = controls.querySelector("[data-reset]");
    if (reset) {
      reset.addEventListener("click", function () {
        each(fields, function (f) { f.value = ""; });
        apply();
        each(document.querySelectorAll(".pp-edge.pp-active"), function (e) {
          e.classList.remove("pp-active");
        });
      });
    }
    apply();
    return {
      set: function (values) {
        each(fields, function (f) {
          var key = f.getAttribute("data-filter");
          if (!Object.prototype.hasOwnProperty.call(values, key)) { f.value = ""; return; }
          var v = values[key];
          if (f.tagName === "SELECT") {
            var found = false;
            each(f.options, function (o) { if (o.value === v) { found = true; } });
            f.value = found ? v : "";
          } else {
            f.value = v;
          }
        });
        apply();
        table.scrollIntoView({ block: "start" });
      }
    };
  }

  function setupDiagram(filter) {
    if (!filter) { return; }
    each(document.querySelectorAll(".pp-edge"), function (edge) {
      function pick() {
        each(document.querySelectorAll(".pp-edge.pp-active"), function (e) {
          e.classList.remove("pp-active");
        });
        edge.classList.add("pp-active");
        var values = { path: edge.getAttribute("data-edge-path"),
                       registry: edge.getAttribute("data-registry") };
        var consumer = edge.getAttribute("data-consumer");
        if (consumer) { values.consumer = consumer; }
        filter.set(values);
      }
      edge.addEventListener("click", pick);
      edge.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(); }
      });
    });
    each(document.querySelectorAll(".pp-node[data-consumer]"), function (node) {
      node.addEventListener("click", function () {
        filter.set({ consumer: node.getAttribute("data-consumer") });
      });
    });
  }

  var opened = [];
  window.addEventListener("beforeprint", function () {
    each(document.querySelectorAll("details:not([open])"), function (d) {
      d.setAttribute("open", "");
      opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.removeAttribute("open"); });
    opened = [];
  });

  each(document.querySelectorAll("table.pp-sortable"), setupSort);
  var target = null;
  each(document.querySelectorAll(".pp-controls[data-table]"), function (c) {
    var f = setupFilter(c);
    if (f && (!target || c.getAttribute("data-diagram-target") === "true")) { target = f; }
  });
  setupDiagram(target);
  document.documentElement.setAttribute("data-ready", "true");
}());
