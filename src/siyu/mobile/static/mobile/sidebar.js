// The staff sidebar inside WeCom: register the page with the JS-SDK (`ww`, from @wecom/jssdk,
// or the twin's stand-in), find the chat that is open, and put scripts into it.
(function () {
  "use strict";
  var body = document.body;
  var status = document.querySelector("[data-sdk-status]");
  var registered = null;

  function say(text) {
    if (status) { status.textContent = text || ""; }
  }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function register() {
    if (registered) { return registered; }
    if (!window.ww) { return Promise.reject(new Error("no JS-SDK")); }
    var url = location.href.split("#")[0];
    registered = fetch(body.dataset.signatureUrl + "?url=" + encodeURIComponent(url), {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error("signature " + r.status); } return r.json(); })
      .then(function (cfg) {
        window.ww.register({
          corpId: cfg.corpId,
          agentId: cfg.agentId,
          jsApiList: ["getCurExternalContact", "getCurExternalChat", "sendChatMessage"],
          getAgentConfigSignature: function () {
            return {timestamp: cfg.timestamp, nonceStr: cfg.nonceStr, signature: cfg.signature};
          }
        });
        return cfg;
      });
    return registered;
  }

  var entry = document.querySelector("[data-entry]");
  if (entry) {
    say(entry.dataset.looking);
    register()
      .then(function () { return window.ww.getCurExternalContact(); })
      .then(function (res) { location.replace(entry.dataset.customerBase + encodeURIComponent(res.userId) + "/"); })
      .catch(function () {
        return register()
          .then(function () { return window.ww.getCurExternalChat(); })
          .then(function (res) { location.replace(entry.dataset.groupBase + encodeURIComponent(res.chatId) + "/"); })
          .catch(function () { say(entry.dataset.outside); });
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-send]");
    if (!button) { return; }
    button.disabled = true;
    register()
      .then(function () {
        return window.ww.sendChatMessage({msgtype: "text", text: {content: button.dataset.send}});
      })
      .then(function () {
        button.textContent = button.dataset.sentLabel;
        return fetch(button.dataset.record, {method: "POST", credentials: "same-origin",
                                            headers: {"X-CSRFToken": csrf()}});
      })
      .catch(function () {
        button.disabled = false;
        say(button.dataset.failedLabel);
      });
  });
})();
