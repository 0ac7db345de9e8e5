/*
 * Quartier — progressive enhancement only. Every page works without this file; it is loaded
 * with `defer` from base.html and uses no framework and no inline code (the CSP forbids it).
 *
 * Error summary (GOV.UK pattern): on a page with form errors, focus moves to the summary so
 * screen readers announce it; its links focus the field and scroll its label or legend into
 * view (a plain #id jump would hide the question above the field).
 *
 * It also marks <html class="js">, so CSS can show controls that only work with scripts
 * (class "js-only").
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function labelFor(field) {
    var fieldset = field.closest("fieldset");
    if (fieldset) {
      var legend = fieldset.querySelector("legend");
      if (!legend) {
        return field;
      }
      // the legend (the question) if it fits on screen together with the field
      var distance = field.getBoundingClientRect().top - legend.getBoundingClientRect().top;
      if (distance < window.innerHeight / 2) {
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

  var summary = document.querySelector(".error-summary");
  if (summary) {
    enhanceErrorSummary(summary);
  }
})();
