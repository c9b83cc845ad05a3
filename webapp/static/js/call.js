// The call page: the live transcript over the API's WebSocket while the call runs, and afterwards
// a transcript that seeks the recording when a line is clicked and highlights the line being played.
(function () {
  "use strict";

  var TERMINAL = ["completed", "failed"];
  var PING_SECONDS = 20;
  var MAX_RETRIES = 5;
  var live = null;

  function clock(seconds) {
    var total = Math.floor(seconds || 0);
    var minutes = Math.floor(total / 60);
    var rest = total % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function turnElement(turn, isNew) {
    var item = document.createElement("li");
    item.className = "turn turn-" + turn.role + (isNew ? " turn-new" : "");
    var time = document.createElement("span");
    time.className = "turn-time";
    time.textContent = clock(turn.start_seconds);
    var role = document.createElement("span");
    role.className = "turn-role";
    role.textContent = turn.role === "agent" ? "Agent" : "Callee";
    var text = document.createElement("p");
    text.textContent = turn.text;
    item.append(time, role, text);
    return item;
  }

  function showTranscript(section, turns) {
    var list = section.querySelector("[data-live-transcript]");
    var shown = list.querySelectorAll(".turn").length;
    var empty = section.querySelector("[data-live-empty]");
    if (empty) empty.hidden = turns.length > 0;
    if (turns.length < shown) {
      list.replaceChildren();
      shown = 0;
    }
    for (var index = shown; index < turns.length; index++) {
      list.appendChild(turnElement(turns[index], true));
    }
  }

  function showStatus(data) {
    var badge = document.getElementById("call-status");
    if (!badge) return;
    var label = data.status.replace("_", " ");
    if (data.failure_reason) label += " · " + data.failure_reason.replace("_", " ");
    badge.textContent = label;
    badge.className = "badge badge-" + (TERMINAL.indexOf(data.status) >= 0 ? data.status : "live");
  }

  function showState(section, text) {
    var state = section.querySelector("[data-live-state]");
    if (state) state.textContent = text;
  }

  // Once the call is over, load the finished call (recording, report, webhooks) in place.
  function showFinishedCall(section) {
    htmx.ajax("GET", section.getAttribute("data-detail-url"), { target: "#call-body", swap: "outerHTML" });
  }

  function LiveCall(section) {
    this.section = section;
    this.finished = false;
    this.retries = 0;
    this.connect(section.getAttribute("data-token"));
  }

  LiveCall.prototype.connect = function (token) {
    var self = this;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + this.section.getAttribute("data-socket-path") +
      "?session_token=" + encodeURIComponent(token);
    var socket = new WebSocket(url);
    this.socket = socket;
    showState(this.section, "Connecting…");
    socket.onopen = function () {
      self.retries = 0;
      showState(self.section, "Live: new lines appear as they are spoken.");
      self.pinger = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
      }, PING_SECONDS * 1000);
    };
    socket.onmessage = function (event) { self.receive(JSON.parse(event.data)); };
    socket.onclose = function () {
      clearInterval(self.pinger);
      if (!self.finished && self.section.isConnected) self.reconnect();
    };
  };

  LiveCall.prototype.receive = function (message) {
    var data = message.data || {};
    if (message.type === "connected") {
      showTranscript(this.section, data.transcript || []);
      showStatus(data);
    } else if (message.type === "transcript_update") {
      showTranscript(this.section, data.transcript || []);
    } else if (message.type === "call_status_update") {
      showStatus(data);
      if (TERMINAL.indexOf(data.status) >= 0) this.finish();
    } else if (message.type === "error") {
      showState(this.section, data.message || "The live connection reported an error.");
    }
  };

  LiveCall.prototype.finish = function () {
    this.finished = true;
    showState(this.section, "The call has ended. Loading the recording and report…");
    this.socket.close();
    showFinishedCall(this.section);
  };

  LiveCall.prototype.stop = function () {
    this.finished = true;
    clearInterval(this.pinger);
    if (this.socket) this.socket.close();
  };

  // Tokens last a few minutes: reconnect with a fresh one from the dashboard.
  LiveCall.prototype.reconnect = function () {
    var self = this;
    if (this.retries >= MAX_RETRIES) {
      showState(this.section, "Live updates stopped. Reload the page to see the latest state.");
      return;
    }
    this.retries += 1;
    showState(this.section, "Reconnecting…");
    setTimeout(function () {
      fetch(self.section.getAttribute("data-token-url"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (body) {
          if (!body.active) return self.finish();
          self.connect(body.token);
        })
        .catch(function () { self.reconnect(); });
    }, 1000 * this.retries);
  };

  function startLive(root) {
    var section = root.matches && root.matches("[data-live-call]") ? root : root.querySelector("[data-live-call]");
    if (!section || (live && live.section === section)) return;
    if (live) live.stop();
    live = new LiveCall(section);
  }

  // Playback: clicking a line seeks; the line being played is highlighted.
  function highlight(list, turn) {
    list.querySelectorAll(".turn.is-playing").forEach(function (item) {
      if (item !== turn) {
        item.classList.remove("is-playing");
        item.removeAttribute("aria-current");
      }
    });
    if (turn && !turn.classList.contains("is-playing")) {
      turn.classList.add("is-playing");
      turn.setAttribute("aria-current", "true");
      turn.scrollIntoView({ block: "nearest" });
    }
  }

  function turnAt(list, seconds) {
    var current = null;
    list.querySelectorAll(".turn[data-start]").forEach(function (turn) {
      if (parseFloat(turn.getAttribute("data-start")) <= seconds + 0.05) current = turn;
    });
    return current;
  }

  document.addEventListener("click", function (event) {
    var turn = event.target.closest(".turn[data-start]");
    if (!turn) return;
    var list = turn.closest("[data-player]");
    var audio = list && document.querySelector(list.getAttribute("data-player"));
    if (!audio) return;
    audio.currentTime = parseFloat(turn.getAttribute("data-start"));
    highlight(list, turn);
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
  });

  // Media events don't bubble; a capturing listener still sees them.
  document.addEventListener("timeupdate", function (event) {
    var audio = event.target;
    if (!(audio instanceof HTMLMediaElement) || !audio.id) return;
    var list = document.querySelector('[data-player="#' + audio.id + '"]');
    if (list) highlight(list, turnAt(list, audio.currentTime));
  }, true);

  htmx.onLoad(startLive);
})();
