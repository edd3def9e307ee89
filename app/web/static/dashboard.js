// The presidium's dashboard (/dashboard?election=ID): one EventSource on
// /api/elections/ID/live; every message is a whole snapshot, so the page simply re-renders.
// EventSource cannot send headers: the session token goes in ?token= (see app/live/router.py).
"use strict";
(function () {
  const KEY_SESSION = "jipiao.session";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);

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
    decided: "已决定", certified: "已确认", cancelled: "已撤销",
  };
  const KIND_ZH = { regular: "", tie: "（票数相等重新投票）", supplementary: "（另行选举）", rerun: "（重新选举）" };
  const OUTCOME_ZH = {
    seats_filled: "名额已满", tie_round: "末位票数相等，需重新投票", supplementary_round: "当选人数不足，需另行选举",
    seats_vacant: "票数相等者不当选，名额空缺", quorum_not_met: "不足法定人数", void: "选举无效",
  };
  const BASE_ZH = { present: "实到人数", delegates_total: "应到人数", collected: "收回选票数", valid_papers: "有效票数" };
  const STANDING_ZH = { elected: "暂时当选", tied: "票数相等", short: "未当选" };

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

  function tallyCard(r) {
    const d = r.provisional;
    const card = el("section", "card tallies");
    card.appendChild(el("h2", null, "各候选人得票（临时）"));
    card.appendChild(el("p", "provisional-note", "临时结果：" + d.basis_zh + "。正式结果以核对后的决定为准。"));
    const m = d.majority;
    card.appendChild(el("p", "threshold",
      "过半数：至少 " + m.threshold + " 票（以" + (BASE_ZH[m.base_kind] || m.base_kind) + " " + m.base + " 为基数）；应选 " + r.seats + " 名"));
    const scale = Math.max(m.base, 1);
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
      const line = el("div", "majority-line");
      line.style.left = (100 * m.threshold) / scale + "%";
      line.title = "过半数 " + m.threshold;
      track.appendChild(line);
      row.appendChild(track);
      row.appendChild(el("span", "numbers", "赞成 " + t.yes + " · 不赞成 " + t.no + " · 弃权 " + t.abstain));
      row.appendChild(el("span", "standing", STANDING_ZH[t.standing]));
      list.appendChild(row);
    }
    card.appendChild(list);
    const outcome = OUTCOME_ZH[d.round.outcome] || d.round.outcome;
    const elected = d.elected.length ? "暂时当选：" + d.elected.join("、") : "暂无人过半数";
    card.appendChild(el("p", "outcome", "临时结果：" + outcome + "。" + elected));
    const legend = el("p", "legend");
    for (const [cls, label] of [["yes", "赞成"], ["no", "不赞成"], ["abstain", "弃权"]]) {
      legend.appendChild(el("span", "key " + cls, label));
    }
    legend.appendChild(el("span", "key line", "过半数线"));
    card.appendChild(legend);
    return card;
  }

  function render(snapshot) {
    $("title").textContent = snapshot.title + "（应选 " + snapshot.seats + " 名）";
    const host = $("rounds");
    host.replaceChildren();
    if (!snapshot.rounds.length) host.appendChild(el("p", "hint", "本选举尚未开启投票轮次。"));
    for (const r of snapshot.rounds.slice().reverse()) {
      const section = el("section", "round");
      section.id = "round-" + r.round_id;
      const head = el("h1", null, "第 " + r.number + " 轮" + (KIND_ZH[r.kind] || "") + " · " + (ROUND_ZH[r.status] || r.status));
      if (r.released) head.appendChild(el("span", "released", "已向会场公布"));
      section.appendChild(head);
      section.appendChild(progressCard(r));
      if (r.provisional) section.appendChild(tallyCard(r));
      host.appendChild(section);
    }
  }

  function connect(token, electionId) {
    show("screen-live");
    const link = $("projector-link");
    link.href = "/projector?election=" + electionId;
    link.hidden = false;
    const url = "/api/elections/" + electionId + "/live?token=" + encodeURIComponent(token);
    const source = new EventSource(url);
    const conn = $("conn");
    source.addEventListener("snapshot", (event) => {
      render(JSON.parse(event.data));
      conn.dataset.state = "live";
      conn.textContent = "实时 · " + new Date().toLocaleTimeString("zh-CN");
      document.body.dataset.height = event.lastEventId;
    });
    source.onopen = () => { conn.dataset.state = "live"; conn.textContent = "实时"; };
    source.onerror = () => {
      conn.dataset.state = "offline";
      conn.textContent = "连接中断，正在重连…";
    };
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
