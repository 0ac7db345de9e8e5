/*
 * Quartier — progressive enhancement only. Every page works without this file; it is loaded
 * with `defer` from base.html and uses no framework and no inline code (the CSP forbids it).
 *
 * 1. Error summary (GOV.UK pattern): on a page with form errors, focus moves to the summary so
 *    screen readers announce it; its links focus the field and scroll its label or legend
 *    into view (a plain #id jump would hide the question above the field).
 * 2. Copy link: an element `<button class="js-only" data-copy-link>` (or with a URL in
 *    `data-copy-link="…"`) copies the page's address; it is hidden when scripts do not run.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function labelFor(field) {
    var fieldset = field.closest("fieldset");
    if (fieldset) {
      var legend = fieldset.querySelector("legend");
      if (legend && legend.getBoundingClientRect().top - field.getBoundingClientRect().top < window.innerHeight / 2) {
        return legend;
      }
    }
    return document.querySelector('label[for="' + CSS.escape(field.id) + '"]') || field;
  }

  function enhanceErrorSummary(summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var field = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!field) {
        return;
      }
      event.preventDefault();
      labelFor(field).scrollIntoView();
      field.focus({ preventScroll: true });
    });
  }

  function enhanceCopyLink(button) {
    if (!navigator.clipboard) {
      return;
    }
    var original = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var url = button.getAttribute("data-copy-link") || window.location.href;
      navigator.clipboard.writeText(new URL(url, window.location.href).href).then(function () {
        button.textContent = button.getAttribute("data-copied-text") || original;
        window.setTimeout(function () {
          button.textContent = original;
        }, 3000);
      });
    });
  }

  document.querySelectorAll("[data-module='error-summary'], .error-summary").forEach(function (summary, index) {
    if (index === 0) {
      enhanceErrorSummary(summary);
    }
  });
  document.querySelectorAll("[data-copy-link]").forEach(enhanceCopyLink);
})();
