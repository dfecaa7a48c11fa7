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

  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach((el) => {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      el.textContent = el.dataset.local === "full"
        ? d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" }) + " " + time
        : time;
      el.title = d.toUTCString();
    });
  }

  function countdownText(ms, style) {
    if (ms <= 0) return style === "mmss" ? "0:00 — overdue" : "now";
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
      if (local) local.textContent = new Date(now).toLocaleTimeString([], { hour12: false });
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
    // Highlight the phase whose planned slot holds now (the server does the same on render).
    const clock = document.querySelector("[data-clock]");
    if (clock) {
      const off = (now - Date.parse(clock.dataset.t0)) / 1000;
      let best = null;
      document.querySelectorAll("#timeline .phase").forEach((li) => {
        li.classList.remove("now");
        const start = parseFloat(li.dataset.start);
        const end = parseFloat(li.dataset.end);
        if (!isNaN(start) && start <= off && (isNaN(end) || off < end)) {
          if (!best || start >= parseFloat(best.dataset.start)) best = li;
        }
      });
      if (best) best.classList.add("now");
    }
  }

  // --- live updates: sequence numbers, gaps, reconnects --------------------------------
  let lastSeq = 0;
  function sync() {
    const url = document.body.dataset.sync;
    if (url && window.htmx) htmx.ajax("GET", url, { target: "body", swap: "none" });
  }
  document.addEventListener("htmx:wsBeforeMessage", (evt) => {
    const m = /id="live-seq" data-seq="(\d+)"( data-full)?/.exec(evt.detail.message || "");
    if (!m) return; // presence and other unsequenced messages
    const seq = parseInt(m[1], 10);
    if (m[2]) { lastSeq = Math.max(lastSeq, seq); return; } // a full state sync always applies
    if (seq <= lastSeq) { evt.preventDefault(); return; }
    if (seq > lastSeq + 1 && lastSeq > 0) { lastSeq = seq; sync(); evt.preventDefault(); return; }
    lastSeq = seq;
  });
  document.addEventListener("htmx:wsOpen", () => document.body.classList.add("live"));
  document.addEventListener("htmx:wsClose", () => document.body.classList.remove("live"));
  document.addEventListener("htmx:oobAfterSwap", (evt) => { localTimes(evt.detail.target || document); applyFilters(); });
  document.addEventListener("htmx:afterSwap", (evt) => { localTimes(evt.detail.target || document); applyFilters(); });

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

  // Import form: send the go-live time the user picked in their own zone as UTC.
  document.addEventListener("submit", (evt) => {
    const form = evt.target;
    const local = form.querySelector("input[data-local-datetime]");
    if (!local || !local.value) return;
    const hidden = form.querySelector(`input[name="${local.dataset.localDatetime}"]`);
    if (hidden) hidden.value = new Date(local.value).toISOString();
  });

  document.addEventListener("DOMContentLoaded", () => {
    lastSeq = parseInt(document.body.dataset.seq || "0", 10);
    const serverNow = document.querySelector("meta[name=server-now]");
    if (serverNow) skew = Date.parse(serverNow.content) - Date.now();
    localTimes(document);
    applyFilters();
    tick();
    setInterval(tick, 1000);
  });
})();
