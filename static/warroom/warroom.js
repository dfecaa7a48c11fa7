/* Warroom's small client: clocks, local times, countdowns, live-sequence tracking,
 * focus that survives swaps, announcements, copy buttons, filters, the current phase
 * and the board's fitting text. Everything else is htmx; what is due, whose it is and
 * what the page shows are decided by the server. */
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
  // The server says when its live feed is cut off (Redis away) and when it is back: the
  // page shows "reconnecting…" meanwhile, though the socket itself stays open.
  document.addEventListener("htmx:wsBeforeMessage", (evt) => {
    const tpl = document.createElement("template");
    tpl.innerHTML = evt.detail.message || "";
    const state = tpl.content.getElementById("live-state");
    if (!state) return;
    document.body.classList.toggle("live", state.dataset.live === "1");
    evt.preventDefault();
  });
  document.addEventListener("htmx:wsBeforeMessage", (evt) => {
    const marker = liveMarker(evt.detail.message);
    if (!marker) return; // presence and other unsequenced messages
    const seq = parseInt(marker.dataset.seq, 10);
    if ("full" in marker.dataset) { lastSeq = Math.max(lastSeq, seq); scheduleRefresh(marker); changed(); return; }
    if (seq <= lastSeq) { evt.preventDefault(); return; }
    if (seq > lastSeq + 1 && lastSeq > 0) { lastSeq = seq; sync(); evt.preventDefault(); return; }
    lastSeq = seq;
    scheduleRefresh(marker);
    // The viewer's own fragments ("my next items") refresh after item changes (htmx
    // debounces the burst: hx-trigger="warroom:changed from:body delay:…").
    if (evt.detail.message.indexOf('id="item-') !== -1) changed();
  });
  function changed() {
    setTimeout(() => document.body.dispatchEvent(new CustomEvent("warroom:changed")), 0);
  }
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
      queueMicrotask(() => { refreshQueued = false; applyFilters(); markCurrentPhase(); tick(); fitBoard(); attention(); });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  // A live update must not wipe what someone is typing: when a panel holding a form is
  // replaced out of band (e.g. a sign-off arrives while the VP writes the rationale),
  // carry the typed values, open disclosures and the focus over to the new copy.
  function twinOf(el, fresh) {
    if (el.id) return fresh.querySelector("#" + CSS.escape(el.id)) || (fresh.id === el.id ? fresh : null);
    const form = el.form;
    const formSel = form && form.className ? "form." + form.className.trim().split(/\s+/).map(CSS.escape).join(".") : "form";
    const key = el.name ? `[name="${el.name}"]` : `[data-local-datetime="${el.dataset.localDatetime}"]`;
    return fresh.querySelector(`${formSel} ${el.tagName.toLowerCase()}${key}`);
  }
  document.addEventListener("htmx:oobBeforeSwap", (evt) => {
    const old = evt.detail.target;
    const fresh = evt.detail.fragment;
    if (!old || !fresh || !old.querySelectorAll) return;
    rememberFocus(old);
    old.querySelectorAll("form textarea[name], form input[name]:not([type=hidden]):not([type=checkbox]), form input[data-local-datetime]").forEach((field) => {
      if (field.value === field.defaultValue) return;
      const twin = twinOf(field, fresh);
      if (twin && twin.value === twin.defaultValue) twin.value = field.value;
    });
    old.querySelectorAll("details[open]").forEach((d) => {
      const twin = d.id ? twinOf(d, fresh) : d.className && fresh.querySelector("details." + d.className.trim().split(/\s+/).map(CSS.escape).join("."));
      if (twin) twin.open = true;
    });
  });
  document.addEventListener("htmx:oobAfterSwap", () => setTimeout(restoreFocus, 0));

  // --- focus survives swaps --------------------------------------------------------------
  // htmx refocuses an element whose id is in the new content; when it is gone (the item
  // left "my next items", the block form closed), focus goes to the control at the same
  // place in the region that was swapped, so a keyboard user never lands on <body>.
  const FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), textarea:not([disabled]), select:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";
  let pendingFocus = null;
  // checkVisibility also sees inside a closed <details> (laid out, but hidden).
  function shown(el) {
    return el.checkVisibility ? el.checkVisibility({ visibilityProperty: true }) : !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }
  function kindOf(el) { return el.tagName + (el.type ? "[type=" + el.type + "]" : ""); }
  function controls(region, kind) {
    return Array.from(region.querySelectorAll(FOCUSABLE)).filter((el) => shown(el) && (!kind || kindOf(el) === kind));
  }
  function rememberFocus(region) {
    const active = document.activeElement;
    if (!region || !active || active === document.body || !region.contains(active)) return;
    const kind = kindOf(active);
    pendingFocus = {
      id: active.id, region: region.id, kind: kind,
      index: Math.max(0, controls(region).indexOf(active)),
      kindIndex: Math.max(0, controls(region, kind).indexOf(active)),
    };
  }
  function restoreFocus() {
    const p = pendingFocus;
    pendingFocus = null;
    const active = document.activeElement;
    if (!p || (active && active !== document.body && document.contains(active))) return;
    // The same control, else the same kind of control at the same place (the next box to
    // tick), else the control at the same place, else the region itself.
    const candidates = [p.id && document.getElementById(p.id)];
    const region = p.region && document.getElementById(p.region);
    if (region) {
      const same = controls(region, p.kind);
      const all = controls(region);
      candidates.push(same[Math.min(p.kindIndex, same.length - 1)], all[Math.min(p.index, all.length - 1)], ...all);
      candidates.push(region);
    }
    for (const el of candidates) {
      if (!el || !document.contains(el) || !shown(el)) continue;
      if (el === region && !el.hasAttribute("tabindex")) el.tabIndex = -1;
      el.focus();
      if (document.activeElement === el) return;
    }
  }
  document.addEventListener("htmx:beforeSwap", (evt) => rememberFocus(evt.detail.target));
  document.addEventListener("htmx:afterSettle", () => setTimeout(restoreFocus, 0));

  // An inline form opens with its field focused; Escape closes it and returns to it.
  document.addEventListener("toggle", (evt) => {
    const d = evt.target;
    if (!(d instanceof HTMLDetailsElement) || !d.open || !d.matches(".item-form, .share-board, .raise-rollback")) return;
    const field = d.querySelector("input:not([type=hidden]), textarea");
    if (field) field.focus();
  }, true);
  document.addEventListener("keydown", (evt) => {
    if (evt.key !== "Escape") return;
    const d = evt.target.closest && evt.target.closest("details[open].item-form, details[open].share-board");
    if (!d) return;
    d.open = false;
    d.querySelector("summary").focus();
  });

  // --- announcements: what changed, for screen readers and as a toast ---------------------
  document.addEventListener("warroom:announce", (evt) => toast(evt.detail.value));

  // --- errors say why ------------------------------------------------------------------
  function toast(text, kind) {
    const el = document.getElementById("toast");
    if (!el || !text) return;
    el.textContent = "";
    requestAnimationFrame(() => { el.textContent = text; });
    el.className = "show " + (kind || "");
    clearTimeout(el._t);
    el._t = setTimeout(() => (el.className = ""), 6000);
  }
  document.addEventListener("htmx:responseError", (evt) => {
    toast(evt.detail.xhr.responseText || `Error ${evt.detail.xhr.status}`, "error");
  });
  document.addEventListener("htmx:sendError", () => toast("Network error — not saved. Try again.", "error"));

  // --- filters, remembered per release; "my items" on by default on a phone -------------
  const PHONE = window.matchMedia("(max-width: 700px)");
  function filterKey() { return "warroom:filters:" + (document.body.dataset.release || ""); }
  function loadFilters() {
    const mine = document.getElementById("mine-only");
    const open = document.getElementById("open-only");
    if (!mine || !open) return;
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(filterKey()) || "null"); } catch (e) { saved = null; }
    const canBeMine = (document.body.dataset.myRoles || document.body.dataset.myPerson || "").trim() !== "";
    mine.checked = saved ? !!saved.mine : PHONE.matches && canBeMine;
    open.checked = saved ? !!saved.open : false;
  }
  function saveFilters() {
    const mine = document.getElementById("mine-only");
    const open = document.getElementById("open-only");
    try { localStorage.setItem(filterKey(), JSON.stringify({ mine: mine.checked, open: open.checked })); } catch (e) { /* private mode */ }
  }
  function applyFilters() {
    const mine = document.getElementById("mine-only");
    const open = document.getElementById("open-only");
    if (!mine && !open) return;
    const roles = (document.body.dataset.myRoles || "").split(" ").filter(Boolean);
    const person = document.body.dataset.myPerson || "";
    document.querySelectorAll(".item").forEach((li) => {
      let show = true;
      if (mine && mine.checked) show = roles.includes(li.dataset.owner) || (person !== "" && li.dataset.assignee === person);
      if (show && open && open.checked) show = !(li.classList.contains("status-done") || li.classList.contains("status-na"));
      li.hidden = !show;
    });
    document.querySelectorAll(".checklist").forEach((c) => {
      c.hidden = c.querySelectorAll(".item:not([hidden])").length === 0 && c.querySelectorAll(".item").length > 0;
    });
    document.querySelectorAll(".phase-group").forEach((g) => {
      g.hidden = g.querySelectorAll(".checklist:not([hidden])").length === 0;
    });
  }
  document.addEventListener("change", (evt) => {
    if (evt.target.matches("[data-filter-mine], [data-filter-open]")) { saveFilters(); applyFilters(); }
  });

  // --- the current phase: marked from the live summary; in view on a desktop's first load --
  function markCurrentPhase() {
    const summary = document.getElementById("summary");
    if (!summary) return;
    const current = summary.dataset.currentPhase || "";
    document.querySelectorAll(".phase-group[data-phase]").forEach((g) => {
      g.classList.toggle("current", g.dataset.phase === current);
    });
  }
  function showCurrentPhase() {
    if (PHONE.matches || location.hash) return;
    const group = document.querySelector(".phase-group.current:not([hidden])");
    if (group) group.scrollIntoView({ block: "start" });
  }

  // --- copy buttons: a command's code, or the field a data-copy selector names -------------
  document.addEventListener("click", (evt) => {
    const btn = evt.target.closest("[data-copy]");
    if (!btn) return;
    const field = btn.dataset.copy ? document.querySelector(btn.dataset.copy) : null;
    const code = field || btn.parentElement.querySelector("code");
    if (!code) return;
    const text = field ? field.value : code.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => toast("Copied to the clipboard"), () => selectForCopy(code));
    } else {
      selectForCopy(code);
    }
  });
  function selectForCopy(el) {
    if (el.select) { el.focus(); el.select(); } else {
      const range = document.createRange(); range.selectNodeContents(el);
      const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
    }
    toast("Selected — press Ctrl+C (⌘C) to copy");
  }

  // --- the board: every tile's text shrinks until it fits its tile (one 16:9 screen) ------
  // Each tile's contents are sized in em of the tile's font size; CSSOM changes are not
  // inline styles in the markup, so the Content-Security-Policy allows them.
  function overflows(el) { return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1; }
  function fitBoard() {
    const grid = document.querySelector(".board-grid");
    if (!grid) return;
    const wall = !PHONE.matches;
    grid.querySelectorAll(".tile").forEach((tile) => {
      if (tile.classList.contains("events-tile")) {
        const lines = Array.from(tile.querySelectorAll(".event"));
        lines.forEach((li) => { li.hidden = false; });
        if (!wall) return;
        for (let i = lines.length - 1; i > 0 && overflows(tile); i--) lines[i].hidden = true;
        return;
      }
      tile.style.fontSize = "";
      if (!wall) return;
      let size = parseFloat(getComputedStyle(tile).fontSize);
      for (let n = 0; n < 40 && overflows(tile) && size > 8; n++) {
        size *= 0.92;
        tile.style.fontSize = size.toFixed(1) + "px";
      }
    });
  }
  let fitTimer = null;
  window.addEventListener("resize", () => { clearTimeout(fitTimer); fitTimer = setTimeout(fitBoard, 100); });

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
  let lastDue = null;
  let lastDecisions = null;
  function notify(text) {
    if (window.Notification && Notification.permission === "granted") new Notification("Warroom", { body: text });
  }
  function attention() {
    const alerts = document.getElementById("alerts");
    const count = alerts ? parseInt(alerts.dataset.alertCount || "0", 10) : 0;
    const mine = document.getElementById("my-next");
    const due = mine ? parseInt(mine.dataset.dueCount || "0", 10) : 0;
    const decisions = mine ? parseInt(mine.dataset.decisions || "0", 10) : 0;
    document.title = (count ? "⚠ " : "") + (due ? `(${due} due) ` : "") + baseTitle;
    // Opt-in browser notifications: when an item of mine falls due or a decision needs me.
    if (lastDue !== null && due > lastDue) notify(`${due} of your items ${due > 1 ? "are" : "is"} due`);
    if (lastDecisions !== null && decisions > lastDecisions) notify("Your decision is needed");
    if (mine) { lastDue = due; lastDecisions = decisions; }
    const ask = document.querySelector("[data-notify-me]");
    if (ask) ask.hidden = !(window.Notification && Notification.permission === "default");
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

  document.addEventListener("click", (evt) => {
    if (!evt.target.closest("[data-notify-me]") || !window.Notification) return;
    Notification.requestPermission().then(() => attention());
  });

  document.addEventListener("DOMContentLoaded", () => {
    baseTitle = document.title;
    lastSeq = parseInt(document.body.dataset.seq || "0", 10);
    loadedSeq = lastSeq;
    scheduleRefresh(document.getElementById("live-seq"));
    const serverNow = document.querySelector("meta[name=server-now]");
    if (serverNow) skew = Date.parse(serverNow.content) - Date.now();
    localTimes(document);
    loadFilters();
    applyFilters();
    markCurrentPhase();
    tick();
    fitBoard();
    showCurrentPhase();
    attention();
    setInterval(tick, 1000);
  });
})();
