// The officials' console: what every console page shares (app/web/README.md).
//   jp.api(method, path, body)  the JSON API with the session token; a refusal throws an Error
//                               whose message is the server's message_zh (never a raw code)
//   jp.act(event, fn)           runs fn once per tap: the button stays disabled until fn ends
//                               (also after an await, e.g. jp.confirm: the event keeps its target)
//   jp.confirm(sentence)        an irreversible action asks first, in one sentence
//   jp.download(path, file)     a PDF or export needing the token, saved or opened in this tab's session
//   jp.page(id, allowed)        the page's header, and whether this role may act here
// Loaded after /web/vocabulary.js (window.JP_ZH) and before Alpine (defer) and the page's script.
"use strict";
(function () {
  const KEY_SESSION = "jipiao.session";
  const ZH = window.JP_ZH || {};

  // Each role's pages, in the order they are shown; the first is where a login lands.
  const PAGES = {
    admin: [["/admin", "会务设置"], ["/rounds", "轮次控制"], ["/checkin", "签到台"], ["/count", "批次"], ["/dashboard", "看板"]],
    chief_teller: [["/count", "批次"], ["/tablet", "计票平板"]],
    teller: [["/tablet", "计票平板"]],
    chief_scrutineer: [["/scrutiny", "监票"], ["/dashboard", "看板"]],
    scrutineer: [["/scrutiny", "监票"], ["/dashboard", "看板"]],
    presidium: [["/presidium", "主席团"], ["/dashboard", "看板"], ["/projector", "大屏幕"]],
    auditor: [["/audit", "审计"]],
  };

  function session() {
    try { return JSON.parse(localStorage.getItem(KEY_SESSION) || "null"); } catch (e) { return null; }
  }

  function home(role) {
    const pages = PAGES[role];
    return pages ? pages[0][0] : "/";
  }

  class ApiError extends Error {
    constructor(message, status, body) {
      super(message);
      this.status = status;
      this.code = body && body.code; // for the page's logic only; never shown
      this.body = body || {};
    }
  }

  function loginAgain() {
    localStorage.removeItem(KEY_SESSION);
    location.assign("/?next=" + encodeURIComponent(location.pathname + location.search));
  }

  async function request(method, path, body, extra) {
    const s = session();
    const headers = Object.assign({}, (extra && extra.headers) || {});
    if (s) headers.Authorization = "Bearer " + s.token;
    let payload;
    if (body instanceof FormData || body instanceof Blob) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload });
    } catch (e) {
      throw new ApiError("无法连接服务器，请检查网络后再试（操作可能未完成，请刷新页面核对）", 0, null);
    }
    if (response.status === 401 && !(extra && extra.noRedirect)) {
      loginAgain();
      throw new ApiError("登录已失效，请重新登录", 401, null);
    }
    return response;
  }

  async function api(method, path, body, extra) {
    const response = await request(method, path, body, extra);
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const message = data && data.message_zh
        ? data.message_zh
        : response.status >= 500
          ? "服务器出错，操作未完成；请联系技术人员（" + response.status + "）"
          : "请求未被接受（" + response.status + "）";
      throw new ApiError(message, response.status, data);
    }
    return data;
  }

  // A tap runs its action once: the button is disabled until the answer is back, so a double tap
  // or an impatient second tap during a slow answer sends nothing twice.
  // The tapped button of `event` (an Event, or a button itself). After an `await` (e.g. the
  // confirmation) the event's currentTarget is gone, but its target and submitter remain.
  function buttonOf(event) {
    if (!event) return null;
    if (event instanceof Element) return event;
    if (event.submitter) return event.submitter;
    const current = event.currentTarget;
    if (current instanceof Element && current.matches("button, input[type=submit]")) return current;
    const target = event.target;
    return target instanceof Element ? target.closest("button, input[type=submit]") : null;
  }

  async function act(event, fn) {
    const button = buttonOf(event);
    if (button) {
      if (button.dataset.busy === "1") return undefined;
      button.dataset.busy = "1";
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
    try {
      return await fn();
    } finally {
      if (button) {
        delete button.dataset.busy;
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
    }
  }

  // One sentence that states the consequence; resolves true only on 确定.
  function confirm(sentence, okLabel) {
    return new Promise((resolve) => {
      const dialog = document.createElement("dialog");
      dialog.className = "confirm";
      dialog.setAttribute("aria-labelledby", "confirm-text");
      const text = document.createElement("p");
      text.id = "confirm-text";
      text.textContent = sentence;
      const row = document.createElement("div");
      row.className = "row";
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "btn";
      cancel.textContent = "取消";
      const ok = document.createElement("button");
      ok.type = "button";
      ok.className = "btn primary";
      ok.textContent = okLabel || "确定";
      row.append(cancel, ok);
      dialog.append(text, row);
      document.body.appendChild(dialog);
      const close = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
      cancel.addEventListener("click", () => close(false));
      ok.addEventListener("click", () => close(true));
      dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(false); });
      dialog.showModal();
      cancel.focus();
    });
  }

  // A PDF or export behind the token: fetched in this page's session, then saved under `file`
  // (or opened in a new tab when `file` is omitted).
  async function download(path, file) {
    const response = await request("GET", path);
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      throw new ApiError((data && data.message_zh) || "下载失败（" + response.status + "）", response.status, data);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    if (file) link.download = file;
    else link.target = "_blank";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function logout() {
    const s = session();
    const done = () => { localStorage.removeItem(KEY_SESSION); location.assign("/"); };
    if (!s) return done();
    api("POST", "/api/auth/logout", undefined, { noRedirect: true }).then(done, done);
  }

  // The header every console page shows; returns whether this role may act on page `id`
  // (a role opening another role's page sees why, and no actions).
  function page(id, allowed) {
    const s = session();
    if (!s) {
      loginAgain();
      return { session: null, allowed: false };
    }
    const bar = document.querySelector("header.topbar");
    if (bar) {
      const nav = bar.querySelector("nav");
      for (const [href, label] of PAGES[s.role] || []) {
        const link = document.createElement("a");
        link.href = href;
        link.textContent = label;
        if (href === id) link.setAttribute("aria-current", "page");
        nav.appendChild(link);
      }
      bar.querySelector(".who").textContent = s.name + " · " + (ZH.role[s.role] || "");
      bar.querySelector(".logout").addEventListener("click", logout);
    }
    const may = allowed.includes(s.role);
    if (!may) {
      const main = document.querySelector("main");
      const note = document.createElement("p");
      note.className = "status bad";
      note.setAttribute("role", "alert");
      note.textContent = "此页面不属于您的职责（" + (ZH.role[s.role] || "") + "），页面只供查看，不能操作。请回到：" +
        (PAGES[s.role] || []).map((p) => p[1]).join("、");
      main.prepend(note);
    }
    return { session: s, allowed: may };
  }

  function zh(kind, key) {
    const words = ZH[kind] || {};
    return words[key] || "—";
  }

  // The congress this page works on: ?congress= in the address, else the official's own.
  function congressId() {
    const q = new URLSearchParams(location.search).get("congress");
    if (q) return Number(q);
    const s = session();
    return s && s.congress_id ? s.congress_id : null;
  }

  window.jp = { api, act, confirm, download, page, session, home, zh, congressId, logout, PAGES, KEY_SESSION, ApiError };
})();
