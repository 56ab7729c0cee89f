// Bulk invite progress: poll the run's JSON status and update the bar and counts in place.
// Without JavaScript the page refreshes itself (a <noscript> meta refresh) instead.
(function () {
  "use strict";

  function start(box) {
    var url = box.getAttribute("data-status-url");
    var bar = box.querySelector("progress");

    function field(name) {
      return box.querySelector('[data-field="' + name + '"]');
    }

    function setText(name, value) {
      var el = field(name);
      if (el) { el.textContent = value; }
    }

    function render(status) {
      bar.value = status.percent;
      bar.textContent = status.percent + "%";
      setText("percent_text", status.percent + "%");
      ["state_label", "stop_reason", "total", "invited", "skipped", "failed"].forEach(function (k) {
        setText(k, status[k]);
      });
      var list = field("skipped_by_reason");
      if (list) {
        list.textContent = "";
        var reasons = status.skipped_by_reason.length ? status.skipped_by_reason : [null];
        reasons.forEach(function (s) {
          var li = document.createElement("li");
          li.textContent = s ? s.label + ": " + s.count : (box.getAttribute("data-none-text") || "None");
          list.appendChild(li);
        });
      }
      if (!status.active) {
        var cancel = field("cancel_form");
        if (cancel) { cancel.remove(); }
        box.setAttribute("data-active", "0");
      }
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (status) {
          render(status);
          if (status.active) { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }

    if (box.getAttribute("data-active") === "1") { window.setTimeout(poll, 500); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".bulk-run[data-status-url]").forEach(start);
  });
})();
