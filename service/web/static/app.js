// Progressive enhancement only: every page works without this file.
// Times are rendered in UTC by the server; here they are shown in the reader's time zone,
// with the UTC time kept in the title (shown on hover).
(function () {
  "use strict";
  function localise(root) {
    var lang = document.documentElement.lang || "en";
    var format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) { el.textContent = format.format(when); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localise(document); });
  document.addEventListener("htmx:afterSettle", function (event) { localise(event.target); });
  // The language selector submits itself when changed (the button stays for keyboard users).
  document.addEventListener("change", function (event) {
    if (event.target.id === "lang-select") { event.target.form.submit(); }
  });
})();
