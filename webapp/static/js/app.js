// Dashboard behaviour shared by every page: CSRF for htmx, copy buttons, repeating form rows,
// local times. No inline scripts; htmx swaps are handled through htmx.onLoad.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // Copy the value of the element named in data-copy (a readonly input) to the clipboard.
  function copyFrom(button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value || source.textContent;
    var confirm = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(confirm, function () { selectForCopy(source, confirm); });
    } else {
      selectForCopy(source, confirm);
    }
  }

  function selectForCopy(source, confirm) {
    if (source.select) source.select();
    if (document.execCommand && document.execCommand("copy")) confirm();
  }

  // Repeating rows: a <template> holds a blank row; data-add-row names it, data-rows the container.
  function addRow(button) {
    var template = document.querySelector(button.getAttribute("data-add-row"));
    var rows = document.querySelector(button.getAttribute("data-rows"));
    if (!template || !rows) return;
    var row = template.content.firstElementChild.cloneNode(true);
    rows.appendChild(row);
    var first = row.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-copy], [data-add-row], [data-remove-row]");
    if (!target) return;
    if (target.hasAttribute("data-copy")) copyFrom(target);
    if (target.hasAttribute("data-add-row")) addRow(target);
    if (target.hasAttribute("data-remove-row")) {
      var row = target.closest(".row-fields");
      if (row) row.remove();
    }
  });

  // datetime-local inputs are in the reader's zone: send the offset for the chosen date along.
  document.addEventListener("submit", function (event) {
    event.target.querySelectorAll("input[type=datetime-local][data-offset-field]").forEach(function (input) {
      var offsetField = event.target.querySelector(input.getAttribute("data-offset-field"));
      if (!offsetField) return;
      offsetField.value = input.value ? String(new Date(input.value).getTimezoneOffset()) : "0";
    });
  }, true);

  function pad(number) { return number < 10 ? "0" + number : String(number); }

  // One format for every time on every page, in the reader's zone, with the zone shown.
  var WHEN_FORMAT = { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
                      timeZoneName: "short" };
  function formatWhen(date, timeZone) {
    if (timeZone) {
      try {
        return date.toLocaleString(undefined, Object.assign({ timeZone: timeZone }, WHEN_FORMAT));
      } catch (error) {
        return null;  // a zone name this browser does not know
      }
    }
    return date.toLocaleString(undefined, WHEN_FORMAT);
  }
  window.formatWhen = formatWhen;

  // Lists that refresh themselves ([data-live-list], see the live_refresh macro): one socket per page
  // says when a call of the organization changed status; htmx then refreshes each list.
  var activitySocket = null;
  var activityRetry = 1000;
  function watchActivity() {
    if (activitySocket || !window.WebSocket || !document.querySelector("[data-live-list]")) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    activitySocket = new WebSocket(scheme + window.location.host + "/ws/activity");
    activitySocket.onopen = function () { activityRetry = 1000; };
    activitySocket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "activity" && window.htmx) htmx.trigger(document.body, "activity", message.data);
    };
    activitySocket.onclose = function () {
      activitySocket = null;
      setTimeout(watchActivity, activityRetry);
      activityRetry = Math.min(activityRetry * 2, 30000);
    };
  }

  function localize(root) {
    root.querySelectorAll("time[datetime]").forEach(function (element) {
      var date = new Date(element.getAttribute("datetime"));
      if (isNaN(date)) return;
      var orgZone = element.getAttribute("data-org-zone");
      if (!element.title && orgZone) {  // on hover: the same time in the organization's zone
        element.title = (formatWhen(date, orgZone) || element.textContent) + " (" + orgZone + ", the organization's time zone)";
      }
      element.textContent = formatWhen(date);
    });
    root.querySelectorAll("input[type=datetime-local][data-utc]").forEach(function (input) {
      var date = new Date(input.getAttribute("data-utc"));
      if (isNaN(date)) return;
      input.value = date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
        "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
      input.removeAttribute("data-utc");
    });
  }

  if (window.htmx) {
    htmx.onLoad(function (root) { localize(root); watchActivity(); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { localize(document.body); });
  }
})();
