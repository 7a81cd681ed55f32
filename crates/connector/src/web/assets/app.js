// ttwc pages: forms become JSON actions carrying the session's CSRF token.
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const texts = JSON.parse(($("#texts") || {}).textContent || "{}");
  let csrf = ($("meta[name=csrf]") || {}).content || "";

  function showError(message, field) {
    const box = $("#error");
    box.textContent = message;
    box.hidden = !message;
    $$("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    if (field) {
      const input = $$(`[name="${field}"]`).find((el) => el.offsetParent !== null);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }
  }

  async function call(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": csrf },
        body: method === "GET" ? undefined : JSON.stringify(body || {}),
      });
    } catch (e) {
      throw { message: texts.network_error };
    }
    let data = {};
    try {
      data = await response.json();
    } catch (e) {
      data = {};
    }
    if (!response.ok) {
      throw { message: data.error || texts.network_error, field: data.field, status: response.status };
    }
    if (data.csrf) csrf = data.csrf;
    return data;
  }

  // Disables the form's buttons while an action runs, so a double click posts once.
  async function busy(form, work) {
    const buttons = $$("button", form);
    buttons.forEach((b) => (b.disabled = true));
    const submit = $("button[type=submit]", form);
    const label = submit ? submit.textContent : "";
    if (submit) submit.textContent = texts.working;
    showError("");
    try {
      return await work();
    } catch (e) {
      showError(e.message || String(e), e.field);
      // On the wizard a conflict means the steps moved on elsewhere: show where they stand.
      if (e.status === 409 && document.body.dataset.page === "connect") await refresh();
      return null;
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      if (submit) submit.textContent = label;
    }
  }

  function formData(form) {
    const data = {};
    $$("input, select", form).forEach((el) => {
      if (!el.name) return;
      if (el.type === "checkbox") data[el.name] = el.checked;
      else if (el.type === "radio") {
        if (el.checked) data[el.name] = el.value;
      } else data[el.name] = el.value;
    });
    return data;
  }

  // ---- The wizard ----

  function showStep(state) {
    $$("#wizard .step").forEach((s) => (s.hidden = s.dataset.step !== state.step));
    if (state.tenant_name) {
      const t = $("#step-login .tenant");
      if (t) t.textContent = `${state.tenant_name} — ${state.store_url}`;
    }
    if (state.step === "store") {
      const list = $("#store-list");
      list.textContent = "";
      (state.stores || []).forEach((s, i) => {
        const label = document.createElement("label");
        label.className = "choice";
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "store_id";
        input.value = String(s.id);
        input.id = `store-${s.id}`;
        if (i === 0) input.checked = true;
        label.append(input, ` ${s.name}`);
        if (s.address) {
          const small = document.createElement("small");
          small.textContent = s.address;
          label.append(small);
        }
        list.append(label);
      });
    }
    if (state.step === "keys" && state.authorize_url) {
      $("#authorize").href = state.authorize_url;
    }
    if (state.step === "done" && state.connection) {
      $("#step-done .store").textContent = state.connection.store_url;
    }
  }

  async function refresh() {
    const state = await call("GET", "/api/wizard");
    showStep(state);
    return state;
  }

  function wizard() {
    $("#start-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(ev.target, async () => showStep(await call("POST", "/api/wizard/start", formData(ev.target))));
    });
    $("#login-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(ev.target, async () => {
        const state = await call("POST", "/api/wizard/login", formData(ev.target));
        $("#password").value = "";
        showStep(state);
      });
    });
    // Answers "keys" (approve in WooCommerce) or, when the same account reconnects a store whose
    // keys still work, "done" at once: showStep shows either.
    $("#store-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(ev.target, async () => showStep(await call("POST", "/api/wizard/store", formData(ev.target))));
    });
    $("#keys-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(ev.target, async () => showStep(await call("POST", "/api/wizard/keys", formData(ev.target))));
    });
    $("#restart").addEventListener("click", async () => {
      showError("");
      try {
        showStep(await call("POST", "/api/wizard/reset", {}));
      } catch (e) {
        showError(e.message);
      }
    });

    const wcauth = $("#wizard").dataset.wcauth;
    refresh()
      .then((state) => {
        if (state.step !== "keys") return;
        if (wcauth === "ok") {
          $("#keys-status").textContent = texts.keys_received;
          busy($("#keys-form"), async () => showStep(await call("POST", "/api/wizard/keys", {})));
        } else if (wcauth === "denied") {
          showError(texts.wcauth_denied);
        }
      })
      .catch((e) => showError(e.message));
    // The authorize link needs the URL the store step returned; ask again if it is missing.
    $("#authorize").addEventListener("click", async (ev) => {
      if ($("#authorize").getAttribute("href") !== "#") return;
      ev.preventDefault();
      const chosen = $("#store-list input:checked");
      if (!chosen) return;
      try {
        const state = await call("POST", "/api/wizard/store", { store_id: chosen.value });
        // The same account reconnecting with keys that still work is done without wc-auth.
        if (state.step === "done") showStep(state);
        else window.location.href = state.authorize_url;
      } catch (e) {
        showError(e.message);
      }
    });
  }

  // ---- Home and dashboard ----

  function home() {
    const signIn = $("#sign-in-form");
    if (signIn) {
      signIn.addEventListener("submit", (ev) => {
        ev.preventDefault();
        busy(ev.target, async () => {
          await call("POST", "/api/session/login", formData(ev.target));
          window.location.reload();
        });
      });
    }
    $$(".connection").forEach((card) => {
      const id = card.dataset.id;
      const form = $(".settings-form", card);
      if (form) {
        form.addEventListener("submit", (ev) => {
          ev.preventDefault();
          busy(form, async () => {
            await call("POST", `/api/connections/${encodeURIComponent(id)}/settings`, formData(form));
            $(".saved", form).textContent = texts.saved;
          });
        });
      }
      const backfill = $(".backfill-form", card);
      const progress = $(".backfill-progress", card);
      if (backfill && progress) {
        backfill.addEventListener("submit", (ev) => {
          ev.preventDefault();
          busy(backfill, async () => {
            await call("POST", `/api/connections/${encodeURIComponent(id)}/backfill`, formData(backfill));
            progress.textContent = texts.backfill_running;
            follow(id, progress);
          });
        });
        // A backfill that was running when the page loaded keeps being followed.
        if (progress.dataset.running === "true") follow(id, progress);
      }
      const button = $(".disconnect", card);
      if (button) {
        button.addEventListener("click", () => {
          if (!window.confirm(texts.disconnect_confirm)) return;
          busy(card, async () => {
            await call("POST", `/api/connections/${encodeURIComponent(id)}/disconnect`, { confirm: true });
            window.location.reload();
          });
        });
      }
    });
  }

  function backfillLine(status) {
    // Worded by the server: plurals and number formats in the page's language.
    const counts = status.counts;
    if (status.running) return `${texts.backfill_running} ${counts}`;
    if (status.error) return `${texts.backfill_failed} ${status.error} (${counts})`;
    return `${texts.backfill_done} ${counts}`;
  }

  // Polls a connection's backfill every second until it stops, writing its progress.
  function follow(id, progress) {
    const form = progress.closest(".backfill") || progress.parentElement;
    const submit = $(".backfill-form button[type=submit]", form);
    if (submit) submit.disabled = true;
    const tick = async () => {
      let status;
      try {
        status = await call("GET", `/api/connections/${encodeURIComponent(id)}/backfill`);
      } catch (e) {
        showError(e.message);
        if (submit) submit.disabled = false;
        return;
      }
      progress.textContent = backfillLine(status);
      progress.dataset.running = String(status.running);
      if (status.running) {
        window.setTimeout(tick, 1000);
      } else if (submit) {
        submit.disabled = false;
      }
    };
    tick();
  }

  // ---- A connection's orders ----

  function orders() {
    const section = $("#orders");
    if (!section) return;
    const path = `/api/connections/${encodeURIComponent(section.dataset.id)}/resend`;
    $$("button.resend", section).forEach((button) => {
      button.addEventListener("click", () => {
        const row = button.closest("tr");
        busy(row, async () => {
          await call("POST", path, { order_id: Number(button.dataset.order) });
          window.location.reload();
        });
      });
    });
    const all = $("#resend-all");
    if (all) {
      all.addEventListener("click", () => {
        if (!window.confirm(texts.resend_all_confirm)) return;
        busy(all.parentElement, async () => {
          const done = await call("POST", path, { all: true });
          $("#orders-status").textContent = `${texts.resent} ${done.queued}`;
          if (done.queued > 0) window.location.reload();
        });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const signOut = $("#sign-out");
    if (signOut) {
      signOut.addEventListener("click", async () => {
        try {
          await call("POST", "/api/session/logout", {});
        } finally {
          window.location.href = "/";
        }
      });
    }
    const page = document.body.dataset.page;
    if (page === "connect") wizard();
    else if (page === "orders") orders();
    else home();
  });
})();
