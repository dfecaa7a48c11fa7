// Forms whose times come back from the server in UTC — the import page's go-live time
// (typed before "Preview", or stated in the runbook), the contacts page's on-call shifts —
// show them in the user's own zone, so a form sent back keeps every field.
(function () {
  "use strict";
  function pad(n) { return String(n).padStart(2, "0"); }
  function isoToLocal(iso) {
    const d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form input[data-local-datetime]").forEach((local) => {
      const hidden = local.form && local.form.querySelector(`input[name="${local.dataset.localDatetime}"]`);
      if (hidden && hidden.value && !local.value) local.value = isoToLocal(hidden.value);
    });
  });
})();
