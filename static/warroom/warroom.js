/* Warroom's small client: clocks, local times, countdowns, live-sequence tracking,
 * copy buttons and filters. Everything else is htmx. */
(function () {
  "use strict";

  const pad = (n) => String(n).padStart(2, "0");
  // Server time minus browser time, so clocks agree with the server's T-offsets.
  let skew = 0;

  function toffset(ms) {
    const sign = ms < 0 ? "-" : "+";
    let s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    s = s % 60;
    if (h === 0 && m === 0 && s === 0) return "T0";
    return sign === "-" ? `T-${pad(h)}:${pad(m)}:${pad(s)}` : `T+${h}:${pad(m)}:${pad(s)}`;
  }

  // A war room runs on a 24-hour clock, in the viewer's own zone, with the zone named.
  const HM = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  function zoneName(d) {
    const part = new Intl.DateTimeFormat([], { timeZoneName: "short" })
      .formatToParts(d).find((p) => p.type === "timeZoneName");
    return part ? part.value : "";
  }
  function localTimes(root) {
    if (!root || !root.querySelectorAll) return;
    const els = root.matches && root.matches("time[data-local]") ? [root] : [];
    root.querySelectorAll("time[data-local]").forEach((el) => els.push(el));
    els.forEach((el) => {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      const time = d.toLocaleTimeString([], HM);
      el.textContent = el.dataset.local === "full"
        ? d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" }) + " " + time + " " + zoneName(d)
        : time;
      el.title = d.toLocaleString([], { dateStyle: "full", timeStyle: "long" }) + " · " + d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    });
  }

  function countdownText(ms, style) {
    // A decision clock that ran out counts up, and stays loud, until someone decides.
    if (ms <= 0 && style === "mmss") {
      const over = Math.floor(-ms / 1000);
      return `overdue ${Math.floor(over / 60)}:${pad(over % 60)}`;
    }
    if (ms <= 0) return "now";
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    s = s % 60;
    if (style === "mmss") return `${m + h * 60}:${pad(s)}`;
    if (d > 0) return `${d}d ${h}h ${pad(m)}m`;
    return h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
  }

  function tick() {
    const now = Date.now() + skew;
    document.querySelectorAll("[data-clock]").forEach((el) => {
      const t0 = Date.parse(el.dataset.t0);
      const local = el.querySelector(".local");
      const off = el.querySelector(".toffset");
      if (local) {
        const d = new Date(now);
        local.textContent = d.toLocaleTimeString([], { ...HM, second: "2-digit" }) + " " + zoneName(d);
      }
      if (off) off.textContent = toffset(now - t0);
    });
    document.querySelectorAll("[data-countdown]").forEach((el) => {
      const ms = Date.parse(el.dataset.countdown) - now;
      el.textContent = countdownText(ms, el.dataset.countdownStyle);
      el.classList.toggle("overdue", ms <= 0);
    });
    document.querySelectorAll("[data-toffset]").forEach((el) => {
      el.textContent = toffset(now - Date.parse(el.dataset.toffset));
    });
  }

  // --- live updates: sequence numbers, gaps, reconnects, the clock --------------------
  // What the page shows is decided by the server alone. Each live message carries its
  // sequence number and the next moment the clock alone changes the page (a phase
  // starts, a checklist falls due); the page re-reads its state then.
  let lastSeq = 0;
  let refreshTimer = null;
  function sync() {
    const url = document.body.dataset.sync;
    if (url && window.htmx) htmx.ajax("GET", url, { target: "body", swap: "none" });
  }
  function scheduleRefresh(marker) {
    const at = marker && Date.parse(marker.dataset.refreshAt || "");
    clearTimeout(refreshTimer);
    if (!at) return;
    // A second late, spread over a few seconds: a room full of screens must not all ask at once.
    const wait = Math.max(0, at - (Date.now() + skew)) + 1000 + Math.random() * 4000;
    refreshTimer = setTimeout(sync, Math.min(wait, 2147483647));
  }
  function liveMarker(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html || "";
    return tpl.content.getElementById("live-seq");
  }
  document.addEventListener("htmx:wsBeforeMessage", (evt) => {
    const marker = liveMarker(evt.detail.message);
    if (!marker) return; // presence and other unsequenced messages
    const seq = parseInt(marker.dataset.seq, 10);
    if ("full" in marker.dataset) { lastSeq = Math.max(lastSeq, seq); scheduleRefresh(marker); return; }
    if (seq <= lastSeq) { evt.preventDefault(); return; }
    if (seq > lastSeq + 1 && lastSeq > 0) { lastSeq = seq; sync(); evt.preventDefault(); return; }
    lastSeq = seq;
    scheduleRefresh(marker);
  });
  // A state sync over HTTP (after a gap, or when the clock changed the page) carries a marker too.
  document.addEventListener("htmx:afterRequest", (evt) => {
    const xhr = evt.detail.xhr;
    const marker = xhr && evt.detail.successful && liveMarker(xhr.responseText);
    if (marker) scheduleRefresh(marker);
  });
  document.addEventListener("htmx:wsOpen", () => document.body.classList.add("live"));
  document.addEventListener("htmx:wsClose", () => document.body.classList.remove("live"));
  // Whatever is swapped in (a response, an out-of-band fragment from the websocket) gets
  // local times and the filters. (htmx's oobAfterSwap detail.target is the element that
  // was replaced, already detached — so watch the DOM instead.)
  let refreshQueued = false;
  new MutationObserver((records) => {
    let added = false;
    records.forEach((r) => r.addedNodes.forEach((n) => {
      if (n.nodeType === 1) { added = true; localTimes(n); }
    }));
    if (added && !refreshQueued) {
      refreshQueued = true;
      queueMicrotask(() => { refreshQueued = false; applyFilters(); tick(); attention(); });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  // A live update must not wipe what someone is typing: when a panel holding a form is
  // replaced out of band (e.g. a sign-off arrives while the VP writes the rationale),
  // carry the typed values and the focus over to the new copy.
  document.addEventListener("htmx:oobBeforeSwap", (evt) => {
    const old = evt.detail.target;
    const fresh = evt.detail.fragment;
    if (!old || !fresh || !old.querySelectorAll) return;
    old.querySelectorAll("form textarea[name], form input[name]:not([type=hidden]), form input[data-local-datetime]").forEach((field) => {
      if (field.value === field.defaultValue) return;
      const form = field.form;
      const formSel = form && form.className ? "form." + form.className.trim().split(/\s+/).join(".") : "form";
      const key = field.name ? `[name="${field.name}"]` : `[data-local-datetime="${field.dataset.localDatetime}"]`;
      const twin = fresh.querySelector(`${formSel} ${field.tagName.toLowerCase()}${key}`);
      if (twin && twin.value === twin.defaultValue) {
        twin.value = field.value;
        if (document.activeElement === field) twin.dataset.refocus = "1";
      }
    });
    const details = old.querySelectorAll("details[open]");
    details.forEach((d) => {
      const twin = d.className && fresh.querySelector("details." + d.className.trim().split(/\s+/).join("."));
      if (twin) twin.open = true;
    });
  });
  document.addEventListener("htmx:oobAfterSwap", (evt) => {
    const el = evt.target && evt.target.querySelector && evt.target.querySelector("[data-refocus]");
    if (el) { delete el.dataset.refocus; el.focus(); }
  });

  // --- errors say why ------------------------------------------------------------------
  function toast(text, kind) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.className = "show " + (kind || "");
    clearTimeout(el._t);
    el._t = setTimeout(() => (el.className = ""), 6000);
  }
  document.addEventListener("htmx:responseError", (evt) => {
    toast(evt.detail.xhr.responseText || `Error ${evt.detail.xhr.status}`, "error");
  });
  document.addEventListener("htmx:sendError", () => toast("Network error — not saved. Try again.", "error"));

  // --- filters and copy buttons ------------------------------------------------------------
  function applyFilters() {
    const mine = document.getElementById("mine-only");
    const open = document.getElementById("open-only");
    if (!mine && !open) return;
    const roles = (document.body.dataset.myRoles || "").split(" ").filter(Boolean);
    const person = document.body.dataset.myPerson || "";
    document.querySelectorAll(".item").forEach((li) => {
      let show = true;
      if (mine && mine.checked) show = roles.includes(li.dataset.owner) || (person && li.dataset.assignee === person);
      if (show && open && open.checked) show = !(li.classList.contains("status-done") || li.classList.contains("status-na"));
      li.hidden = !show;
    });
    document.querySelectorAll(".checklist").forEach((c) => {
      c.hidden = c.querySelectorAll(".item:not([hidden])").length === 0 && c.querySelectorAll(".item").length > 0;
    });
  }
  document.addEventListener("change", (evt) => {
    if (evt.target.matches("[data-filter-mine], [data-filter-open]")) applyFilters();
  });
  document.addEventListener("click", (evt) => {
    const btn = evt.target.closest("[data-copy]");
    if (!btn) return;
    const code = btn.parentElement.querySelector("code");
    if (code && navigator.clipboard) {
      navigator.clipboard.writeText(code.textContent).then(() => toast("Copied to the clipboard"));
    } else if (code) {
      const range = document.createRange(); range.selectNodeContents(code);
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      toast("Selected — press Ctrl+C to copy");
    }
  });

  // Date-time pickers show the user's own zone; the server gets UTC. Plain forms fill a
  // hidden field on submit; htmx forms (which gather values first) are fixed up here.
  function localToIso(input) {
    return input && input.value ? new Date(input.value).toISOString() : "";
  }
  document.addEventListener("submit", (evt) => {
    const form = evt.target;
    form.querySelectorAll("input[data-local-datetime]").forEach((local) => {
      const hidden = form.querySelector(`input[name="${local.dataset.localDatetime}"]`);
      if (hidden && local.value) hidden.value = localToIso(local);
    });
  });
  document.addEventListener("htmx:configRequest", (evt) => {
    const form = evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("form");
    if (!form) return;
    form.querySelectorAll("input[data-local-datetime]").forEach((local) => {
      evt.detail.parameters.set
        ? evt.detail.parameters.set(local.dataset.localDatetime, localToIso(local))
        : (evt.detail.parameters[local.dataset.localDatetime] = localToIso(local));
    });
  });

  // --- what needs someone's attention: alerts in the tab title, nudges to their person -----
  let baseTitle = document.title;
  let loadedSeq = 0;
  const seenNudges = new Set();
  function attention() {
    const alerts = document.getElementById("alerts");
    const count = alerts ? parseInt(alerts.dataset.alertCount || "0", 10) : 0;
    const mine = document.getElementById("my-next");
    const due = mine ? parseInt(mine.dataset.dueCount || "0", 10) : 0;
    document.title = (count ? "⚠ " : "") + (due ? `(${due} due) ` : "") + baseTitle;
    const me = document.body.dataset.myPerson;
    if (!me) return;
    document.querySelectorAll(".event[data-nudge-to]").forEach((el) => {
      const seq = parseInt(el.dataset.seq, 10);
      if (seq <= loadedSeq || seenNudges.has(seq)) return;
      seenNudges.add(seq);
      if (!el.dataset.nudgeTo.split(" ").includes(me)) return;
      const text = el.querySelector(".what") ? el.querySelector(".what").textContent : "You were nudged";
      toast(text, "nudge");
      if (window.Notification && Notification.permission === "granted") new Notification("Warroom", { body: text });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    baseTitle = document.title;
    lastSeq = parseInt(document.body.dataset.seq || "0", 10);
    loadedSeq = lastSeq;
    scheduleRefresh(document.getElementById("live-seq"));
    const serverNow = document.querySelector("meta[name=server-now]");
    if (serverNow) skew = Date.parse(serverNow.content) - Date.now();
    localTimes(document);
    applyFilters();
    tick();
    attention();
    setInterval(tick, 1000);
  });
})();
