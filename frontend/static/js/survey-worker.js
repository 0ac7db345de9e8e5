/*
 * Quartier — the service worker of the resident survey pages, served as
 * /surveys/offline-worker.js with the scope /surveys/ (surveys/offline.py), so it never
 * controls a staff page. It stores nothing itself: survey.js fills one cache per survey
 * ("quartier-survey-<id>") with the survey's intro, its blank offline page and the static
 * files, and empties it after the submission. This worker only answers from that cache when
 * the network does not answer:
 *
 * - GET requests for /static/… and for a survey's pages: the network first, the cache when
 *   the network fails. A question page or /respond asked for offline gets the survey's offline
 *   page (survey.js resumes there from the answers kept on the phone).
 * - Everything else (form posts, the API, other pages) goes to the network untouched.
 */
"use strict";

var SURVEY_PATH = /^\/surveys\/([0-9a-f-]{36})(\/respond|\/offline)?\/?$/;

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function fromCache(request, url) {
  return caches.match(request, { ignoreVary: true }).then(function (found) {
    if (found) {
      return found;
    }
    var survey = SURVEY_PATH.exec(url.pathname);
    if (!survey || request.mode !== "navigate") {
      return Response.error();
    }
    var offline = "/surveys/" + survey[1] + "/offline";
    return caches.match(offline + url.search, { ignoreVary: true }).then(function (page) {
      return page || caches.match(offline, { ignoreSearch: true, ignoreVary: true });
    }).then(function (page) {
      return page || Response.error();
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (!url.pathname.startsWith("/static/") && !SURVEY_PATH.test(url.pathname)) {
    return;
  }
  event.respondWith(
    fetch(request).catch(function () {
      return fromCache(request, url);
    })
  );
});
