// LLMux admin console: sends data-api forms and buttons to the admin API as JSON with the session's CSRF token,
// shows a new key once with a copy button, and keeps the Live page updated over server-sent events.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var flash = document.getElementById("flash");

  function say(message, kind) {
    if (!flash) return;
    flash.textContent = "";
    var p = document.createElement("p");
    p.className = kind === "error" ? "error" : "ok";
    if (kind === "error") p.setAttribute("role", "alert");
    p.textContent = message;
    flash.appendChild(p);
    flash.scrollIntoView({ block: "nearest" });
  }

  function showKey(key, what) {
    flash.textContent = "";
    var box = document.createElement("div");
    box.className = "new-key";
    box.setAttribute("role", "alert");
    var title = document.createElement("p");
    title.textContent = what + " Copy it now: this is the only time it is shown.";
    var code = document.createElement("code");
    code.id = "new-key-value";
    code.textContent = key;
    var copy = document.createElement("button");
    copy.type = "button";
    copy.textContent = "Copy key";
    copy.addEventListener("click", function () {
      var done = function () { copy.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(key).then(done, function () { selectText(code); });
      else { selectText(code); try { document.execCommand("copy"); done(); } catch (e) { /* selected for the user */ } }
    });
    var again = document.createElement("a");
    again.href = location.pathname;
    again.textContent = "Done";
    box.append(title, code, copy, again);
    flash.appendChild(box);
    copy.focus();
  }

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function setPath(obj, path, value) {
    var parts = path.split(".");
    var o = obj;
    for (var i = 0; i < parts.length - 1; i++) o = o[parts[i]] = o[parts[i]] || {};
    o[parts[parts.length - 1]] = value;
  }

  function formBody(form) {
    var body = {};
    var fields = form.querySelectorAll("input[name], select[name], textarea[name]");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      var raw = f.type === "checkbox" ? (f.checked ? "true" : "") : f.value.trim();
      if (raw === "") continue;
      var type = f.getAttribute("data-type");
      var value = raw;
      if (type === "number") value = Number(raw);
      else if (type === "list") value = raw.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
      else if (f.type === "checkbox") value = true;
      setPath(body, f.name, value);
    }
    return body;
  }

  function call(api, body, control) {
    if (control) control.setAttribute("aria-busy", "true");
    return fetch(api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-llmux-csrf": csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (!res.ok) {
          var msg = json && json.error ? (json.error.message || JSON.stringify(json.error)) : (text || res.statusText);
          if (res.status === 401) msg += " (sign in again)";
          throw new Error(msg);
        }
        return json || {};
      });
    }).finally(function () { if (control) control.removeAttribute("aria-busy"); });
  }

  function done(el, json) {
    var result = el.getAttribute("data-result");
    if (result === "key" && json.key) { showKey(json.key, el.tagName === "FORM" ? "Key created." : "Key regenerated."); return; }
    var next = el.getAttribute("data-next");
    if (next) location.assign(next); else location.reload();
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var api = form.getAttribute("data-api");
    if (!api) return;
    e.preventDefault();
    call(api, formBody(form), form.querySelector("[type=submit]")).then(function (json) { done(form, json); }, function (err) { say(err.message, "error"); });
  });

  document.addEventListener("click", function (e) {
    var btn = e.target.closest ? e.target.closest("button[data-api]") : null;
    if (!btn) return;
    var confirmText = btn.getAttribute("data-confirm");
    if (confirmText && !window.confirm(confirmText)) return;
    var body = {};
    try { body = JSON.parse(btn.getAttribute("data-body") || "{}"); } catch (err) { say("bad action", "error"); return; }
    call(btn.getAttribute("data-api"), body, btn).then(function (json) { done(btn, json); }, function (err) { say(err.message, "error"); });
  });

  var live = document.querySelector("[data-live]");
  if (live && window.EventSource) {
    var state = document.getElementById("live-state");
    var source = new EventSource(live.getAttribute("data-live"));
    var set = function (id, v) { var el = document.getElementById(id); if (el) el.textContent = v; };
    source.onopen = function () { if (state) state.textContent = "Live: updating every second."; };
    source.onmessage = function (ev) {
      var d = JSON.parse(ev.data);
      set("live-rps", d.rps); set("live-errors", d.errors_per_s); set("live-p50", d.p50_ms); set("live-p99", d.p99_ms); set("live-inflight", d.in_flight);
      var svg = document.getElementById("live-series");
      if (svg && d.series) {
        var max = Math.max.apply(null, d.series.concat([1]));
        var pts = d.series.map(function (v, i) { return (i * 600 / (d.series.length - 1)).toFixed(1) + "," + (118 - v * 112 / max).toFixed(1); });
        svg.querySelector("polyline").setAttribute("points", pts.join(" "));
      }
      live.setAttribute("data-updated", String(Date.now()));
    };
    source.addEventListener("ended", function () { source.close(); if (state) state.textContent = "The session ended: sign in again."; });
    source.onerror = function () { if (state) state.textContent = "Reconnecting…"; };
  }
})();
