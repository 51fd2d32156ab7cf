// The welcome-message editor of a channel code (channels/_welcome_editor.html): variable
// buttons, a content template to start from, the byte and attachment counters, attachment rows
// by kind, picture uploads, the phone preview and the persona voice check beside it (asked of
// the server as the text settles). Plain JS: the page's CSP allows no inline handlers.
(function () {
  "use strict";

  function init() {
    var root = document.querySelector("[data-welcome-editor]");
    var dataNode = document.getElementById("welcome-editor-data");
    if (!root || !dataNode) return;
    var data = JSON.parse(dataNode.textContent);
    var form = root.closest("form");
    var text = root.querySelector("[data-welcome-text]");
    var list = root.querySelector("[data-attachment-list]");
    var template = root.querySelector("[data-attachment-template]");
    var total = form.querySelector("[name=attachments-TOTAL_FORMS]");
    var byteCounter = root.querySelector("[data-byte-counter]");
    var attachmentCounter = root.querySelector("[data-attachment-counter]");
    var byteProblem = root.querySelector("[data-byte-problem]");
    var attachmentProblem = root.querySelector("[data-attachment-problem]");
    var senderInput = root.querySelector("[data-sender-input]");
    var encoder = new TextEncoder();
    var words = data.words;

    function rows() { return Array.prototype.slice.call(list.querySelectorAll("[data-attachment]")); }
    function kindOf(row) { return row.querySelector("[data-attachment-kind]").value; }
    function field(row, name) { return row.querySelector("[data-field=" + name + "]"); }
    function value(row, name) { var input = field(row, name); return input ? input.value.trim() : ""; }
    function liveRows() { return rows().filter(function (row) { return kindOf(row) !== ""; }); }

    // --- the sending account: the first regular seat of the code, as routing would choose ---
    function sender() {
      var selects = form.querySelectorAll("select[name^=seats-][name$=-account]");
      for (var i = 0; i < selects.length; i++) {
        var row = selects[i].closest("tr");
        var backup = row && row.querySelector("input[name$=-is_backup]");
        if (selects[i].value && !(backup && backup.checked) && data.senders[selects[i].value]) {
          return selects[i].value;
        }
      }
      return data.defaultSender ? String(data.defaultSender) : "";
    }

    function samples(senderId) {
      var who = data.senders[senderId] || {};
      var welfare = form.querySelector("[name=welfare]");
      return {
        customer_nickname: data.sampleNickname,
        persona_name: who.persona || "",
        staff_name: who.staff || "",
        welfare: (welfare && data.welfare[welfare.value]) || ""
      };
    }

    function fill(message, values) {
      return message.replace(/\{(\w+)\}/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
      });
    }

    // --- counters: bytes in UTF-8 as WeCom counts them, and attachments ---
    function counters() {
      var bytes = encoder.encode(text.value.trim()).length;
      var over = bytes > data.maxBytes;
      byteCounter.textContent = bytes + " / " + data.maxBytes + " " + words.bytes;
      byteCounter.classList.toggle("is-over", over);
      byteProblem.hidden = !over;
      text.classList.toggle("is-invalid", over);
      var count = liveRows().length;
      var tooMany = count > data.maxAttachments;
      attachmentCounter.textContent = count + " / " + data.maxAttachments + " " + words.attachments;
      attachmentCounter.classList.toggle("is-over", tooMany);
      attachmentProblem.hidden = !tooMany;
      root.querySelectorAll("[data-add-attachment]").forEach(function (button) {
        button.disabled = count >= data.maxAttachments;
      });
      return !(over || tooMany);
    }

    // --- attachment rows ---
    function showFields(row) {
      var kind = kindOf(row);
      row.dataset.kind = kind;
      row.querySelectorAll("[data-show-for]").forEach(function (part) {
        part.hidden = part.dataset.showFor.split(" ").indexOf(kind) < 0;
      });
      var thumb = row.querySelector("[data-picture-thumb]");
      var file = value(row, "file");
      if (thumb) {
        thumb.hidden = !file;
        if (file) thumb.src = data.pictureUrl + "?name=" + encodeURIComponent(file);
      }
    }

    function number() {
      liveRows().forEach(function (row, index) {
        row.querySelector("[data-attachment-number]").textContent = "#" + (index + 1);
      });
    }

    function addRow(kind) {
      if (liveRows().length >= data.maxAttachments) return;
      // Reuse a removed row before growing the formset.
      var row = rows().filter(function (r) { return kindOf(r) === ""; })[0];
      if (!row) {
        var index = parseInt(total.value, 10) || 0;
        var holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
        row = holder.firstElementChild;
        list.appendChild(row);
        total.value = String(index + 1);
      }
      row.querySelectorAll("input, select").forEach(function (input) {
        if (input.type !== "file") input.value = "";
      });
      row.querySelector("[data-attachment-kind]").value = kind;
      row.hidden = false;
      showFields(row);
      refresh();
      var first = row.querySelector("[data-show-for]:not([hidden]) input:not([type=hidden])");
      if (first) first.focus();
    }

    function removeRow(row) {
      // An empty kind leaves the row out when the form is saved (forms.AttachmentForm.to_item).
      row.querySelector("[data-attachment-kind]").value = "";
      row.hidden = true;
      refresh();
    }

    function upload(row, input) {
      var status = row.querySelector("[data-picture-status]");
      var chosen = input.files && input.files[0];
      if (!chosen) return;
      var body = new FormData();
      body.append("file", chosen);
      var token = form.querySelector("[name=csrfmiddlewaretoken]");
      status.classList.remove("text-danger");
      status.textContent = words.uploading;
      fetch(root.dataset.uploadUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" }
      }).then(function (response) {
        return response.json().catch(function () { return { errors: [words.failed + " (" + response.status + ")"] }; });
      }).then(function (answer) {
        if (answer.errors) {
          status.classList.add("text-danger");
          status.textContent = answer.errors.join(" ");
          return;
        }
        field(row, "file").value = answer.file;
        field(row, "media_id").value = answer.media_id;
        field(row, "media_at").value = answer.media_at;
        status.textContent = words.uploaded;
        showFields(row);
        refresh();
      }).catch(function () {
        status.classList.add("text-danger");
        status.textContent = words.failed;
      });
    }

    // --- the preview ---
    function element(tag, className, content) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (content) node.textContent = content;
      return node;
    }

    function host(address) {
      try { return new URL(address).host; } catch (e) { return address; }
    }

    function avatar(senderId) {
      var who = data.senders[senderId] || {};
      var node = element("span", "welcome-avatar");
      node.setAttribute("aria-hidden", "true");
      if (who.avatar) {
        var img = element("img");
        img.src = who.avatar;
        img.alt = "";
        node.appendChild(img);
      } else {
        node.textContent = (who.persona || who.staff || "?").slice(0, 1);
      }
      return node;
    }

    function preview() {
      var senderId = sender();
      if (senderInput) senderInput.value = senderId;
      var who = data.senders[senderId] || {};
      root.querySelector("[data-preview-title]").textContent = who.persona || who.staff || "";
      var values = samples(senderId);
      var bubble = root.querySelector("[data-preview-text]");
      var filled = fill(text.value.trim(), values);
      bubble.textContent = filled;
      var textRow = root.querySelector("[data-preview-text-row]");
      textRow.hidden = !filled;
      textRow.replaceChild(avatar(senderId), textRow.querySelector(".welcome-avatar"));
      var box = root.querySelector("[data-preview-attachments]");
      box.textContent = "";
      liveRows().forEach(function (row) {
        var kind = kindOf(row);
        var line = element("div", "welcome-row");
        line.appendChild(avatar(senderId));
        var card;
        if (kind === "image") {
          card = element("div", "welcome-image");
          var file = value(row, "file");
          if (file) {
            var img = element("img");
            img.src = data.pictureUrl + "?name=" + encodeURIComponent(file);
            img.alt = "";
            card.appendChild(img);
          } else {
            // The page may load no picture from other sites (CSP), so a web picture is named.
            card.appendChild(element("span", "welcome-placeholder",
              value(row, "picture") ? words.webImage + " · " + host(value(row, "picture")) : words.noPicture));
          }
        } else if (kind === "link") {
          card = element("div", "welcome-card welcome-link");
          card.appendChild(element("div", "welcome-card-title", value(row, "title") || host(value(row, "url"))));
          var body = element("div", "welcome-link-body");
          body.appendChild(element("div", "welcome-card-desc", value(row, "description") || value(row, "url")));
          body.appendChild(element("span", "welcome-cover", value(row, "picture") ? words.cover : ""));
          card.appendChild(body);
        } else if (kind === "miniprogram") {
          card = element("div", "welcome-card welcome-mini");
          card.appendChild(element("div", "welcome-mini-app small", value(row, "appid") || words.miniprogram));
          card.appendChild(element("div", "welcome-card-title", value(row, "title")));
          var cover = element("div", "welcome-mini-cover");
          if (value(row, "file")) {
            var pic = element("img");
            pic.src = data.pictureUrl + "?name=" + encodeURIComponent(value(row, "file"));
            pic.alt = "";
            cover.appendChild(pic);
          } else {
            cover.appendChild(element("span", "welcome-placeholder", words.noPicture));
          }
          card.appendChild(cover);
          card.appendChild(element("div", "welcome-mini-foot small", words.miniprogram));
        } else {
          card = element("div", "welcome-card", kind);
        }
        card.dataset.previewKind = kind;
        line.appendChild(card);
        box.appendChild(line);
      });
    }

    // --- the persona voice check: asked of the server once typing pauses ---
    var voice = root.querySelector("[data-voice-check]");
    var voiceTimer = null;
    var voiceAsked = 0;

    function format(message, values) {
      return message.replace(/%\((\w+)\)s/g, function (whole, name) { return values[name]; });
    }

    function showVoice(answer) {
      voice.querySelector("[data-voice-title]").textContent =
        answer.persona ? format(words.voiceOf, { persona: answer.persona }) : words.noPersona;
      var parts = [];
      if (answer.toneMarkers.length) parts.push(words.toneMarkers + ": " + answer.toneMarkers.join(" "));
      if (answer.forbiddenWords.length) parts.push(words.forbiddenWords + ": " + answer.forbiddenWords.join("、"));
      voice.querySelector("[data-voice-words]").textContent = parts.join(" · ");
      var items = voice.querySelector("[data-voice-findings]");
      items.textContent = "";
      answer.findings.forEach(function (finding) {
        var item = element("li", "is-" + finding.level,
          finding.sentence ? finding.message + " “" + finding.sentence + "”" : finding.message);
        item.dataset.finding = finding.code;
        items.appendChild(item);
      });
      if (!answer.findings.length) items.appendChild(element("li", "is-fine", words.voiceFine));
      voice.dataset.checked = String(voiceAsked);
    }

    function checkVoice() {
      if (!voice) return;
      var body = new FormData();
      body.append("text", text.value);
      body.append("sender", sender());
      body.append("attachments", String(liveRows().length));
      var token = form.querySelector("[name=csrfmiddlewaretoken]");
      var asked = ++voiceAsked;
      fetch(data.voiceUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" }
      }).then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer && asked === voiceAsked) showVoice(answer); })
        .catch(function () { /* the next edit asks again */ });
    }

    function laterVoice() {
      clearTimeout(voiceTimer);
      voiceTimer = setTimeout(checkVoice, 300);
    }

    // --- a content template to start from: its text, variables kept for the welcome to fill ---
    var picker = root.querySelector("[data-template-picker]");
    function useTemplate() {
      var chosen = data.templates[picker.value];
      var note = root.querySelector("[data-template-note]");
      note.textContent = "";
      note.classList.remove("text-danger");
      if (!chosen) return;
      text.value = chosen.text;
      note.appendChild(document.createTextNode(format(words.filled, { name: chosen.name }) + " "));
      if (chosen.unfillable.length) {
        // Variable names are code, not prose: shown as such around the translated sentence.
        var parts = words.unfillable.split("%(names)s");
        note.appendChild(document.createTextNode(parts[0]));
        chosen.unfillable.forEach(function (name, index) {
          if (index) note.appendChild(document.createTextNode("、"));
          note.appendChild(element("code", "", "{" + name + "}"));
        });
        note.appendChild(document.createTextNode((parts[1] || "") + " "));
        note.classList.add("text-danger");
      }
      if (chosen.materials) note.appendChild(document.createTextNode(format(words.materials, { n: chosen.materials })));
      refresh();
    }

    function refresh() {
      counters();
      number();
      preview();
      laterVoice();
    }

    // --- wiring ---
    root.querySelectorAll("[data-insert-variable]").forEach(function (button) {
      button.addEventListener("click", function () {
        var token = "{" + button.dataset.insertVariable + "}";
        var start = text.selectionStart, end = text.selectionEnd;
        text.setRangeText(token, start, end, "end");
        text.focus();
        refresh();
      });
    });
    root.querySelectorAll("[data-add-attachment]").forEach(function (button) {
      button.addEventListener("click", function () { addRow(button.dataset.addAttachment); });
    });
    list.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove-attachment]");
      if (remove) removeRow(remove.closest("[data-attachment]"));
    });
    list.addEventListener("change", function (event) {
      var row = event.target.closest("[data-attachment]");
      if (!row) return;
      if (event.target.matches("[data-picture-input]")) upload(row, event.target);
      if (event.target.matches("[data-attachment-kind]")) showFields(row);
      refresh();
    });
    text.addEventListener("input", function () {
      // Once the text is no longer the template's, its note is stale: the picker starts over.
      if (picker && data.templates[picker.value] && data.templates[picker.value].text !== text.value) {
        picker.value = "";
        var note = root.querySelector("[data-template-note]");
        note.textContent = "";
        note.classList.remove("text-danger");
      }
      refresh();
    });
    if (picker) picker.addEventListener("change", useTemplate);
    list.addEventListener("input", preview);
    form.addEventListener("change", function (event) {
      if (!root.contains(event.target)) { preview(); laterVoice(); }  // a seat or the welfare changed
    });
    form.addEventListener("submit", function (event) {
      if (!counters()) {
        event.preventDefault();
        (byteProblem.hidden ? attachmentProblem : byteProblem).scrollIntoView({ block: "center" });
      }
    });
    rows().forEach(showFields);
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
