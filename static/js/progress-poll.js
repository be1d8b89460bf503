/* Live progress of a background job. The element with data-poll-url names a small JSON status
   endpoint ({status, status_label, progress, finished, ...}); every two seconds this script
   fetches it and updates, inside that element:
     <progress>                          value = progress (indeterminate when progress is null)
     [data-poll-field="progress-text"]   "40 %"
     [data-poll-field="NAME"]            the text of field NAME (an array is joined by new lines)
   When the job has finished it reloads the page, which then shows the outcome. Without
   JavaScript the page refreshes itself (<noscript> meta refresh) and shows the same. */
(function () {
  "use strict";
  var INTERVAL_MS = 2000;

  function setText(root, name, value) {
    var targets = root.querySelectorAll('[data-poll-field="' + name + '"]');
    Array.prototype.forEach.call(targets, function (target) {
      target.textContent = Array.isArray(value) ? value.join("\n") : value;
    });
  }

  function update(root, data) {
    var bar = root.querySelector("progress");
    if (bar) {
      if (typeof data.progress === "number") {
        bar.value = data.progress;
        bar.textContent = data.progress + " %";
        setText(root, "progress-text", data.progress + " %");
      } else {
        bar.removeAttribute("value");
        setText(root, "progress-text", "");
      }
    }
    Object.keys(data).forEach(function (name) {
      if (typeof data[name] === "string" || Array.isArray(data[name])) {
        setText(root, name, data[name]);
      }
    });
    root.setAttribute("data-status", data.status || "");
  }

  function poll(root) {
    var url = root.getAttribute("data-poll-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        update(root, data);
        if (data.finished) {
          window.location.reload();
          return;
        }
        window.setTimeout(function () { poll(root); }, INTERVAL_MS);
      })
      .catch(function () {
        // A dropped request (server restart, network blip): try again a little later.
        window.setTimeout(function () { poll(root); }, INTERVAL_MS * 3);
      });
  }

  function init() {
    var roots = document.querySelectorAll("[data-poll-url]");
    Array.prototype.forEach.call(roots, function (root) {
      poll(root);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
