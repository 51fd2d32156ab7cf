// The content centre's small behaviours (no inline handlers: the CSP refuses them).
//   <button data-copy-text="…" data-copied-label="…">  puts the text on the clipboard; htmx
//                                                       posts the count on the same click
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-text]");
    if (!button) {
      return;
    }
    const text = button.dataset.copyText;
    const done = function () {
      const label = button.textContent;
      button.textContent = button.dataset.copiedLabel || label;
      window.setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      // Plain http on a LAN has no Clipboard API: select the text in a hidden field instead.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "position-absolute opacity-0";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
      area.remove();
    }
  });
})();
