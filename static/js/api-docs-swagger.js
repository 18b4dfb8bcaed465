/* Starts Swagger UI on /api/docs/ from a static file (the Content-Security-Policy refuses inline scripts). The
   #swagger-ui element carries what the server knows: the schema's URL, Swagger UI's settings, and the CSRF
   header and token that "Try it out" sends with the session on anything but a GET. */
"use strict";

(() => {
  const root = document.getElementById("swagger-ui");
  const { schemaUrl, settings, csrfHeader, csrfToken } = root.dataset;
  window.ui = SwaggerUIBundle({
    url: schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // the badge would load an image from validator.swagger.io: offline, and refused by the CSP
    requestInterceptor: (request) => {
      if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
        request.headers[csrfHeader] = csrfToken;
      }
      return request;
    },
    ...JSON.parse(settings || "{}"),
  });
})();
