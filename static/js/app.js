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

// Keyboard use. A link styled as a button (<a role="button">) is pressed with Space as well as Enter, as a button is.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.key === " " && target instanceof HTMLAnchorElement && target.getAttribute("role") === "button") {
    event.preventDefault();
    target.click();
  }
});

// Escape closes what is open: a row's editor (a cost line's, a member's: a table row of class row-form, cancelled
// by its control that asks for the row again, hx-get), else the menu (<details class="dropdown">) the focus is in,
// giving the focus back to the menu's summary.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented || !(event.target instanceof Element)) {
    return;
  }
  const cancel = event.target.closest("tr.row-form")?.querySelector("form [hx-get]");
  if (cancel) {
    event.preventDefault();
    // An editor htmx has just swapped in may not be processed yet: its cancel link would then be followed as a
    // plain link (the whole page reloaded, the focus lost). Processing it again is harmless.
    window.htmx?.process(cancel);
    cancel.click();
    return;
  }
  const menu = event.target.closest("details.dropdown[open]");
  if (menu) {
    event.preventDefault();
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

// A menu closes when the focus leaves it for something else on the page (Tab past its last item).
document.addEventListener("focusout", (event) => {
  const menu = event.target instanceof Element ? event.target.closest("details.dropdown[open]") : null;
  if (menu && event.relatedTarget instanceof Node && !menu.contains(event.relatedTarget)) {
    menu.open = false;
  }
});

// What htmx swaps in place replaces the element that had the focus, which would leave the focus on the page's body.
// After the swap the focus goes where the person is going: into an editor that opened (its first field, or its
// first field in error), back to the row's Edit once its editor is saved or cancelled, else to the element of the
// new content that stands where the focused one stood (a column's sort link, "Next").
let focusBeforeSwap = null;

function focusable(container) {
  return (
    container.querySelector("[aria-invalid='true']") ??
    container.querySelector("input:not([type='hidden']):not([disabled]), select:not([disabled]), textarea, button, a[href]")
  );
}

// A write refused because the plan is endorsed (423) shows its reason where the person acted: just before the form
// (or the table) they used, in place of an earlier refusal there, leaving what they typed and the rest of the page
// as it was. (htmx-config swaps 423; 409, 422 and 429 replace their target as usual.)
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status !== 423) {
    return;
  }
  const asked = event.detail.requestConfig?.elt ?? event.detail.elt;
  const place = asked?.closest("table") ?? asked?.closest("form") ?? event.detail.target;
  const previous = place?.previousElementSibling;
  if (previous?.matches("[data-refused='plan_endorsed']")) {
    previous.remove();
  }
  event.detail.target = place;
  event.detail.swapOverride = "beforebegin";
});

document.addEventListener("htmx:beforeSwap", (event) => {
  const focused = document.activeElement;
  const target = event.detail.target;
  if (!(focused instanceof HTMLElement) || !target?.id || !target.contains(focused)) {
    focusBeforeSwap = null;
    return;
  }
  focusBeforeSwap = {
    container: target.id,
    editor: focused.closest("tr.row-form")?.id ?? "",
    tag: focused.tagName,
    text: focused.textContent.trim(),
  };
});

document.addEventListener("htmx:afterSettle", () => {
  const before = focusBeforeSwap;
  focusBeforeSwap = null;
  const container = before && document.getElementById(before.container);
  const kept = document.activeElement;
  if (!container || (kept && kept !== document.body && kept.isConnected)) {
    return; // nothing was focused in the swapped part, or the focus survived (htmx keeps it by id) or was placed
  }
  const editor = container.matches("tr.row-form") ? container : container.querySelector("tr.row-form");
  const row = before.editor && !editor ? document.getElementById(before.editor) : null;
  const same = [...container.querySelectorAll(before.tag)].find((element) => element.textContent.trim() === before.text);
  const next = editor
    ? focusable(editor)
    : row
      ? row.querySelector(`[hx-target="#${CSS.escape(row.id)}"]`) ?? focusable(row)
      : same ?? focusable(container);
  next?.focus();
});
