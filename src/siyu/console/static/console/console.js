// The console's small behaviours, bound by data attributes instead of inline event handlers
// (onclick=, onsubmit=, onchange=), which the Content-Security-Policy refuses to run.
//   <select data-autosubmit>            submits its form when changed
//   <form data-confirm="Question?">     asks before submitting
//   <option data-confirm="Question?">   asks before submitting a form where that option is chosen,
//                                       and marks the form's `confirmed` input once answered yes
//   <button data-nav-toggle="id">       shows or hides the element `id` (the sidebar at phone width)
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
    const form = event.target.closest("form");
    if (!form) {
      return;
    }
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    for (const option of form.querySelectorAll("option[data-confirm]")) {
      if (!option.selected) {
        continue;
      }
      if (!window.confirm(option.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      const confirmed = form.querySelector("input[name=confirmed]");
      if (confirmed) {
        confirmed.value = "1";
      }
    }
  });
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      const menu = document.getElementById(toggle.dataset.navToggle);
      const open = menu.classList.toggle("show");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    const all = event.target.closest("input[type=checkbox][data-check-all]");
    if (all) {
      document.querySelectorAll("input[type=checkbox][name='" + CSS.escape(all.dataset.checkAll) + "']").forEach(function (box) {
        box.checked = all.checked;
      });
    }
  });
})();
