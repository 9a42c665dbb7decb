// The pop-up page of one manager: cards of their calls, live over
// Server-Sent Events, a call-back button on each card and a dial box.
// Vanilla JS; text goes in with textContent only.
"use strict";

(function () {
  const ext = document.body.dataset.ext;
  const base = "/m/" + encodeURIComponent(ext);
  const cards = document.getElementById("cards");
  const empty = document.getElementById("empty");
  const live = document.getElementById("live");
  const banner = document.getElementById("gap-banner");
  const dialForm = document.getElementById("dial");
  const dialPhone = document.getElementById("dial-phone");
  const dialStatus = document.getElementById("dial-status");

  const states = { ringing: "Ringing", answered: "Talking", ended: "Ended" };
  const dispositions = {
    answered: "answered", busy: "busy", cancel: "caller hung up",
    noanswer: "no answer", failed: "failed", unknown: "",
  };
  const directions = { in: "Incoming", out: "Outgoing", internal: "Internal", unknown: "Call" };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // render draws one card from the server's state of the call.
  function render(c) {
    const li = el("li", "card state-" + c.state);
    li.dataset.callId = c.call_id;
    li.dataset.state = c.state;

    const head = el("div", "card-head");
    head.append(el("span", "direction", directions[c.direction] || "Call"));
    head.append(el("span", "state", states[c.state] || c.state));
    li.append(head);

    const who = el("p", "customer" + (c.customer ? "" : " new"), c.customer || "New customer");
    li.append(who);
    li.append(el("p", "client", c.client || "number hidden"));

    const facts = el("dl", "facts");
    const fact = (k, v, title) => {
      if (!v) return;
      facts.append(el("dt", "", k));
      const dd = el("dd", "", v);
      if (title) dd.title = title;
      facts.append(dd);
    };
    fact("Line", c.line);
    fact("Started", c.started, c.started_full);
    fact("Answered", c.answered);
    fact("Ended", c.ended);
    fact("Outcome", c.state === "ended" ? dispositions[c.disposition || "unknown"] : "");
    fact("Talk", c.talk);
    li.append(facts);

    const actions = el("div", "actions");
    if (c.recording) {
      const a = el("a", "recording", "Recording");
      a.href = c.recording;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      actions.append(a);
    }
    if (c.client && c.client.startsWith("+")) {
      const b = el("button", "call-back", "Call back");
      b.type = "button";
      b.addEventListener("click", () => dial(c.client, b));
      actions.append(b);
    }
    li.append(actions);
    return li;
  }

  function upsert(c) {
    const fresh = render(c);
    const old = cards.querySelector('li[data-call-id="' + CSS.escape(c.call_id) + '"]');
    if (old) {
      const focused = old.contains(document.activeElement) && document.activeElement.className;
      old.replaceWith(fresh);
      if (focused) { // keep the keyboard where it was
        const again = fresh.querySelector("." + focused);
        if (again) again.focus();
      }
    } else {
      cards.prepend(fresh);
    }
    empty.hidden = true;
  }

  function showGap(g) {
    document.getElementById("gap-why").textContent = "At " + g.at + ": " + g.why + ".";
    banner.hidden = false;
  }
  document.getElementById("gap-close").addEventListener("click", () => {
    banner.hidden = true;
    dialPhone.focus();
  });

  // The stream: EventSource reconnects by itself and sends Last-Event-ID.
  const es = new EventSource(base + "/events");
  es.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
  es.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live off"; });
  es.addEventListener("call", (e) => upsert(JSON.parse(e.data)));
  es.addEventListener("gap", (e) => showGap(JSON.parse(e.data)));

  // dial asks the server to place the call once. The button stays off
  // while the request is out: one click, one call.
  async function dial(phone, button) {
    if (button) button.disabled = true;
    dialStatus.textContent = "Calling " + phone + "…";
    dialStatus.dataset.state = "calling";
    try {
      const resp = await fetch(base + "/call", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ phone: phone }),
      });
      const r = await resp.json();
      dialStatus.textContent = phone + ": " + r.message;
      dialStatus.dataset.state = r.state;
    } catch (err) {
      // The request may have reached the server: the call may be ringing.
      dialStatus.textContent = phone + ": the call may be ringing: the app did not answer. Check your phone before you call again.";
      dialStatus.dataset.state = "maybe";
    } finally {
      if (button) button.disabled = false;
    }
  }

  dialForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const phone = dialPhone.value.trim();
    if (phone) dial(phone, dialForm.querySelector("button"));
  });
})();
