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

  function answerFields(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (element) {
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
    Array.prototype.forEach.call(form.elements, function (element) {
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
    function save() {
      write(progressKey, { state: state, page: page, fields: answerFields(form), at: Date.now() });
    }
    save();
    form.addEventListener("input", save);
    form.addEventListener("change", save);
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
      form.addEventListener("submit", function () {
        write(progressKey, null);
      });
    });
    if (!resume || !saved || !saved.state || !saved.page) {
      return;
    }
    resume.elements.state.value = saved.state;
    resume.elements.action.value = "goto:" + saved.page;
    resume.hidden = false;
    if (intro.hasAttribute("data-auto-resume")) {
      resume.submit();
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
    write(progressKey, null);
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
      if (queued) {
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

  /* ------------------------------------------------------------ start */

  if (root.hasAttribute("data-survey-done")) {
    write(progressKey, null);
    write(outboxKey, null);
    return;
  }
  var intro = document.querySelector("[data-survey-intro]");
  if (intro) {
    enhanceIntro(intro);
  }
  document.querySelectorAll("form[data-survey-form]").forEach(enhanceQuestionPage);
  document.querySelectorAll("form[data-survey-submit]").forEach(enhanceSubmit);
  document.querySelectorAll("[data-survey-locate]").forEach(enhanceLocate);
})();
