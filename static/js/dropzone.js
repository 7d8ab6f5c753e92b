/* The signed-contract drop zone: shows the chosen file's name and highlights while a file is
   dragged over it. The file input underneath does the work, so the form works without this. */
(function () {
  "use strict";
  var zones = document.querySelectorAll("[data-dropzone]");
  Array.prototype.forEach.call(zones, function (zone) {
    var input = zone.querySelector("input[type=file]");
    var name = zone.querySelector("[data-dropzone-name]");
    if (!input || !name) {
      return;
    }
    input.addEventListener("change", function () {
      name.textContent = input.files && input.files.length ? input.files[0].name : "";
      zone.classList.toggle("is-chosen", Boolean(name.textContent));
    });
    ["dragenter", "dragover"].forEach(function (type) {
      input.addEventListener(type, function () {
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      input.addEventListener(type, function () {
        zone.classList.remove("is-over");
      });
    });
  });
})();
