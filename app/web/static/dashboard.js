// The presidium's dashboard (/dashboard?election=ID): one EventSource on
// /api/elections/ID/live; every message is a whole snapshot, so the page simply re-renders.
// EventSource cannot send headers: the session token goes in ?token= (see app/live/router.py).
// The rendering is shared: window.JipiaoLive.render(host, snapshot) draws the rounds into host and
// JipiaoLive.stream(electionId, token, onSnapshot, onState) follows the stream — /presidium shows
// the live tallies with them. The dashboard page itself starts only where this script's tag says
// data-page="dashboard".
"use strict";
(function () {
  const KEY_SESSION = "jipiao.session";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  // The marks' words, as the tablet and the report say them (/web/vocabulary.js).
  const WORD = (window.JP_ZH && window.JP_ZH.mark_word) || {};
  const BOOT = Boolean(document.currentScript && document.currentScript.dataset.page === "dashboard");

  function session() {
    try { return JSON.parse(localStorage.getItem(KEY_SESSION) || "null"); } catch (e) { return null; }
  }
  function show(id) {
    for (const s of document.querySelectorAll("main.screen")) s.hidden = s.id !== id;
  }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  async function api(path, token) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message_zh || "请求失败（" + response.status + "）");
    return body;
  }

  const STATUS_ZH = {
    entering: "录入中", discrepancy: "有差异待裁定", adjudication: "符号待裁定", reconciled: "已核对",
  };
  const ROUND_ZH = {
    open: "已开启", issued: "已发票", collected: "已收票", counting: "计票中", void: "无效",
    decided: "已决定", certified: "已认证", cancelled: "已撤销",
  };
  const KIND_ZH = { regular: "", tie: "（票数相等重新投票）", supplementary: "（另行选举）", rerun: "（重新选举）" };
  const OUTCOME_ZH = {
    seats_filled: "名额已满", tie_round: "末位票数相等，需重新投票", supplementary_round: "当选人数不足，需另行选举",
    seats_vacant: "票数相等者不当选，名额空缺", quorum_not_met: "不足法定人数", void: "选举无效",
  };
  const BASE_ZH = { present: "实到人数", delegates_total: "应到人数", collected: "收回选票数", valid_papers: "有效票数" };
  const STANDING_ZH = { elected: "当选", tied: "票数相等", short: "未当选" };
  const PROVISIONAL_STANDING_ZH = { elected: "暂时当选", tied: "暂时票数相等", short: "暂未当选" };
  const VOID_ZH = "本轮选举无效：收回的选票多于实到人数或发出的选票（I2），须重新选举，本轮不计票。";

  function bar(value, total, cls) {
    const wrap = el("div", "bar");
    const fill = el("div", "fill " + (cls || ""));
    fill.style.width = (total > 0 ? Math.min(100, (100 * value) / total) : 0) + "%";
    wrap.appendChild(fill);
    return wrap;
  }

  function progressCard(r) {
    const p = r.progress;
    const card = el("section", "card progress");
    card.appendChild(el("h2", null, "计票进度"));
    const collected = p.collected === null ? "未登记" : p.collected;
    const total = p.collected || p.declared || 0;
    const rows = [
      ["已录入（第一遍）", p.entered, total, "entered"],
      ["已核对", p.reconciled, total, "reconciled"],
    ];
    for (const [label, value, all, cls] of rows) {
      const line = el("div", "metric");
      line.appendChild(el("span", "metric-label", label));
      line.appendChild(bar(value, all, cls));
      const number = el("span", "metric-value", value + " / " + collected);
      number.dataset.metric = cls;
      line.appendChild(number);
      card.appendChild(line);
    }
    const flags = el("p", "flags");
    const disc = el("span", "flag" + (p.discrepancies_open ? " bad" : ""), "差异待裁定 " + p.discrepancies_open);
    disc.id = "discrepancies-" + r.round_id;
    flags.appendChild(disc);
    flags.appendChild(el("span", "flag" + (p.adjudications_open ? " warn" : ""), "符号待裁定 " + p.adjudications_open));
    flags.appendChild(el("span", "flag", "批次 " + p.batches.length + "（未核对 " + p.batches_open + "）"));
    card.appendChild(flags);
    if (p.batches.length) {
      const table = el("table", "batches");
      const head = el("tr");
      for (const h of ["批次", "声明张数", "第一遍", "第二遍", "状态"]) head.appendChild(el("th", null, h));
      table.appendChild(head);
      for (const b of p.batches) {
        const tr = el("tr", "status-" + b.status);
        tr.appendChild(el("td", null, "第 " + b.number + " 批"));
        tr.appendChild(el("td", null, b.declared));
        tr.appendChild(el("td", null, b.pass_a));
        tr.appendChild(el("td", null, b.pass_b === null ? "—" : b.pass_b));
        tr.appendChild(el("td", null, STATUS_ZH[b.status] || b.status));
        table.appendChild(tr);
      }
      card.appendChild(table);
    }
    return card;
  }

  // The rule a round is decided by: a majority (M2) or, in a tie round, plurality (M7).
  function ruleText(kind, m, seats) {
    if (kind === "tie") return "得赞成票多者当选（M7）；应选 " + seats + " 名";
    return "过半数：至少 " + m.threshold + " 票（以" + (BASE_ZH[m.base_kind] || m.base_kind) + " " + m.base +
      " 为基数）；应选 " + seats + " 名";
  }

  // One card for the per-person numbers. mode "provisional": pass A's entries while counting;
  // "decided": the recorded decision on the reconciled papers (已核对, then 已认证 once signed).
  function tallyCard(r, d, mode) {
    const decided = mode === "decided";
    const mark = decided ? (d.certified ? "已认证" : "已核对") : "临时";
    const card = el("section", "card tallies " + mode);
    card.dataset.mode = decided ? (d.certified ? "certified" : "decided") : "provisional";
    card.appendChild(el("h2", null, "各候选人得票（" + mark + "）"));
    if (decided) {
      card.appendChild(el("p", "decided-note", d.certified
        ? "本轮结果已由总监票人和监票人签字认证（C2），以下为核对后的正式票数。"
        : "以下为两遍录入核对一致（或经监票人裁定）后的正式票数，待总监票人和监票人签字认证（C2）。"));
      const a = d.attendance;
      const figures = [["应到", a.delegates_total], ["实到", a.present], ["发出", a.issued], ["收回", a.collected],
        ["有效", d.papers.valid], ["无效", d.papers.invalid]];
      card.appendChild(el("p", "figures", figures.map(([k, v]) => k + " " + (v === null ? "—" : v)).join(" · ")));
    } else {
      card.appendChild(el("p", "provisional-note", "临时结果：" + d.basis_zh + "。"));
    }
    const kind = decided ? d.kind : d.round.kind;
    const tie = kind === "tie";
    const m = d.majority;
    card.appendChild(el("p", "threshold", ruleText(kind, m, r.seats)));
    const scale = Math.max(m.base, 1);
    const standingZh = decided ? STANDING_ZH : PROVISIONAL_STANDING_ZH;
    const list = el("div", "candidates");
    for (const t of d.tallies) {
      const row = el("div", "candidate standing-" + t.standing);
      row.dataset.name = t.name;
      row.appendChild(el("span", "name", t.name + (t.write_in ? "（另选）" : "")));
      const track = el("div", "track");
      for (const [key, cls] of [["yes", "yes"], ["no", "no"], ["abstain", "abstain"]]) {
        const seg = el("div", "seg " + cls);
        seg.style.width = (100 * t[key]) / scale + "%";
        track.appendChild(seg);
      }
      if (!tie) {
        const line = el("div", "majority-line");
        line.style.left = (100 * m.threshold) / scale + "%";
        line.title = "过半数 " + m.threshold;
        track.appendChild(line);
      }
      row.appendChild(track);
      row.appendChild(el("span", "numbers", WORD.yes + " " + t.yes + " · " + WORD.no + " " + t.no + " · " + WORD.abstain + " " + t.abstain));
      row.appendChild(el("span", "standing", standingZh[t.standing]));
      list.appendChild(row);
    }
    card.appendChild(list);
    const outcomeKey = decided ? d.outcome : d.round.outcome;
    const outcome = OUTCOME_ZH[outcomeKey] || outcomeKey;
    if (decided) {
      const elected = d.elected.length ? "当选：" + d.elected.join("、") : "本轮无人当选";
      card.appendChild(el("p", "outcome", "结果（" + mark + "）：" + outcome + "。" + elected));
    } else if (r.progress.collected === null || r.progress.entered < r.progress.collected) {
      // Part of the papers: no outcome yet (a shortfall now says nothing about the end).
      const lead = d.elected.length ? "目前领先：" + d.elected.join("、") : "目前尚无人达到当选票数";
      card.appendChild(el("p", "outcome", "计票未完成（已录入 " + r.progress.entered + " / " +
        (r.progress.collected === null ? "—" : r.progress.collected) + " 张），暂不判断结果。" + lead));
    } else {
      const elected = d.elected.length ? "暂时当选：" + d.elected.join("、") : "暂无人当选";
      card.appendChild(el("p", "outcome", "临时结果：" + outcome + "。" + elected));
    }
    const legend = el("p", "legend");
    for (const mark of ["yes", "no", "abstain"]) {
      legend.appendChild(el("span", "key " + mark, WORD[mark]));
    }
    if (!tie) legend.appendChild(el("span", "key line", "过半数线"));
    card.appendChild(legend);
    return card;
  }

  function emptyCard(text) {
    const card = el("section", "card tallies empty");
    card.appendChild(el("h2", null, "各候选人得票"));
    card.appendChild(el("p", "hint", text));
    return card;
  }

  function render(host, snapshot) {
    host.replaceChildren();
    if (!snapshot.rounds.length) host.appendChild(el("p", "hint", "本选举尚未开启投票轮次。"));
    for (const r of snapshot.rounds.slice().reverse()) {
      const section = el("section", "round");
      section.id = "round-" + r.round_id;
      const head = el("h1", null, "第 " + r.number + " 轮" + (KIND_ZH[r.kind] || "") + " · " + (ROUND_ZH[r.status] || r.status));
      if (r.released) head.appendChild(el("span", "released", "已向会场公布"));
      section.appendChild(head);
      section.appendChild(progressCard(r));
      if (r.decided) section.appendChild(tallyCard(r, r.decided, "decided"));
      else if (r.provisional) section.appendChild(tallyCard(r, r.provisional, "provisional"));
      else if (r.status === "void") section.appendChild(emptyCard(VOID_ZH));
      else if (snapshot.view === "full") section.appendChild(emptyCard("尚未录入选票，暂无结果。"));
      host.appendChild(section);
    }
  }

  // The election's stream: onSnapshot(snapshot, height) for every snapshot, onState("live" |
  // "offline") as the connection opens and breaks (EventSource reconnects by itself).
  function stream(electionId, token, onSnapshot, onState) {
    const url = "/api/elections/" + electionId + "/live?token=" + encodeURIComponent(token);
    const source = new EventSource(url);
    source.addEventListener("snapshot", (event) => {
      onSnapshot(JSON.parse(event.data), event.lastEventId);
      onState("live");
    });
    source.onopen = () => onState("live");
    source.onerror = () => onState("offline");
    return source;
  }

  window.JipiaoLive = { render, stream };
  if (!BOOT) return;

  function connect(token, electionId) {
    show("screen-live");
    const link = $("projector-link");
    link.href = "/projector?election=" + electionId;
    link.hidden = false;
    const conn = $("conn");
    stream(electionId, token, (snapshot, height) => {
      $("title").textContent = snapshot.title + "（应选 " + snapshot.seats + " 名）";
      render($("rounds"), snapshot);
      conn.textContent = "实时 · " + new Date().toLocaleTimeString("zh-CN");
      document.body.dataset.height = height;
    }, (state) => {
      conn.dataset.state = state;
      if (state === "offline") conn.textContent = "连接中断，正在重连…";
      else if (conn.textContent.indexOf("实时") !== 0) conn.textContent = "实时";
    });
  }

  async function chooseElection(s) {
    const electionId = params.get("election");
    if (electionId) return connect(s.token, electionId);
    show("screen-elections");
    const list = $("election-list");
    try {
      const elections = await api("/api/congresses/" + s.congress_id + "/elections", s.token);
      for (const e of elections) {
        const item = el("li");
        const a = el("a", "choice", e.title);
        a.href = "/dashboard?election=" + e.id;
        item.appendChild(a);
        list.appendChild(item);
      }
      if (!elections.length) list.appendChild(el("li", "hint", "本次大会还没有选举。"));
    } catch (error) {
      list.appendChild(el("li", "status bad", error.message));
    }
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: $("login-code").value }),
    }).catch(() => null);
    const body = response ? await response.json().catch(() => ({})) : {};
    if (!response || !response.ok) {
      $("login-error").textContent = body.message_zh || "无法连接服务器";
      return;
    }
    localStorage.setItem(KEY_SESSION, JSON.stringify(body));
    chooseElection(body);
  });

  const s = session();
  if (s && s.token) chooseElection(s);
  else show("screen-login");
})();
