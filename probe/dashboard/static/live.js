// Live updates for the supportprobe dashboard (see probe/dashboard/live.go).
// Every few seconds it asks /live for the store's version; when it moved since the
// page was rendered, or when the page's figures change by time alone
// (data-refresh-at), it fetches the page again and swaps the new <main> in. While
// the person is typing in a form of the page it offers a button instead, so a note
// being written is never lost. Without this script every page still works.
"use strict";
(function () {
  var POLL_MS = 5000;
  var status = document.getElementById("live");
  var busy = false;
  var offered = false;

  function main() { return document.getElementById("main"); }

  function say(text) { if (status) { status.textContent = text; } }

  function stamp() { return new Date().toISOString().slice(11, 19) + " UTC"; }

  // editing reports whether a form field of the page holds input the person gave.
  function editing() {
    var m = main();
    if (!m) { return false; }
    if (document.activeElement && m.contains(document.activeElement) &&
        /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) {
      return true;
    }
    var fields = m.querySelectorAll("form input, form textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden") { continue; }
      if ((f.type === "radio" || f.type === "checkbox") ? f.checked !== f.defaultChecked : f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function offer() {
    if (offered || !status) { return; }
    offered = true;
    status.textContent = "New data since this page was shown. ";
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = "Show it";
    b.addEventListener("click", function () { window.location.reload(); });
    status.appendChild(b);
  }

  function refresh() {
    if (editing()) { offer(); return Promise.resolve(); }
    return fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("the page answered HTTP " + resp.status); }
        return resp.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var old = main();
        if (!fresh || !old) { return; }
        if (editing()) { offer(); return; }
        old.replaceWith(document.importNode(fresh, true));
        document.title = doc.title;
        say("Updated at " + stamp() + ".");
      });
  }

  function due() {
    var m = main();
    if (!m) { return false; }
    var at = Date.parse(m.getAttribute("data-refresh-at") || "");
    return !isNaN(at) && Date.now() >= at;
  }

  function poll() {
    var m = main();
    // Pages without a version (an error page, the answer to a refused form) stay put.
    if (busy || !m || !m.getAttribute("data-version")) { return; }
    busy = true;
    fetch("/live", { cache: "no-store", credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("the dashboard answered HTTP " + resp.status); }
        return resp.json();
      })
      .then(function (live) {
        var m = main();
        if (m && (live.version !== m.getAttribute("data-version") || due())) {
          return refresh();
        }
      })
      .catch(function (err) {
        say("Live updates paused (" + err.message + "); retrying every " + POLL_MS / 1000 + " s.");
      })
      .then(function () { busy = false; });
  }

  window.setInterval(poll, POLL_MS);
})();
