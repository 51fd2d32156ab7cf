// Searchable pickers (siyu.web.PickerMultiple, console/widgets/picker.html, and any
// <div data-picker> with a [data-picker-search] box and [data-picker-option] rows): typing hides
// the options whose text (and group name) does not contain what was typed. No inline handlers,
// so it runs under the console's Content-Security-Policy. Loaded once per picker; binds once.
(function () {
  "use strict";

  function normalise(text) {
    return (text || "").toLocaleLowerCase().replace(/\s+/g, " ").trim();
  }

  function filter(picker, query) {
    var shown = 0;
    picker.querySelectorAll("[data-picker-group]").forEach(function (group) {
      var nameNode = group.querySelector("[data-picker-group-name]");
      var groupName = normalise(nameNode ? nameNode.textContent : "");
      var groupShown = 0;
      group.querySelectorAll("[data-picker-option]").forEach(function (option) {
        var input = option.querySelector("input");
        var text = normalise(option.textContent) + " " + normalise(input ? input.value : "") + " " + groupName;
        var match = !query || text.indexOf(query) !== -1;
        option.hidden = !match;
        if (match) { groupShown += 1; }
      });
      group.hidden = groupShown === 0;
      shown += groupShown;
    });
    var empty = picker.querySelector("[data-picker-empty]");
    if (empty) { empty.hidden = shown > 0 || !query; }
  }

  function bind(picker) {
    if (picker.dataset.pickerBound) { return; }
    picker.dataset.pickerBound = "1";
    var search = picker.querySelector("[data-picker-search]");
    if (!search) { return; }
    search.addEventListener("input", function () { filter(picker, normalise(search.value)); });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // typing a search never submits the form
    });
  }

  function bindAll(root) {
    (root || document).querySelectorAll("[data-picker]").forEach(bind);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { bindAll(document); });
  } else {
    bindAll(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { bindAll(event.target); });
  window.siyuPickers = { bind: bindAll };
})();
