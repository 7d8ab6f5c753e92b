/* An open order page follows the ERP: every few seconds it asks the order's version
   (/pedidos/<n>/versao/) and, once the ERP has changed the order, shows the reload offer.
   No framework; nothing happens without JavaScript (the approval still refuses a stale
   version on the server). */
(function () {
  "use strict";
  var box = document.getElementById("acompanhar");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-url");
  var seen = box.getAttribute("data-version");
  var every = 4000;
  var timer = null;

  function changed() {
    box.hidden = false;
    document.body.classList.add("is-stale");
    stop();
  }

  function check() {
    if (document.hidden) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) {
          changed(); /* the ERP removed the order: reloading says so */
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && String(data.versao) !== seen) {
          changed();
        }
      })
      .catch(function () {
        /* offline or the server restarting: the next tick tries again */
      });
  }

  function start() {
    if (timer === null) {
      timer = window.setInterval(check, every);
    }
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && box.hidden) {
      check();
    }
  });
  start();
})();
