/* The dispatch console, live. Without JavaScript its pages refresh themselves (a meta
   refresh inside <noscript>); with it, this script polls their JSON instead and redraws
   their lists from the HTML the server draws with the pages' own templates:

   - the queue (#dispatch-queue): beeps (WebAudio, no sound file) when a session nobody
     answers appears, and shows how many wait in the tab's title;
   - a session (#dispatch-conversation): new texts appear while the dispatcher types, with a
     beep; when the session changes hands, the page reloads unless a reply is being written. */
(function () {
  "use strict";

  var queue = document.getElementById("dispatch-queue");
  var conversation = document.getElementById("dispatch-conversation");
  var live = queue || conversation;
  if (!live) {
    return;
  }
  if (!window.fetch) {
    // Too old to poll: do what the page does without JavaScript.
    window.setTimeout(function () { window.location.reload(); }, 15000);
    return;
  }

  var status = document.getElementById("dispatch-status");
  var every = (parseInt(live.getAttribute("data-poll-seconds"), 10) || 5) * 1000;
  var audio = null;
  var alerts = 0;

  // --- sound ---------------------------------------------------------------------------------

  function context() {
    var Audio = window.AudioContext || window.webkitAudioContext;
    if (!audio && Audio) {
      try {
        audio = new Audio();
      } catch (error) {
        audio = null;
      }
    }
    return audio;
  }

  // Browsers start sound only after a click or key press on the page.
  function unlock() {
    var ctx = context();
    if (ctx && ctx.state === "suspended") {
      ctx.resume();
    }
  }

  function tone(ctx, start, frequency) {
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.35);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(start);
    osc.stop(start + 0.4);
  }

  function beep() {
    var ctx = context();
    if (!ctx) {
      return;
    }
    try {
      tone(ctx, ctx.currentTime, 880);
      tone(ctx, ctx.currentTime + 0.45, 1175);
    } catch (error) {
      /* no audio device: the alert on the page is still there */
    }
  }

  // Something new arrived: the sound, and a count on the page (for tests and curious eyes).
  function announce() {
    alerts += 1;
    document.documentElement.setAttribute("data-dispatch-alerts", String(alerts));
    beep();
  }

  // --- drawing -------------------------------------------------------------------------------

  // Redraw a region, keeping keyboard focus on the same link.
  function redraw(element, html) {
    var active = document.activeElement;
    var href = active && element.contains(active) ? active.getAttribute("href") : null;
    element.innerHTML = html;
    if (href) {
      var again = element.querySelector('a[href="' + href + '"]');
      if (again) {
        again.focus();
      }
    }
  }

  // One notice at a time ("could not update", "this session has changed"), set only when it
  // changes, so that a screen reader reads it once.
  function showStatus(text) {
    if (status && status.textContent !== (text || "")) {
      status.textContent = text || "";
      status.hidden = !text;
    }
  }

  function attribute(name) {
    return status ? status.getAttribute(name) : "";
  }

  function poll(url, update) {
    window.fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.redirected || response.status === 401 || response.status === 403) {
        window.location.reload(); // signed out, or the second factor is due: show it
        return null;
      }
      if (!response.ok || type.indexOf("application/json") !== 0) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    }).then(function (data) {
      if (data) {
        showStatus(update(data) || "");
      }
    }).catch(function () {
      showStatus(attribute("data-offline"));
    }).then(function () {
      window.setTimeout(function () { poll(url, update); }, every);
    });
  }

  // --- the queue -----------------------------------------------------------------------------

  function idSet(ids) {
    var set = {};
    ids.forEach(function (id) {
      if (id) {
        set[String(id)] = true;
      }
    });
    return set;
  }

  function watchQueue() {
    var alertBox = document.getElementById("dispatch-alert");
    var title = document.title.replace(/^\(\d+\)\s*/, "");
    var known = idSet((queue.getAttribute("data-waiting") || "").split(/\s+/));
    var lastAlert = alertBox ? alertBox.textContent.trim() : "";

    poll(queue.getAttribute("data-poll-url"), function (data) {
      var waiting = data.sessions
        .filter(function (s) { return s.status === "open"; })
        .map(function (s) { return String(s.id); });
      var fresh = waiting.some(function (id) { return !known[id]; });
      known = idSet(waiting);
      redraw(queue, data.html);
      if (alertBox && data.alert !== lastAlert) {
        alertBox.innerHTML = data.alert_html;
        lastAlert = data.alert;
      }
      document.title = (data.new ? "(" + data.new + ") " : "") + title;
      if (fresh) {
        announce();
      }
      return "";
    });
  }

  // --- a session -----------------------------------------------------------------------------

  function watchConversation() {
    var state = conversation.getAttribute("data-state");
    var inbound = parseInt(conversation.getAttribute("data-inbound"), 10) || 0;
    var here = conversation.getAttribute("data-page-url");
    var last = null;

    poll(conversation.getAttribute("data-poll-url"), function (data) {
      if (data.html !== last) {
        redraw(conversation, data.html);
        last = data.html;
      }
      if (data.inbound > inbound) {
        announce();
      }
      inbound = data.inbound;
      if (data.state !== state) {
        var reply = document.getElementById("body");
        if (reply && reply.value.trim()) {
          return attribute("data-changed"); // never lose what is being typed
        }
        window.location.assign(here); // its actions have changed
      }
      return "";
    });
  }

  var sound = document.getElementById("dispatch-sound");
  if (sound) {
    sound.hidden = false;
    sound.querySelector("button").addEventListener("click", function () {
      unlock();
      beep();
    });
  }
  document.addEventListener("click", unlock);
  document.addEventListener("keydown", unlock);
  document.documentElement.setAttribute("data-dispatch-live", "true");
  if (queue) {
    watchQueue();
  } else {
    watchConversation();
  }
}());
