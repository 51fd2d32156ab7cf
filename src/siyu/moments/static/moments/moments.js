// 客户朋友圈 post form: a live count of the text as WeCom limits it (characters) and as it
// stores it (UTF-8 bytes). No inline handlers: the CSP refuses them.
(function () {
  "use strict";
  function bytes(text) {
    return new TextEncoder().encode(text).length;
  }
  function update(area, out) {
    const max = parseInt(out.dataset.max, 10);
    const chars = Array.from(area.value).length;
    out.querySelector("[data-chars]").textContent = chars;
    out.querySelector("[data-bytes]").textContent = bytes(area.value);
    out.classList.toggle("text-danger", chars > max);
    out.classList.toggle("text-secondary", chars <= max);
  }
  document.addEventListener("DOMContentLoaded", function () {
    const out = document.querySelector("[data-moment-counter]");
    const area = out && document.getElementById(out.dataset.for);
    if (!area) {
      return;
    }
    area.addEventListener("input", function () { update(area, out); });
    update(area, out);
  });
})();
