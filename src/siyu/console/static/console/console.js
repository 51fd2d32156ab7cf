// The console's small behaviours, bound by data attributes instead of inline event handlers
// (onclick=, onsubmit=, onchange=), which the Content-Security-Policy refuses to run.
//   <select data-autosubmit>            submits its form when changed
//   <form data-confirm="Question?">     asks before submitting
//   <input type=checkbox data-check-all="name">  checks or clears every checkbox named `name`
// Listeners sit on the document, so content htmx swaps in later behaves the same.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    const select = event.target.closest("[data-autosubmit]");
    if (select && select.form) {
      select.form.submit();
    }
  });
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    const all = event.target.closest("input[type=checkbox][data-check-all]");
    if (all) {
      document.querySelectorAll("input[type=checkbox][name='" + CSS.escape(all.dataset.checkAll) + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    }
  });
})();
