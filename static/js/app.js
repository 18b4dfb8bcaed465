/* Behaviour the pages share. It lives here, never in the markup: the Content-Security-Policy refuses inline
   scripts and on*= handlers, so elements ask for behaviour with data- attributes and this file listens once,
   on the document, for elements present now or swapped in by htmx later. */
"use strict";

// <form data-confirm="Delete this activity?">: asked before the form is sent; "Cancel" sends nothing.
// Listening in the capture phase runs before any listener on the form itself (htmx's), so a refusal stops both.
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.confirm === undefined) {
      return;
    }
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);
