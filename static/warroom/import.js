// The import page: a go-live time already chosen (typed before "Preview", or stated in the
// runbook) comes back from the server in UTC; show it again in the user's own zone so the
// preview keeps every field and "Create release" is not refused for an empty T0.
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
