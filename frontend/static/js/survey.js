/*
 * Quartier — surveys: progressive enhancement of the resident flow (surveys/pages.py).
 * Every survey works without this file: answers travel in a signed hidden field of each form
 * post. Loaded with `defer` on the survey pages only; no framework, no inline code (CSP).
 *
 * 1. Progress survives a reload: the answers so far (the signed `state` field), the current
 *    page and the values typed on it are kept in localStorage under the survey's id. A reload
 *    of a question page opens GET /surveys/{id}/respond, which resumes from there; the intro
 *    offers "Continue where you left off". Cleared on "Start" and after the submission.
 * 2. Offline submission: on the check page, "Submit" while offline queues the submission
 *    (the JSON body and the Idempotency-Key the server rendered into the form) and sends it to
 *    the JSON API when the `online` event fires, then shows the confirmation. The same key
 *    makes a repeated send harmless.
 * 3. "Use my location" on a social-area question: the browser's position is sent once to the
 *    point lookup API and the matching area is preselected. The position is never stored.
 * 4. Answering offline (surveys/offline.py): every survey page registers the service worker
 *    (/surveys/offline-worker.js) and keeps the survey's intro, its blank offline page and the
 *    static files in the cache "quartier-survey-<id>". "Continue" or "Back" while offline opens
 *    that offline page, which shows the survey's pages one at a time (skipping what the
 *    survey's conditions hide) and keeps each page's fields in localStorage. "Send answers"
 *    queues one form post to /submit (the signed state, the fields, `offline_pages` and a
 *    random Idempotency-Key), sent when the connection is back: the server checks it as any
 *    submission and answers with the confirmation (or the page to correct). The confirmation
 *    empties the cache and the stored answers.
 *
 * Texts come translated from the server in data-msg-* attributes.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-survey]");
  if (!root) {
    return;
  }
  var surveyId = root.getAttribute("data-survey");
  var progressKey = "quartier.survey." + surveyId;
  var outboxKey = progressKey + ".outbox";
  var cacheName = "quartier-survey-" + surveyId;
  var offlineUrls = (root.getAttribute("data-offline-cache") || "").split(" ").filter(Boolean);
  var offlinePage = offlineUrls.filter(function (url) {
    return /\/offline(\?|$)/.test(url);
  })[0];
  var offlineReady = false; // the worker is active and the offline page is in the cache

  function read(key) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function write(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, JSON.stringify(value));
      }
    } catch (error) {
      /* storage full or disabled: the no-JS flow still works */
    }
  }

  function message(element, name) {
    return (element && element.getAttribute("data-msg-" + name)) || root.getAttribute("data-msg-" + name) || "";
  }

  // Status elements are live regions (role="status") that stay in the page, empty when silent.
  function say(status, text) {
    if (status) {
      status.textContent = text;
    }
  }

  /* ------------------------------------------------------------ 1. progress */

  function controlsIn(container) {
    return container.elements || container.querySelectorAll("input, select, textarea");
  }

  function answerFields(form) {
    var fields = {};
    Array.prototype.forEach.call(controlsIn(form), function (element) {
      var name = element.name;
      if (!name || !/^[qo]_/.test(name) || element.disabled) {
        return;
      }
      if (!fields[name]) {
        fields[name] = [];
      }
      if ((element.type === "checkbox" || element.type === "radio") && !element.checked) {
        return;
      }
      fields[name].push(element.value);
    });
    return fields;
  }

  function restoreFields(form, fields) {
    var position = {}; // several fields of one name (a ranking's places) take values in order
    Array.prototype.forEach.call(controlsIn(form), function (element) {
      var values = fields[element.name];
      if (!values) {
        return;
      }
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = values.indexOf(element.value) >= 0;
      } else if (element.tagName !== "BUTTON" && element.type !== "hidden") {
        var index = position[element.name] || 0;
        position[element.name] = index + 1;
        element.value = index < values.length ? values[index] : "";
      }
    });
  }

  function enhanceQuestionPage(form) {
    var page = form.getAttribute("data-page");
    var state = form.elements.state ? form.elements.state.value : "";
    var saved = read(progressKey);
    if (saved && saved.page === page && saved.fields) {
      restoreFields(form, saved.fields);
    }
    var csrf = form.elements.csrf_token ? form.elements.csrf_token.value : "";
    function save() {
      write(progressKey, { state: state, page: page, fields: answerFields(form), csrf: csrf, at: Date.now() });
    }
    save();
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    // Offline, Continue and Back go on in the offline page with these answers.
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      var step = submitter && submitter.value;
      if (navigator.onLine || !offlineReady || (step !== "continue" && step !== "back")) {
        return;
      }
      event.preventDefault();
      var fields = answerFields(form);
      var offline = {};
      offline[page] = fields;
      write(progressKey, {
        state: state,
        page: page,
        fields: fields,
        csrf: csrf,
        offline: offline,
        resume: { from: page, action: step },
        at: Date.now()
      });
      window.location.href = offlinePage;
    });
    // This page came from a form post: make a reload ask for GET …/respond (which resumes from
    // localStorage) instead of re-posting the form.
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.href);
    }
  }

  function enhanceIntro(intro) {
    var resume = document.querySelector("form[data-survey-resume]");
    var saved = read(progressKey);
    document.querySelectorAll("form[data-survey-start]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        write(progressKey, null);
        if (!navigator.onLine && offlineReady && !form.elements.code) {
          // Started offline (open surveys; an invitation code needs the server first).
          event.preventDefault();
          var csrf = form.elements.csrf_token ? form.elements.csrf_token.value : "";
          write(progressKey, { state: "", offline: {}, csrf: csrf, at: Date.now() });
          window.location.href = offlinePage;
        }
      });
    });
    if (!resume || !saved || !saved.state || !saved.page) {
      return;
    }
    resume.addEventListener("submit", function (event) {
      if (!navigator.onLine && offlineReady) {
        event.preventDefault();
        window.location.href = offlinePage;
      }
    });
    resume.elements.state.value = saved.state;
    resume.elements.action.value = "goto:" + saved.page;
    resume.hidden = false;
    if (intro.hasAttribute("data-auto-resume")) {
      resume.requestSubmit();
    }
  }

  /* ------------------------------------------------------------ 2. offline submission */

  function showConfirmation(receipt) {
    var template = document.getElementById("survey-confirmation");
    var main = document.getElementById("main");
    if (!template || !main) {
      return;
    }
    var content = template.content.cloneNode(true);
    content.querySelectorAll("[data-receipt]").forEach(function (slot) {
      slot.textContent = receipt;
    });
    main.replaceChildren(content);
    var heading = main.querySelector("h1");
    if (heading) {
      document.title = heading.textContent.trim() + " – Quartier";
    }
    main.focus();
    forgetOffline();
  }

  function headers(outbox) {
    var result = {
      "Content-Type": "application/json",
      Accept: "application/json",
      "Idempotency-Key": outbox.key
    };
    if (outbox.token) {
      result["Respondent-Token"] = outbox.token;
    }
    return result;
  }

  function send(outbox, status, form) {
    if (outbox.sending) {
      return;
    }
    outbox.sending = true;
    say(status, message(form, "sending"));
    window
      .fetch(outbox.url, {
        method: "POST",
        credentials: "same-origin",
        headers: headers(outbox),
        body: outbox.body
      })
      .then(function (response) {
        return response.json().then(
          function (body) {
            return { ok: response.ok, status: response.status, body: body };
          },
          function () {
            return { ok: response.ok, status: response.status, body: {} };
          }
        );
      })
      .then(function (result) {
        outbox.sending = false;
        if (result.ok) {
          write(outboxKey, null);
          showConfirmation(result.body.receipt_code || result.body.receipt || "");
        } else if (result.status === 409 && result.body.type && /in-flight/.test(result.body.type)) {
          window.setTimeout(function () {
            send(outbox, status, form);
          }, 1000);
        } else {
          write(outboxKey, null);
          say(status, message(form, "failed") + (result.body.detail ? " " + result.body.detail : ""));
        }
      })
      .catch(function () {
        outbox.sending = false;
        say(status, message(form, "offline"));
      });
  }

  function enhanceSubmit(form) {
    var status = document.getElementById("survey-submit-status");
    var outbox = read(outboxKey);
    function flush() {
      var queued = read(outboxKey);
      if (queued && queued.pairs) {
        sendForm(queued); // queued on the offline page
      } else if (queued) {
        outbox = queued;
        send(outbox, status, form);
      }
    }
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || submitter.value !== "submit" || navigator.onLine) {
        return;
      }
      event.preventDefault();
      outbox = {
        url: form.getAttribute("data-api"),
        key: form.elements.idempotency_key.value,
        body: form.getAttribute("data-submission"),
        token: form.getAttribute("data-respondent-token") || "",
        at: Date.now()
      };
      write(outboxKey, outbox);
      say(status, message(form, "offline"));
    });
    window.addEventListener("online", flush);
    if (outbox && navigator.onLine) {
      flush();
    }
  }

  /* ------------------------------------------------------------ 3. use my location */

  function controlsOf(name) {
    return Array.prototype.slice.call(document.getElementsByName(name));
  }

  function choose(name, areas) {
    var controls = controlsOf(name);
    for (var index = areas.length - 1; index >= 0; index -= 1) {
      var area = areas[index];
      for (var c = 0; c < controls.length; c += 1) {
        var control = controls[c];
        if (control.tagName === "SELECT") {
          var option = Array.prototype.find.call(control.options, function (candidate) {
            return candidate.value === area.id || candidate.value === area.code;
          });
          if (option) {
            control.value = option.value;
            control.dispatchEvent(new Event("change", { bubbles: true }));
            return area;
          }
        } else if (control.value === area.id || control.value === area.code) {
          control.checked = true;
          control.dispatchEvent(new Event("change", { bubbles: true }));
          return area;
        }
      }
    }
    return null;
  }

  function enhanceLocate(button) {
    if (!navigator.geolocation || !window.fetch) {
      return;
    }
    var status = document.getElementById(button.getAttribute("data-status"));
    var name = button.getAttribute("data-survey-locate");
    button.hidden = false;
    button.addEventListener("click", function () {
      say(status, message(button, "locating"));
      navigator.geolocation.getCurrentPosition(
        function (position) {
          // Rounded to about 10 m; sent once to the lookup and kept nowhere.
          var lat = position.coords.latitude.toFixed(4);
          var lon = position.coords.longitude.toFixed(4);
          window
            .fetch("/api/v1/social-areas/lookup?lat=" + lat + "&lon=" + lon, {
              headers: { Accept: "application/json" }
            })
            .then(function (response) {
              if (!response.ok) {
                throw new Error(String(response.status));
              }
              return response.json();
            })
            .then(function (body) {
              var area = choose(name, body.items || []);
              say(status, area ? message(button, "found").replace("{area}", area.name) : message(button, "outside"));
            })
            .catch(function () {
              say(status, message(button, "failed"));
            });
        },
        function (error) {
          say(status, message(button, error.code === 1 ? "denied" : "failed"));
        },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
      );
    });
  }

  /* ------------------------------------------------------------ 4. answering offline */

  function forgetOffline() {
    write(progressKey, null);
    write(outboxKey, null);
    if (window.caches) {
      window.caches.delete(cacheName).catch(function () {});
    }
  }

  function checkReady() {
    if (!navigator.serviceWorker || !window.caches || !offlinePage) {
      return Promise.resolve();
    }
    return Promise.all([
      navigator.serviceWorker.getRegistration(offlinePage),
      window.caches.open(cacheName).then(function (cache) {
        return cache.match(offlinePage, { ignoreVary: true });
      })
    ]).then(function (found) {
      offlineReady = Boolean(found[0] && found[0].active && found[1]);
      if (offlineReady) {
        root.setAttribute("data-offline-ready", "");
      }
    });
  }

  // Only this survey's intro, its blank offline page and the static files: none carries
  // answers, and a response marked private or no-store is never kept.
  function keepForOffline() {
    var worker = root.getAttribute("data-offline-worker");
    if (!worker || !offlinePage || !navigator.serviceWorker || !window.caches) {
      return;
    }
    var registered = navigator.serviceWorker.register(worker, { scope: "/surveys/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
    var cached = window.caches.open(cacheName).then(function (cache) {
      return cache.match(offlinePage, { ignoreVary: true }).then(function (found) {
        if (found || !navigator.onLine) {
          return null;
        }
        return Promise.all(
          offlineUrls.map(function (url) {
            return window.fetch(url, { credentials: "same-origin" }).then(function (response) {
              var control = response.headers.get("Cache-Control") || "";
              if (response.ok && !/no-store|private/.test(control)) {
                return cache.put(url, response);
              }
              return null;
            });
          })
        );
      });
    });
    Promise.all([registered, cached]).then(checkReady).catch(function () {});
    window.addEventListener("offline", function () {
      checkReady().catch(function () {});
    });
  }

  function sendForm(outbox) {
    if (sendForm.sending) {
      return;
    }
    sendForm.sending = true;
    // Whatever page the server answers with settles this queue (see "start" below).
    outbox.sent = true;
    write(outboxKey, outbox);
    var form = document.createElement("form");
    form.method = "post";
    form.action = outbox.url;
    form.hidden = true;
    outbox.pairs.forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "offline-" + Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  // The answers the server confirmed so far: the payload of the signed state (read, not trusted).
  function decodeState(token) {
    try {
      var body = (token || "").split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
      var binary = window.atob(body + "===".slice((body.length + 3) % 4));
      var bytes = Uint8Array.from(binary, function (c) {
        return c.charCodeAt(0);
      });
      var state = JSON.parse(new TextDecoder().decode(bytes));
      return { answers: state.answers || {}, other: state.other || {} };
    } catch (error) {
      return { answers: {}, other: {} };
    }
  }

  // A survey condition (schemas.Condition as JSON) on the answers shown so far; the same
  // rules as definition.condition_holds, for the pages answered offline.
  function holds(condition, answers) {
    if (!condition) {
      return true;
    }
    var answer = answers[condition.question];
    switch (condition.op) {
      case "equals":
        if (answer === undefined || answer === null || Array.isArray(answer)) {
          return false;
        }
        if (typeof condition.value === "string") {
          return String(answer) === condition.value;
        }
        return Number(String(answer).replace(",", ".")) === Number(condition.value);
      case "includes":
        return Array.isArray(answer) && answer.indexOf(condition.option) >= 0;
      case "not":
        return !holds(condition.not, answers);
      case "any":
        return condition.any.some(function (inner) {
          return holds(inner, answers);
        });
      default:
        return condition.all.every(function (inner) {
          return holds(inner, answers);
        });
    }
  }

  function conditionOf(element) {
    var raw = element.getAttribute("data-show-if");
    return raw ? JSON.parse(raw) : null;
  }

  function enhanceOfflinePage(form) {
    var sections = Array.prototype.slice.call(form.querySelectorAll("section[data-offline-page]"));
    var check = sections.pop(); // the last step: send
    var progress = form.querySelector("[data-offline-progress]");
    var status = document.getElementById("survey-submit-status");
    var buttons = {};
    form.querySelectorAll("button[name=action]").forEach(function (button) {
      buttons[button.value] = button;
    });
    var saved = read(progressKey) || { state: "" };
    saved.offline = saved.offline || {};
    var confirmed = decodeState(saved.state);
    var current = null;

    function keyOf(section) {
      return section.getAttribute("data-offline-page");
    }

    function questionsOf(section) {
      return Array.prototype.slice.call(section.querySelectorAll("[data-offline-question]"));
    }

    function answersNow() {
      var answers = Object.assign({}, confirmed.answers);
      sections.forEach(function (section) {
        var fields = saved.offline[keyOf(section)];
        if (!fields) {
          return;
        }
        questionsOf(section).forEach(function (question) {
          var key = question.getAttribute("data-offline-question");
          if (!fields["q_" + key]) {
            return;
          }
          var values = fields["q_" + key].filter(Boolean);
          if (!values.length) {
            delete answers[key];
          } else {
            answers[key] = question.hasAttribute("data-list") ? values : values[0];
          }
        });
      });
      return answers;
    }

    // The pages shown for these answers, each with its questions shown (definition.visible_*).
    function walk(answers) {
      var shown = {};
      var path = [];
      sections.forEach(function (section) {
        if (!holds(conditionOf(section), shown)) {
          return;
        }
        var visible = questionsOf(section).filter(function (question) {
          if (!holds(conditionOf(question), shown)) {
            return false;
          }
          var key = question.getAttribute("data-offline-question");
          if (answers[key] !== undefined) {
            shown[key] = answers[key];
          }
          return true;
        });
        if (visible.length) {
          path.push({ section: section, questions: visible });
        }
      });
      return path;
    }

    function indexOf(path, key) {
      for (var index = 0; index < path.length; index += 1) {
        if (keyOf(path[index].section) === key) {
          return index;
        }
      }
      return -1;
    }

    function fieldsFromState(section) {
      var fields = {};
      questionsOf(section).forEach(function (question) {
        var key = question.getAttribute("data-offline-question");
        var value = confirmed.answers[key];
        if (value !== undefined && value !== null) {
          fields["q_" + key] = Array.isArray(value) ? value.map(String) : [String(value)];
        }
        if (confirmed.other[key]) {
          fields["o_" + key] = [confirmed.other[key]];
        }
      });
      return fields;
    }

    function visibleFields(section) {
      var fields = {};
      questionsOf(section).forEach(function (question) {
        if (!question.hidden) {
          Object.assign(fields, answerFields(question));
        }
      });
      return fields;
    }

    function keep() {
      if (current && current !== check) {
        saved.offline[keyOf(current)] = visibleFields(current);
      }
      saved.docPage = current ? keyOf(current) : null;
      write(progressKey, saved);
    }

    function reveal(section) {
      var path = walk(answersNow());
      var index = indexOf(path, keyOf(section));
      if (index >= 0) {
        questionsOf(section).forEach(function (question) {
          question.hidden = path[index].questions.indexOf(question) < 0;
        });
      }
      progress.hidden = index < 0;
      progress.textContent = message(root, "progress")
        .replace("{current}", String(index + 1))
        .replace("{total}", String(path.length));
    }

    function show(section) {
      current = section;
      sections.concat([check]).forEach(function (each) {
        each.hidden = each !== section;
      });
      if (section !== check) {
        var stored = saved.offline[keyOf(section)];
        if (!stored && saved.page === keyOf(section) && saved.fields) {
          stored = saved.fields;
        }
        restoreFields(section, stored || fieldsFromState(section));
      }
      reveal(section);
      buttons.continue.hidden = section === check;
      buttons.submit.hidden = section !== check;
      keep();
      var heading = section.querySelector("h1");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        document.title = heading.textContent.trim() + " – Quartier";
        heading.focus();
      }
      window.scrollTo(0, 0);
    }

    function queue() {
      var path = walk(answersNow());
      var pages = path
        .map(function (entry) {
          return keyOf(entry.section);
        })
        .filter(function (key) {
          return saved.offline[key];
        });
      var pairs = [
        ["state", saved.state || ""],
        ["csrf_token", saved.csrf || (form.elements.csrf_token ? form.elements.csrf_token.value : "")],
        ["idempotency_key", randomKey()],
        ["offline_pages", pages.join(" ")],
        ["action", "submit"]
      ];
      pages.forEach(function (key) {
        var fields = saved.offline[key];
        Object.keys(fields).forEach(function (name) {
          fields[name].forEach(function (value) {
            pairs.push([name, value]);
          });
        });
      });
      var outbox = { url: root.getAttribute("data-submit"), pairs: pairs, at: Date.now() };
      write(outboxKey, outbox);
      return outbox;
    }

    function flush() {
      var outbox = read(outboxKey);
      if (outbox && outbox.pairs && navigator.onLine) {
        say(status, message(form, "sending"));
        sendForm(outbox);
      }
    }

    form.addEventListener("change", function () {
      keep();
      reveal(current);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var step = event.submitter ? event.submitter.value : "continue";
      if (read(outboxKey)) {
        flush(); // already queued: nothing can change any more
        return;
      }
      keep();
      var path = walk(answersNow());
      var index = current === check ? path.length : indexOf(path, keyOf(current));
      if (step === "submit") {
        queue();
        if (navigator.onLine) {
          flush();
        } else {
          say(status, message(form, "offline"));
        }
      } else if (step === "back") {
        if (index > 0) {
          show(path[index - 1].section);
        } else {
          window.location.href = root.getAttribute("data-intro");
        }
      } else {
        show(index + 1 < path.length ? path[index + 1].section : check);
      }
    });
    window.addEventListener("online", flush);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        sendForm.sending = false; // back from a post that did not arrive: try again
        flush();
      }
    });

    document.querySelector("[data-offline-nojs]").hidden = true;
    form.hidden = false;
    var path = walk(answersNow());
    var target = null;
    if (saved.resume) {
      var from = indexOf(path, saved.resume.from);
      var step = saved.resume.action === "back" ? from - 1 : from + 1;
      target = from < 0 || step < 0 ? null : step < path.length ? path[step].section : check;
      delete saved.resume;
    } else {
      var at = saved.docPage || saved.page;
      target = at === "check" ? check : (path[indexOf(path, at)] || {}).section;
    }
    show(target || (read(outboxKey) ? check : path.length ? path[0].section : check));
    if (read(outboxKey)) {
      say(status, message(form, navigator.onLine ? "sending" : "offline"));
      flush();
    }
  }

  /* ------------------------------------------------------------ start */

  if (root.hasAttribute("data-survey-done")) {
    forgetOffline();
    return;
  }
  keepForOffline();
  var offlineForm = document.querySelector("form[data-offline-form]");
  if (offlineForm) {
    enhanceOfflinePage(offlineForm);
  } else {
    // A page from the server after the queued post was sent: the server has answered it (here
    // with answers to correct), so it must not be sent again. A post that never arrived
    // leaves the resident on the offline page, which sends it again.
    var queued = read(outboxKey);
    if (queued && queued.pairs && queued.sent) {
      write(outboxKey, null);
    }
  }
  var intro = document.querySelector("[data-survey-intro]");
  if (intro) {
    enhanceIntro(intro);
  }
  document.querySelectorAll("form[data-survey-form]").forEach(enhanceQuestionPage);
  document.querySelectorAll("form[data-survey-submit]").forEach(enhanceSubmit);
  document.querySelectorAll("[data-survey-locate]").forEach(enhanceLocate);
})();
