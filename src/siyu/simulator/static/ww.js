/*
 * The WeCom twin's stand-in for the WeCom JS-SDK (the npm package @wecom/jssdk), so a chat
 * sidebar (聊天工具栏) page runs in a desktop or test browser against the twin.
 * Hand-written for the twin; it contains no code of the official SDK.
 *
 * The shape is the official one: `ww.register({corpId, agentId, jsApiList,
 * getAgentConfigSignature})`, then calls that return promises (and also take success / fail /
 * complete callbacks). Before the first call the agentConfig signature of this page's URL is
 * checked by the twin (POST /twin/jssdk/verify); a call outside `jsApiList` fails with
 * "no permission". Failures reject with {errMsg: "<api>:fail ..."}.
 */
(function (global) {
  "use strict";

  var script = document.currentScript;
  var TWIN = script ? new URL(script.src, global.location.href).origin : global.location.origin;
  var settings = null;
  var session = null; // a promise of the twin's session for the verified agentConfig

  function failure(api, reason) {
    return { errMsg: api + ":fail " + reason };
  }

  function asFailure(api, error) {
    if (error && typeof error.errMsg === "string") {
      // A failed agentConfig fails the call that needed it: "<api>:fail agentConfig:fail ...".
      return error.errMsg.indexOf(api + ":") === 0 ? error : failure(api, error.errMsg);
    }
    return failure(api, (error && error.message) || String(error));
  }

  function post(path, body) {
    return global
      .fetch(TWIN + path, {
        method: "POST",
        credentials: "include",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) {
            throw data;
          }
          return data;
        });
      });
  }

  function pageUrl() {
    return global.location.href.split("#")[0];
  }

  function agentConfig() {
    if (!settings) {
      return Promise.reject(failure("agentConfig", "ww.register has not been called"));
    }
    if (!session) {
      var config = settings;
      var url = pageUrl();
      session = Promise.resolve()
        .then(function () {
          if (typeof config.getAgentConfigSignature !== "function") {
            throw failure("agentConfig", "getAgentConfigSignature is required");
          }
          return config.getAgentConfigSignature(url);
        })
        .then(function (signed) {
          return post("/twin/jssdk/verify", {
            url: url,
            timestamp: String(signed.timestamp),
            nonceStr: signed.nonceStr,
            signature: signed.signature,
            corpId: config.corpId,
            agentId: String(config.agentId),
          });
        })
        .then(
          function (answer) {
            if (config.onAgentConfigSuccess) config.onAgentConfigSuccess({ errMsg: "agentConfig:ok" });
            if (config.onAgentConfigComplete) config.onAgentConfigComplete({ errMsg: "agentConfig:ok" });
            return answer.session;
          },
          function (error) {
            var refused = asFailure("agentConfig", error);
            session = null; // a later call signs again
            if (config.onAgentConfigFail) config.onAgentConfigFail(refused);
            if (config.onAgentConfigComplete) config.onAgentConfigComplete(refused);
            throw refused;
          }
        );
    }
    return session;
  }

  function call(api, params) {
    params = params || {};
    var args = {};
    Object.keys(params).forEach(function (key) {
      if (key !== "success" && key !== "fail" && key !== "complete") args[key] = params[key];
    });
    var done;
    if (!settings) {
      done = Promise.reject(failure(api, "ww.register has not been called"));
    } else if ((settings.jsApiList || []).indexOf(api) < 0) {
      done = Promise.reject(failure(api, "no permission"));
    } else {
      done = agentConfig().then(function (token) {
        return post("/twin/jssdk/call", { session: token, api: api, args: args });
      });
    }
    var answered = done.then(
      function (answer) {
        var result = answer.result || {};
        result.errMsg = api + ":ok";
        return result;
      },
      function (error) {
        throw asFailure(api, error);
      }
    );
    answered.then(
      function (result) {
        if (params.success) params.success(result);
        if (params.complete) params.complete(result);
      },
      function (error) {
        if (params.fail) params.fail(error);
        if (params.complete) params.complete(error);
      }
    );
    return answered;
  }

  global.ww = {
    SDK_VERSION: "twin",
    register: function (options) {
      settings = options || {};
      session = null;
      // The official SDK signs as soon as it is registered; so does the stand-in.
      agentConfig().catch(function () {});
    },
    getContext: function (params) {
      return call("getContext", params);
    },
    getCurExternalContact: function (params) {
      return call("getCurExternalContact", params);
    },
    getCurExternalChat: function (params) {
      return call("getCurExternalChat", params);
    },
    sendChatMessage: function (params) {
      return call("sendChatMessage", params);
    },
  };
})(window);
