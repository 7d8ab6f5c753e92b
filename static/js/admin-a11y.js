/* The admin's autocomplete boxes (select2) take the name of their field's label, so screen
   readers say what they choose. */
(function () {
  "use strict";
  function name() {
    document.querySelectorAll(".select2-selection[role=combobox]").forEach(function (box) {
      var rendered = box.querySelector(".select2-selection__rendered");
      var match = rendered && rendered.id.match(/^select2-(.+)-container$/);
      var label = match && document.querySelector('label[for="' + match[1] + '"]');
      if (label && !box.hasAttribute("aria-label")) {
        var text = label.textContent.replace(/:\s*$/, "").trim();
        box.setAttribute("aria-label", text);
        rendered.setAttribute("aria-label", text);
      }
    });
  }
  /* select2 builds its boxes when it likes (page ready, a new inline row): name them as they
     appear. */
  name();
  new MutationObserver(name).observe(document.documentElement, { childList: true, subtree: true });
})();
