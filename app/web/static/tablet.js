// The teller's tablet (计票平板): log in, choose my batch, enter paper after paper.
//
// Offline tolerance (PRODUCT.md): a submitted paper is first written to the tablet's queue in
// localStorage, with an idempotency key made once, when the paper is submitted locally; the queue
// is then sent in order, one paper at a time, reusing that key on every retry, so the server
// records each paper exactly once however often a request is repeated. Nothing leaves the queue
// until the server has answered for it. A reload (even offline) finds the queue where it was.
"use strict";
(function () {
  const KEY_SESSION = "jipiao.session";
  const KEY_QUEUE = "jipiao.queue";
  const KEY_REJECTED = "jipiao.rejected";
  const KEY_BATCH = "jipiao.batch";
  const KEY_PROGRESS = "jipiao.progress.";
  const KEY_ROUND = "jipiao.round.";
  const KEY_QR = "jipiao.qr.";
  // After a failed send, the next try comes 2–6 s later, at random: tablets cut off by the same
  // Wi-Fi outage would otherwise all come back in the same instant, every 4 s, in lockstep.
  const RETRY_MS = 4000;
  const retryDelay = () => RETRY_MS * (0.5 + Math.random());

  // The words come from the server (/web/vocabulary.js, app/rules/words.py): one wording for the
  // tablet, the API's messages and the result report.
  const ZH = window.JP_ZH || {};
  // What a teller can tap per candidate; not tapping leaves it blank (P5).
  const MARKS = ["yes", "no", "abstain", "unclear"].map((mark) => ({
    mark,
    symbol: (ZH.mark_glyph || {})[mark] || "",
    label: (ZH.mark_word || {})[mark] || "",
  }));
  const reasonOf = (rule) => (ZH.invalid_rule || {})[rule] || "";
  const voidLabel = (rule) => `${rule} ${reasonOf(rule)}`;

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------ storage

  function load(key, fallback) {
    try {
      const text = localStorage.getItem(key);
      return text === null ? fallback : JSON.parse(text);
    } catch (e) {
      return fallback;
    }
  }
  function save(key, value) {
    localStorage.setItem(key, JSON.stringify(value));
  }
  const queue = () => load(KEY_QUEUE, []);

  function uuid4() {
    if (window.crypto && crypto.randomUUID && window.isSecureContext) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16)); // available without https too
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ------------------------------------------------------------ HTTP

  class Offline extends Error {}

  async function api(method, path, body) {
    const session = load(KEY_SESSION, null);
    const headers = { Accept: "application/json" };
    if (session) headers.Authorization = "Bearer " + session.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (e) {
      setNet(false);
      throw new Offline(String(e));
    }
    setNet(true);
    const data = await response.json().catch(() => ({}));
    return { status: response.status, ok: response.ok, data, token: session ? session.token : null };
  }

  function errorText(result) {
    const d = result.data || {};
    return d.message_zh || `请求失败（${result.status}）`;
  }

  // ------------------------------------------------------------ state

  const state = {
    session: null,
    batch: null, // {batch_id, round_id, pass, title, declared_count}
    round: null, // {id, candidates, kind, seats, election_id}
    marks: {},
    writeIns: [],
    void: null,
    scan: null, // {payload, ok}
    flushing: false,
    lastKey: null,
    lastSummary: "",
    cooldownUntil: 0,
    unsure: new Set(), // candidates whose proposed mark (photo mode) the teller has not touched
    writeInsRead: null, // photo mode: {written, unclear} write-in boxes, for the submit's check
  };

  // ------------------------------------------------------------ top bar

  function setNet(online) {
    const net = $("net");
    const now = online ? "online" : "offline";
    if (net.dataset.state === now) return;
    net.dataset.state = now;
    net.textContent = online ? "在线" : "离线";
  }

  function renderUnsent() {
    const n = queue().length;
    const el = $("unsent");
    el.hidden = n === 0;
    el.textContent = `未上传 ${n} 张`;
    renderProgress();
  }

  function show(screen) {
    for (const id of ["screen-login", "screen-batches", "screen-entry"]) $(id).hidden = id !== screen;
    const session = state.session;
    $("logout").hidden = !session;
    $("who").textContent = session ? `${session.role_zh || ""} ${session.name || ""}` : "";
    if (screen !== "screen-entry" && window.JipiaoScanner) JipiaoScanner.stop();
  }

  // ------------------------------------------------------------ 1. login

  function codeFrom(text) {
    const trimmed = text.trim();
    try {
      const url = new URL(trimmed);
      const code = url.searchParams.get("code");
      if (code) return code;
    } catch (e) {
      /* not a URL: the code itself */
    }
    return trimmed;
  }

  async function logIn(text) {
    const code = codeFrom(text);
    $("login-error").textContent = "";
    if (!code) return;
    let result;
    try {
      result = await api("POST", "/api/auth/login", { code });
    } catch (e) {
      $("login-error").textContent = "无法连接服务器，请检查网络。";
      return;
    }
    if (!result.ok) {
      $("login-error").textContent = errorText(result);
      return;
    }
    JipiaoScanner.stop();
    $("login-video").hidden = true;
    save(KEY_SESSION, result.data);
    state.session = result.data;
    showBatches();
  }

  function startLogin() {
    show("screen-login");
    $("login-code").value = "";
  }

  // ------------------------------------------------------------ 2. batches

  async function showBatches() {
    show("screen-batches");
    const list = $("batch-list");
    $("batches-error").textContent = "";
    list.textContent = "正在读取……";
    const me = state.session.official_id;
    const found = [];
    try {
      const elections = await api("GET", `/api/congresses/${state.session.congress_id}/elections`);
      if (elections.status === 401) return sessionExpired(elections.token);
      if (!elections.ok) throw new Error(errorText(elections));
      for (const election of listOf(elections.data, "elections")) {
        const rounds = await api("GET", `/api/elections/${election.id}/rounds`);
        if (!rounds.ok) continue;
        for (const round of listOf(rounds.data, "rounds")) {
          const batches = await api("GET", `/api/rounds/${round.id}/batches`);
          if (!batches.ok) continue;
          for (const batch of listOf(batches.data, "batches")) {
            const pass = batch.teller_a_id === me ? "a" : batch.teller_b_id === me ? "b" : null;
            if (pass) found.push({ election, round, batch, pass });
          }
        }
      }
    } catch (e) {
      list.textContent = "";
      $("batches-error").textContent =
        e instanceof Offline ? "离线：无法读取批次。网络恢复后点“刷新”。" : String(e.message || e);
      return;
    }
    list.textContent = "";
    if (!found.length) list.textContent = "暂无分配给您的批次，请联系总计票人。";
    for (const item of found) {
      const { election, round, batch, pass } = item;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "batch-card";
      const title = `${election.title} · 第 ${round.number} 轮 · 第 ${batch.number} 批`;
      const entered = enteredOf(batch, pass);
      button.innerHTML = "";
      const strong = document.createElement("strong");
      strong.textContent = title;
      const small = document.createElement("span");
      small.textContent =
        `${pass === "a" ? "第一遍（A）" : "第二遍（B）"} · 共 ${batch.declared_count} 张` +
        (entered === null ? "" : ` · 已录 ${entered}`) +
        (batch.status ? ` · ${statusZh(batch.status)}` : "");
      button.append(strong, small);
      button.addEventListener("click", () =>
        chooseBatch({
          batch_id: batch.id,
          round_id: round.id,
          pass,
          title,
          declared_count: batch.declared_count,
        }),
      );
      list.appendChild(button);
    }
  }

  function listOf(data, key) {
    return Array.isArray(data) ? data : (data && data[key]) || [];
  }

  function statusZh(status) {
    return (
      {
        entering: "录入中",
        discrepancy: "两遍不一致",
        adjudication: "待裁定",
        reconciled: "已核对一致",
      }[status] || status
    );
  }

  function enteredOf(batch, pass) {
    // Tolerant of the progress shape: {entered_a, entered_b} or progress.{a,b} / {entered}.
    const p = batch.progress || batch;
    for (const key of [`entered_${pass}`, `pass_${pass}`, pass]) {
      const v = p[key];
      if (typeof v === "number") return v;
      if (v && typeof v.entered === "number") return v.entered;
    }
    return null;
  }

  async function chooseBatch(batch) {
    save(KEY_BATCH, batch);
    state.batch = batch;
    try {
      const round = await api("GET", `/api/rounds/${batch.round_id}`);
      if (round.ok) save(KEY_ROUND + batch.round_id, round.data);
    } catch (e) {
      /* offline: the cached round, if any */
    }
    openEntry();
  }

  // ------------------------------------------------------------ 3. entry

  function candidatesOf(round) {
    const list = round.candidates || [];
    return list.map((c) => (typeof c === "string" ? c : c.name));
  }

  function openEntry() {
    state.round = load(KEY_ROUND + state.batch.round_id, null);
    if (!state.round) {
      show("screen-batches");
      $("batches-error").textContent = "离线且本机没有该轮次的候选人名单，网络恢复后再选批次。";
      return;
    }
    show("screen-entry");
    $("batch-title").textContent =
      `${state.batch.title} · ${state.batch.pass === "a" ? "第一遍（A）" : "第二遍（B）"}`;
    $("writein-section").hidden = state.round.kind === "tie"; // M7: no write-in boxes
    buildCandidates();
    resetPaper();
    renderUnsent();
    refreshProgress();
    flush();
  }

  function buildCandidates() {
    const box = $("candidates");
    box.textContent = "";
    for (const name of candidatesOf(state.round)) {
      const row = document.createElement("div");
      row.className = "candidate";
      row.dataset.name = name;
      const label = document.createElement("div");
      label.className = "cname";
      label.textContent = name;
      const buttons = document.createElement("div");
      buttons.className = "mark-buttons";
      for (const m of MARKS) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = `mark mark-${m.mark}`;
        b.dataset.mark = m.mark;
        b.setAttribute("aria-pressed", "false");
        b.setAttribute("aria-label", `${name} ${m.label}`);
        const sym = document.createElement("span");
        sym.className = "sym";
        sym.textContent = m.symbol;
        const text = document.createElement("span");
        text.className = "mlabel";
        text.textContent = m.label;
        b.append(sym, text);
        b.addEventListener("click", () => setMark(name, m.mark));
        buttons.appendChild(b);
      }
      row.append(label, buttons);
      box.appendChild(row);
    }
  }

  function setMark(name, mark) {
    // One tap chooses; tapping the chosen mark again returns to blank (未划符号).
    state.marks[name] = state.marks[name] === mark ? "blank" : mark;
    state.unsure.delete(name); // the teller has looked at this one
    renderMarks();
  }

  function renderMarks() {
    for (const row of document.querySelectorAll(".candidate")) {
      const current = state.marks[row.dataset.name] || "blank";
      row.dataset.mark = current;
      row.dataset.unsure = String(state.unsure.has(row.dataset.name));
      for (const b of row.querySelectorAll(".mark")) {
        b.setAttribute("aria-pressed", String(b.dataset.mark === current));
      }
    }
  }

  function resetPaper() {
    state.marks = {};
    for (const name of candidatesOf(state.round)) state.marks[name] = "blank";
    state.writeIns = [];
    state.void = null;
    state.scan = null;
    state.unsure = new Set();
    state.writeInsRead = null;
    renderWriteInsRead();
    $("photo-state").textContent = "";
    $("scan-input").value = "";
    $("writein-input").value = "";
    $("writein-suggestions").textContent = "";
    $("writein-suggestions").dataset.q = "";
    $("writein-latin").checked = false;
    writeInNote("");
    $("scan-as-p1").hidden = true;
    renderMarks();
    renderWriteIns();
    renderVoid();
    renderScan();
  }

  // ---- scanning the paper's QR code (P1)

  function renderScan() {
    const el = $("scan-state");
    const s = state.scan;
    if (!s) {
      el.dataset.state = "waiting";
      el.textContent = "① 请扫描选票二维码";
    } else if (s.ok) {
      el.dataset.state = "ok";
      el.textContent = s.offline ? "✓ 二维码与本轮一致（离线核对）" : "✓ 本轮选票";
    } else if (s.unchecked) {
      el.dataset.state = "unchecked";
      el.textContent = "离线：二维码待上传后由服务器核对";
    } else {
      el.dataset.state = "bad";
      el.textContent = `✗ ${s.message}`;
    }
  }

  async function onScan(text, fromCamera) {
    const payload = text.trim();
    if (!payload || !state.round) return;
    if (state.scan && state.scan.ok && state.scan.payload === payload) return;
    // The camera still sees the paper just submitted for a moment: ignore it (not a scanner).
    if (fromCamera && Date.now() < state.cooldownUntil) return;
    const known = load(KEY_QR + state.round.id, null);
    if (known && known === payload) {
      // Every paper of a round carries the same code: one the server accepted is this round's.
      state.scan = { payload, ok: true };
      $("scan-as-p1").hidden = true;
      return renderScan();
    }
    let result;
    try {
      result = await api("POST", `/api/rounds/${state.round.id}/scan`, { payload });
    } catch (e) {
      state.scan = known
        ? { payload, ok: false, message: "与本轮选票的二维码不同（离线核对）" }
        : { payload, ok: false, unchecked: true };
      $("scan-as-p1").hidden = !!state.scan.unchecked;
      return renderScan();
    }
    if (result.status === 401) return sessionExpired(result.token);
    if (result.ok) {
      save(KEY_QR + state.round.id, payload);
      state.scan = { payload, ok: true };
    } else {
      state.scan = { payload, ok: false, code: result.data.code, message: errorText(result) };
    }
    $("scan-as-p1").hidden = state.scan.ok;
    renderScan();
  }

  // A USB/Bluetooth scanner types the code fast and ends with Enter: catch it wherever the focus
  // is, except in the write-in field (there the teller types).
  let keyBuffer = "";
  let keyTime = 0;
  function onKey(event) {
    if ($("screen-entry").hidden) return;
    const target = event.target;
    if (target && (target.id === "writein-input" || target.id === "scan-input")) return;
    const now = Date.now();
    if (now - keyTime > 500) keyBuffer = ""; // a scanner types fast; stale keys are dropped
    keyTime = now;
    if (event.key === "Enter") {
      if (keyBuffer.length >= 6) {
        event.preventDefault();
        onScan(keyBuffer);
      }
      keyBuffer = "";
    } else if (event.key.length === 1) {
      keyBuffer += event.key;
    }
  }

  async function toggleCamera(video, onText) {
    if (JipiaoScanner.running()) {
      JipiaoScanner.stop();
      video.hidden = true;
      return;
    }
    if (!JipiaoScanner.available()) {
      alert("此地址不能使用摄像头（需要以加密连接（HTTPS）打开或用本机地址）。请用扫码枪或手动输入。");
      return;
    }
    video.hidden = false;
    try {
      await JipiaoScanner.start(video, onText);
    } catch (e) {
      video.hidden = true;
      alert("无法打开摄像头：" + (e.message || e));
    }
  }

  // ---- write-ins with suggestions (roster names by prefix or pinyin initials)

  function renderWriteIns() {
    const box = $("writein-chips");
    box.textContent = "";
    state.writeIns.forEach((name, index) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      const shown =
        name === null ? "（字迹无法辨认）" : nameKind(name) === "latin" ? `${name}（外文）` : name;
      chip.textContent = `${shown} ✕`;
      chip.setAttribute("aria-label", `删除 ${shown}`);
      chip.addEventListener("click", () => {
        state.writeIns.splice(index, 1);
        renderWriteIns();
      });
      box.appendChild(chip);
    });
  }

  function addIllegibleWriteIn() {
    // P7: an illegible write-in still counts toward P2/P3 but credits nobody.
    state.writeIns.push(null);
    renderWriteIns();
  }

  // A write-in is a name in Chinese characters (· between the parts of a compound or
  // transliterated name); a name in Latin letters only when the teller ticks 外文姓名 (the server
  // refuses anything else: app/counting/writein.py, whose rules nameKind mirrors). What is typed
  // as a search (pinyin initials such as zqg) is never taken as the name.
  const HAN = /[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}\u{30000}-\u{323af}]/u;
  const LATIN = /[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]/u;
  const NAME_SEPARATORS = "·•・‧⸱";
  const LATIN_SEPARATORS = "-'.’";

  function cleanName(text) {
    // As the server compares names (P7): NFKC, no whitespace. In a Chinese name a full stop typed
    // for the middle dot (艾力更.依明巴海, 艾力更。依明巴海) becomes ·.
    let name = text.normalize("NFKC").replace(/\s+/gu, "");
    if (HAN.test(name) && !LATIN.test(name)) name = name.replace(/[.。．]/gu, "·");
    return name;
  }

  function nameKind(name) {
    let latin = false;
    let separatorBefore = true;
    for (const ch of name) {
      if (HAN.test(ch)) separatorBefore = false;
      else if (LATIN.test(ch)) {
        separatorBefore = false;
        latin = true;
      } else if (NAME_SEPARATORS.includes(ch) || LATIN_SEPARATORS.includes(ch)) {
        if (separatorBefore) return "not_a_name";
        separatorBefore = true;
      } else return "not_a_name";
    }
    if (separatorBefore) return "not_a_name";
    if (latin) return "latin";
    return [...LATIN_SEPARATORS].some((ch) => name.includes(ch)) ? "not_a_name" : "chinese";
  }

  function writeInNote(text) {
    $("writein-note").textContent = text;
  }

  function addWriteIn(name) {
    // A suggestion is added as the roster spells it; a typed name comes through typedWriteIn.
    const clean = name.trim();
    if (clean && !state.writeIns.includes(clean)) state.writeIns.push(clean);
    $("writein-input").value = "";
    $("writein-suggestions").textContent = "";
    $("writein-suggestions").dataset.q = "";
    writeInNote("");
    renderWriteIns();
  }

  // What the typed text would be as a write-in: the name to add, or why it cannot be added
  // (a pinyin search not yet ended by picking a suggestion, a character that is no name).
  function typedWriteIn(typed) {
    const name = cleanName(typed);
    const kind = nameKind(name);
    if (kind === "chinese") return { name };
    if (kind === "latin" && $("writein-latin").checked) return { name };
    if (kind === "latin") {
      const box = $("writein-suggestions");
      const fresh = box.dataset.q === typed;
      const found = fresh ? box.querySelectorAll(".suggestion").length : 0;
      if (fresh && found > 1)
        return { why: `有 ${found} 个姓名符合“${typed}”，请点选其中一个。` };
      if (fresh && found === 1)
        return { why: `“${typed}”是拼音查找，还没有选定姓名。请点选下方提示的姓名。` };
      if (fresh && found === 0)
        return {
          why:
            `没有姓名符合“${typed}”：请输入汉字姓名。` +
            "选票上确实写的是外文姓名的，请勾选“外文姓名，按原文录入”。",
        };
      return {
        why: navigator.onLine
          ? `“${typed}”是拼音查找，还没有选定姓名。请等下方出现提示后点选，或直接输入汉字姓名。`
          : `离线时无法按拼音查找“${typed}”：请直接输入汉字姓名。`,
      };
    }
    return { why: `“${typed}”不是姓名：只能填写汉字，复姓或译名各部分之间用“·”分隔。` };
  }

  function onWriteInEnter() {
    const typed = $("writein-input").value.trim();
    if (!typed) return;
    const box = $("writein-suggestions");
    const names = box.dataset.q === typed ? Array.from(box.querySelectorAll(".suggestion")) : [];
    // A pinyin search with exactly one name found takes that name; anything else as typedWriteIn.
    if (nameKind(cleanName(typed)) === "latin" && !$("writein-latin").checked && names.length === 1)
      return addWriteIn(names[0].textContent);
    const found = typedWriteIn(typed);
    if (found.why) return writeInNote(found.why);
    addWriteIn(found.name);
  }

  let suggestTimer = null;
  let suggestSeq = 0;
  function onWriteInInput() {
    clearTimeout(suggestTimer);
    writeInNote("");
    const q = $("writein-input").value.trim();
    if (!q) {
      $("writein-suggestions").textContent = "";
      $("writein-suggestions").dataset.q = "";
      return;
    }
    suggestTimer = setTimeout(async () => {
      const seq = ++suggestSeq;
      let result;
      try {
        const cid = state.session.congress_id;
        const query = `q=${encodeURIComponent(q)}&round_id=${state.batch.round_id}`;
        result = await api("GET", `/api/congresses/${cid}/name-suggestions?${query}`);
      } catch (e) {
        return; // offline: only a name typed in Chinese characters can be added
      }
      if (seq !== suggestSeq || !result.ok) return;
      const box = $("writein-suggestions");
      box.textContent = "";
      box.dataset.q = q; // the suggestions of this query (Enter uses no stale ones)
      const items = Array.isArray(result.data) ? result.data : result.data.names || result.data.suggestions || [];
      for (const item of items.slice(0, 8)) {
        const name = typeof item === "string" ? item : item.name;
        const b = document.createElement("button");
        b.type = "button";
        b.className = "suggestion";
        b.textContent = name;
        b.addEventListener("click", () => addWriteIn(name));
        box.appendChild(b);
      }
    }, 120);
  }

  // ---- declared void

  function renderVoid() {
    for (const b of document.querySelectorAll("#void-choices .seg")) {
      b.setAttribute("aria-pressed", String(b.dataset.void === state.void));
    }
  }

  // ---- photo mode (拍照识别, issue 22): the server reads the QR code and proposes the marks; the
  // teller confirms with the one submit tap or corrects first. The photo goes to the server once
  // and is kept nowhere: not in localStorage, not in IndexedDB, and the file input is emptied.

  async function readPhoto(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file || !state.round) return;
    const status = $("photo-state");
    status.textContent = "正在识别……";
    const session = load(KEY_SESSION, null);
    let response;
    try {
      response = await fetch(`/api/rounds/${state.round.id}/read-paper`, {
        method: "POST",
        headers: {
          Accept: "application/json",
          Authorization: "Bearer " + (session ? session.token : ""),
          "Content-Type": file.type || "image/jpeg",
        },
        body: file,
        cache: "no-store",
      });
    } catch (e) {
      setNet(false);
      status.textContent = "离线：无法识别照片，请扫码并逐人点选";
      return;
    }
    setNet(true);
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) return sessionExpired(session ? session.token : null);
    if (!response.ok) {
      status.textContent = errorText({ status: response.status, data });
      return;
    }
    // The server judged the QR code as the scan does (P1): it is this round's paper.
    save(KEY_QR + state.round.id, data.qr);
    state.scan = { payload: data.qr, ok: true };
    $("scan-as-p1").hidden = true;
    state.unsure = new Set();
    for (const m of data.marks) {
      state.marks[m.candidate] = m.mark;
      if (!m.sure) state.unsure.add(m.candidate);
    }
    const sure = data.write_ins_sure;
    state.writeInsRead = {
      written: data.write_ins_filled.filter((f, i) => f && sure[i]).length,
      unclear: sure.filter((s) => !s).length,
    };
    status.textContent = data.message_zh;
    renderWriteInsRead();
    renderScan();
    renderMarks();
  }

  // What the photo showed in the write-in boxes, beside them: a name read in a box is one to
  // enter, a box not read clearly one to look at on the paper.
  function renderWriteInsRead() {
    const read = state.writeInsRead;
    const parts = [];
    if (read && read.written) parts.push(`照片中有 ${read.written} 处书写，请录入姓名`);
    if (read && read.unclear) parts.push(`${read.unclear} 处未能看清，请查看选票上的另选他人栏`);
    $("writein-read").textContent = parts.join("；");
    $("writein-section").dataset.photo = read && read.unclear ? "unclear" : "";
  }

  // ---- submit: into the local queue first, then upload

  function submitPaper() {
    if (state.unsure.size) {
      const names = Array.from(state.unsure).join("、");
      if (!window.confirm(`${names} 的标记识别不确定，尚未核对。仍按当前标记提交？`)) return;
    }
    // A paper declared void (P1/P4/P9) counts for nobody: its write-in boxes need no names.
    const read = state.void ? null : state.writeInsRead;
    const entered = state.writeIns.length;
    if (read && entered < read.written) {
      const asked = `照片中另选他人栏有 ${read.written} 处书写，只录入了 ${entered} 人。仍提交？`;
      if (!window.confirm(asked)) return;
    } else if (read && read.unclear && !entered) {
      const asked = `另选他人栏有 ${read.unclear} 处未能看清，未录入另选他人。已看过选票，仍提交？`;
      if (!window.confirm(asked)) return;
    }
    const scan = state.scan;
    if (!scan && state.void !== "P1") {
      showResult("warn", `请先扫描选票二维码（非本轮选票请选“${voidLabel("P1")}”）`);
      return;
    }
    if (scan && !scan.ok && !scan.unchecked && state.void !== "P1") {
      showResult("warn", `此二维码不是本轮选票：请选“${voidLabel("P1")}”后提交`);
      return;
    }
    const p = load(KEY_PROGRESS + state.batch.batch_id, null);
    const uploaded = p ? enteredOf(p, state.batch.pass) || 0 : 0;
    const waiting = queue().filter((e) => e.batch_id === state.batch.batch_id).length;
    if (uploaded + waiting >= state.batch.declared_count) {
      showResult(
        "warn",
        `本遍已录满 ${state.batch.declared_count} 张。如手上还有选票，请交总计票人核对本批张数。`,
      );
      return;
    }
    const pending = $("writein-input").value.trim();
    if (pending) {
      // The search text is never sent as the name: a Chinese name typed in full is added, a
      // pinyin search not ended by picking a suggestion stops the paper here (nothing is saved).
      const found = typedWriteIn(pending);
      if (found.why) {
        writeInNote(found.why);
        showResult("warn", `这张还没有保存：${found.why}`);
        $("writein-input").focus();
        return;
      }
      addWriteIn(found.name);
    }
    const key = uuid4();
    const entry = {
      key,
      batch_id: state.batch.batch_id,
      round_id: state.batch.round_id,
      official_id: state.session.official_id, // only this teller's session may send it
      queued_at: new Date().toISOString(),
      body: {
        idempotency_key: key,
        qr_payload: scan ? scan.payload : "",
        marks: Object.assign({}, state.marks),
        write_ins: state.writeIns.slice(),
        void: state.void,
      },
    };
    // Names in Latin letters were each added with 外文姓名 ticked: the teller's confirmation.
    if (state.writeIns.some((name) => name !== null && nameKind(name) === "latin"))
      entry.body.write_ins_latin_confirmed = true;
    const q = queue();
    q.push(entry);
    save(KEY_QUEUE, q); // kept on the tablet before anything is sent
    state.lastKey = key;
    state.lastSummary = summary(entry.body);
    state.cooldownUntil = Date.now() + 800;
    resetPaper();
    renderUnsent();
    showResult("queued", `上一张已保存在本机，正在上传…… · ${state.lastSummary}`);
    window.scrollTo({ top: 0, behavior: "instant" });
    flush();
  }

  function describe(answer) {
    // The server's answer (PaperEntryRead): valid / invalid with the rule broken and its reason in
    // the report's words / pending adjudication (an unclear mark, P6).
    const absent = (answer.write_ins_not_on_roster || []).join("、");
    const note = absent ? `；另选他人不在代表名单：${absent}` : "";
    if (answer.status === "invalid") return ["invalid", `无效票 ${answer.rule}：${reasonOf(answer.rule)}`];
    if (answer.status === "pending") return ["pending", `待裁定：${reasonOf("P6")}，交监票人裁定`];
    return ["valid", `有效票${note}`];
  }

  function summary(body) {
    // What was entered, to check against the paper in hand: ✓3 ×1 △1, write-ins, void.
    if (body.void) return `宣告无效 ${voidLabel(body.void)}`;
    const counts = { yes: 0, no: 0, abstain: 0, unclear: 0, blank: 0 };
    for (const mark of Object.values(body.marks)) counts[mark] += 1;
    const glyph = (mark) => (ZH.mark_glyph || {})[mark] || "";
    const parts = [`${glyph("yes")}${counts.yes} ${glyph("no")}${counts.no} ${glyph("abstain")}${counts.abstain}`];
    if (counts.unclear) parts.push(`${glyph("unclear")}${counts.unclear}`);
    if (body.write_ins.length) parts.push(`另选 ${body.write_ins.length} 人`);
    return parts.join(" ");
  }

  function showResult(kind, text) {
    const el = $("last-result");
    el.dataset.kind = kind;
    el.textContent = text;
  }

  let retryTimer = null;
  async function flush() {
    if (state.flushing) return;
    state.flushing = true;
    clearTimeout(retryTimer);
    let retry = false;
    try {
      for (;;) {
        if (!state.session) break;
        // A tablet handed to another teller keeps the first teller's unsent papers for them.
        const entry = queue().find((e) => e.official_id === state.session.official_id);
        if (!entry) break;
        let result;
        try {
          result = await api("POST", `/api/batches/${entry.batch_id}/papers`, entry.body);
        } catch (e) {
          retry = true; // offline: keep everything, try again later with the same keys
          break;
        }
        if (result.status === 401) {
          sessionExpired(result.token);
          break;
        }
        const transient = result.status === 409 && result.data.code === "concurrent_change";
        if (result.status >= 500 || result.status === 429 || result.status === 408 || transient) {
          retry = true;
          break;
        }
        // The server answered for this paper: it leaves the queue (its key is never reused).
        const rest = queue().filter((e) => e.key !== entry.key);
        save(KEY_QUEUE, rest);
        if (result.ok) {
          rememberProgress(entry.batch_id, result.data);
          if (entry.key === state.lastKey) {
            const [kind, text] = describe(result.data);
            showResult(kind, `上一张：${text} · ${summary(entry.body)}`);
          }
        } else {
          const rejected = load(KEY_REJECTED, []);
          rejected.push({ entry, message: errorText(result), code: result.data.code });
          save(KEY_REJECTED, rejected);
          if (entry.key === state.lastKey) showResult("invalid", `被拒绝：${errorText(result)}`);
          renderRejected();
        }
        renderUnsent();
      }
    } finally {
      state.flushing = false;
    }
    const mine = state.session ? queue().filter((e) => e.official_id === state.session.official_id) : [];
    if (retry || mine.length) {
      if (state.lastKey && queue().some((e) => e.key === state.lastKey)) {
        showResult(
          "queued",
          `离线：上一张已保存在本机（${state.lastSummary}）；未上传 ${queue().length} 张，网络恢复后自动上传`,
        );
      }
      retryTimer = setTimeout(flush, retryDelay());
    }
  }

  function renderRejected() {
    const rejected = load(KEY_REJECTED, []);
    const box = $("rejected");
    box.hidden = rejected.length === 0;
    box.textContent = "";
    if (!rejected.length) return;
    const title = document.createElement("div");
    title.textContent = `被服务器拒绝 ${rejected.length} 张（请核对后重新录入）：`;
    box.appendChild(title);
    for (const r of rejected.slice(-5)) {
      const line = document.createElement("div");
      line.textContent = `· ${r.message}`;
      box.appendChild(line);
    }
    const clear = document.createElement("button");
    clear.type = "button";
    clear.className = "btn small";
    clear.textContent = "已处理，清除";
    clear.addEventListener("click", () => {
      save(KEY_REJECTED, []);
      renderRejected();
    });
    box.appendChild(clear);
  }

  // ---- progress

  function rememberProgress(batchId, answer) {
    const p = answer.progress || answer.batch_progress || answer.batch || null;
    if (p) save(KEY_PROGRESS + batchId, p);
  }

  async function refreshProgress() {
    if (!state.batch) return;
    try {
      const result = await api("GET", `/api/rounds/${state.batch.round_id}/batches`);
      if (!result.ok) return;
      const batch = listOf(result.data, "batches").find((b) => b.id === state.batch.batch_id);
      if (batch) save(KEY_PROGRESS + state.batch.batch_id, batch);
    } catch (e) {
      /* offline: keep the last known progress */
    }
    renderProgress();
  }

  function renderProgress() {
    if (!state.batch) return;
    const p = load(KEY_PROGRESS + state.batch.batch_id, null);
    const entered = p ? enteredOf(p, state.batch.pass) : null;
    const unsent = queue().filter((e) => e.batch_id === state.batch.batch_id).length;
    const declared = state.batch.declared_count;
    const done = (entered || 0) + unsent;
    const parts = [`本批 ${declared} 张 · 已上传 ${entered === null ? "?" : entered} 张`];
    if (unsent) parts.push(`本机待传 ${unsent} 张`);
    if (p && p.status) parts.push(statusZh(p.status));
    if (done >= declared) parts.push("本遍已录满");
    $("batch-progress").textContent = parts.join(" · ");
    $("progress-bar").style.width = `${Math.min(100, (100 * done) / declared)}%`;
  }

  // ------------------------------------------------------------ session

  function sessionExpired(sent) {
    // A refusal of a token this tablet no longer holds (a paper sent just before its teller
    // logged out, answered after the next teller logged in) ends nothing: that session is over.
    const current = load(KEY_SESSION, null);
    if (current && current.token !== sent) return;
    // The queue stays: after logging in again it is sent with the same keys.
    localStorage.removeItem(KEY_SESSION);
    state.session = null;
    startLogin();
    $("login-error").textContent = "登录已失效，请重新登录（未上传的选票仍保存在本机）。";
  }

  async function logOut() {
    if (queue().length && !confirm(`还有 ${queue().length} 张未上传，确定退出？（数据仍保存在本机）`)) return;
    try {
      await api("POST", "/api/auth/logout");
    } catch (e) {
      /* offline: forget the token locally anyway */
    }
    localStorage.removeItem(KEY_SESSION);
    localStorage.removeItem(KEY_BATCH);
    state.session = null;
    state.batch = null;
    startLogin();
  }

  // ------------------------------------------------------------ wiring

  function wire() {
    $("login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      logIn($("login-code").value);
    });
    $("login-camera").addEventListener("click", () => toggleCamera($("login-video"), logIn));
    $("batches-refresh").addEventListener("click", showBatches);
    $("change-batch").addEventListener("click", () => {
      localStorage.removeItem(KEY_BATCH);
      state.batch = null;
      showBatches();
    });
    $("logout").addEventListener("click", logOut);
    $("scan-form").addEventListener("submit", (e) => {
      e.preventDefault();
      onScan($("scan-input").value);
    });
    $("scan-camera").addEventListener("click", () =>
      toggleCamera($("scan-video"), (text) => onScan(text, true)),
    );
    $("photo-input").addEventListener("change", (e) => readPhoto(e.target));
    $("scan-as-p1").addEventListener("click", () => {
      state.void = "P1";
      renderVoid();
    });
    $("writein-input").addEventListener("input", onWriteInInput);
    $("writein-illegible").addEventListener("click", addIllegibleWriteIn);
    $("writein-input").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing) {
        e.preventDefault();
        onWriteInEnter();
      }
    });
    $("writein-latin").addEventListener("change", () => writeInNote(""));
    $("scan-as-p1").textContent = `按 ${voidLabel("P1")} 录入此张`;
    for (const b of document.querySelectorAll("#void-choices .seg")) {
      b.textContent = voidLabel(b.dataset.void);
      b.addEventListener("click", () => {
        state.void = state.void === b.dataset.void ? null : b.dataset.void;
        renderVoid();
      });
    }
    $("submit").addEventListener("click", submitPaper);
    document.addEventListener("keydown", onKey, true);
    window.addEventListener("online", () => {
      setNet(true);
      flush();
    });
    window.addEventListener("offline", () => setNet(false));
    window.addEventListener("storage", renderUnsent); // another tab of this tablet
  }

  function start() {
    wire();
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("/tablet-sw.js", { scope: "/" }).catch(() => {});
    }
    if (!navigator.onLine) setNet(false);
    renderUnsent();
    renderRejected();
    state.session = load(KEY_SESSION, null);
    if (!state.session) return startLogin();
    state.batch = load(KEY_BATCH, null);
    if (state.batch) return openEntry();
    showBatches();
    flush();
  }

  window.JipiaoTablet = { flush, queue: () => queue().length };
  start();
})();
