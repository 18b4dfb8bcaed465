/* Starts Redoc on /api/redoc/ from a static file (the Content-Security-Policy refuses inline scripts). Redoc
   writes its styles into the page as it renders: it gives them the nonce this script was loaded with, the one
   the page's policy lets through. */
"use strict";

(() => {
  const root = document.getElementById("redoc-container");
  const options = { ...JSON.parse(root.dataset.settings || "{}"), nonce: document.currentScript.nonce };
  Redoc.init(root.dataset.schemaUrl, options, root);
})();
