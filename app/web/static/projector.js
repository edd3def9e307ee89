// The hall projector (/projector?election=ID): large type; per candidate it shows only what the
// presidium has released (C3). It asks the stream for view=projector, so unreleased numbers
// never reach this browser. Opened from the dashboard (same browser: same session).
// &preview=ROUND: the presidium's preview, framed in /presidium at the hall screen's size — the
// projector view as it will be once that certified round is released, drawn by this same code;
// it refreshes when the framing page posts "jipiao:refresh". Never on a screen of its own: opened
// outside a frame it shows nothing but a note (an unreleased result must not reach the hall).
// The page always fits the screen (no scrolling): the vote table is split into side-by-side
// columns and the root font size is the largest with which everything fits (fit()).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const electionId = params.get("election");
  const preview = params.get("preview");
  const WORD = (window.JP_ZH && window.JP_ZH.mark_word) || {}; // /web/vocabulary.js
  let s = null;
  try { s = JSON.parse(localStorage.getItem("jipiao.session") || "null"); } catch (e) { s = null; }
  const OUTCOME_ZH = {
    seats_filled: "名额已满", tie_round: "末位票数相等，将重新投票", supplementary_round: "当选人数不足，将另行选举",
    seats_vacant: "票数相等者不当选，名额空缺", quorum_not_met: "不足法定人数", void: "选举无效，将重新选举",
  };
  const KIND_ZH = { regular: "", tie: "（票数相等重新投票）", supplementary: "（另行选举）", rerun: "（重新选举）" };
  let rows = [];  // the last released round's vote rows, by yes votes
  let electedNow = [];

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // 应到/实到/发出/收回/有效/无效 and the rule the round was decided by: 过半数 (M2), or in a
  // tie round plurality (M7), which needs no threshold.
  function figures(released) {
    const a = released.attendance;
    const p = released.papers;
    const dash = (v, unit) => (v === null || v === undefined ? "—" : v + " " + unit);
    const items = [
      ["应到", dash(a.delegates_total, "人")], ["实到", dash(a.present, "人")],
      ["发出", dash(a.issued, "张")], ["收回", dash(a.collected, "张")],
      ["有效", dash(p.valid, "张")], ["无效", dash(p.invalid, "张")],
    ];
    const host = $("figures");
    host.replaceChildren();
    for (const [label, value] of items) {
      const item = el("div");
      item.appendChild(el("dt", null, label));
      item.appendChild(el("dd", null, value));
      host.appendChild(item);
    }
    const rule = el("div", "rule");
    if (released.kind === "tie") {
      rule.appendChild(el("dt", null, "当选规则"));
      rule.appendChild(el("dd", null, "得赞成票多者当选"));
    } else {
      rule.appendChild(el("dt", null, "过半数"));
      rule.appendChild(el("dd", null, "至少 " + released.majority.threshold + " 票"));
    }
    host.appendChild(rule);
  }

  function tables(columns) {
    const host = $("tallies");
    host.replaceChildren();
    const per = Math.ceil(rows.length / columns);
    for (let c = 0; c < columns; c++) {
      const part = rows.slice(c * per, (c + 1) * per);
      if (!part.length) continue;
      const table = el("table");
      const head = el("tr");
      for (const h of ["姓名", WORD.yes, WORD.no, WORD.abstain]) head.appendChild(el("th", null, h));
      table.appendChild(el("thead")).appendChild(head);
      const body = table.appendChild(el("tbody"));
      for (const t of part) {
        const tr = el("tr", electedNow.includes(t.name) ? "is-elected" : "");
        for (const v of [t.name, t.yes, t.write_in ? "" : t.no, t.write_in ? "" : t.abstain]) {
          tr.appendChild(el("td", null, v));
        }
        body.appendChild(tr);
      }
      host.appendChild(table);
    }
  }

  // The page does not scroll, and nothing sticks out of the white result box: the tables are
  // centred, so a row too wide overflows on both sides, which no scroll size shows.
  function fits() {
    const d = document.documentElement;
    if (d.scrollHeight > window.innerHeight || d.scrollWidth > window.innerWidth) return false;
    const result = $("result");
    if (result.hidden) return true;
    const box = result.getBoundingClientRect();
    const style = getComputedStyle(result);
    const left = box.left + parseFloat(style.paddingLeft) - 0.5;
    const right = box.right - parseFloat(style.paddingRight) + 0.5;
    for (const part of [...$("tallies").children, ...$("elected").children]) {
      const r = part.getBoundingClientRect();
      if (r.left < left || r.right > right) return false;
    }
    return true;
  }

  // The largest root font size (px) with which the page fits, for each number of table
  // columns that makes sense; the best of them wins.
  function fit() {
    const root = document.documentElement.style;
    const top = Math.min(window.innerHeight / 24, window.innerWidth / 40);
    const choices = rows.length > 6 ? [1, 2, 3, 4].filter((c) => c <= rows.length) : [1];
    let best = null;
    for (const columns of choices) {
      tables(columns);
      let lo = 4, hi = top;
      root.fontSize = hi + "px";
      if (!fits()) {
        for (let i = 0; i < 12; i++) {
          const mid = (lo + hi) / 2;
          root.fontSize = mid + "px";
          if (fits()) lo = mid; else hi = mid;
        }
        hi = lo;
      }
      if (!best || hi > best.size + 0.01) best = { columns, size: hi };
    }
    tables(best.columns);
    root.fontSize = best.size + "px";
    document.body.dataset.columns = String(best.columns);
  }

  function render(snapshot) {
    $("title").textContent = snapshot.title;
    const rounds = snapshot.rounds;
    if (!rounds.length) { fit(); return; }
    const r = rounds[rounds.length - 1];
    $("round").textContent = "第 " + r.number + " 轮" + (KIND_ZH[r.kind] || "");
    const p = r.progress;
    $("progress").hidden = Boolean(r.released);  // once released, the result fills the screen
    $("entered").textContent = p.reconciled;
    $("collected").textContent = p.collected === null ? "—" : p.collected;
    const total = p.collected || 0;
    $("entered-bar").style.width = (total ? Math.min(100, (100 * p.reconciled) / total) : 0) + "%";
    // M9: the persons elected in every released round stay on screen while a follow-up round
    // is counted; the table and the figures show the last released round.
    const releasedRounds = rounds.filter((x) => x.released);
    $("waiting").hidden = Boolean(r.released);
    $("waiting").textContent = r.status === "decided" || r.status === "certified"
      ? "计票已完成，等待大会主席团公布结果" : "计票进行中，结果由大会主席团公布";
    $("result").hidden = releasedRounds.length === 0;
    rows = [];
    if (releasedRounds.length) {
      const last = releasedRounds[releasedRounds.length - 1];
      const released = last.released;
      $("outcome").textContent = (releasedRounds.length > 1 || last !== r ? "第 " + last.number + " 轮：" : "") +
        (OUTCOME_ZH[released.outcome] || released.outcome);
      const names = [];
      for (const x of releasedRounds) for (const name of x.released.elected) names.push(name);
      const elected = $("elected");
      elected.replaceChildren();
      for (const name of names) elected.appendChild(el("li", null, name));
      // Many elected: their names smaller, so that the vote table keeps a readable size.
      elected.classList.toggle("many", names.length > 6);
      if (!names.length) elected.appendChild(el("li", "none", "尚无人当选"));
      figures(released);
      electedNow = released.elected;
      rows = released.tallies.slice().sort((x, y) => y.yes - x.yes);  // stable: ties keep stroke order
    }
    fit();
  }

  if (!s || !s.token || !electionId) {
    $("message").textContent = "请从主席团看板打开大屏（需要登录并选择选举）。";
    $("waiting").hidden = true;
    return;
  }
  let last = null;
  if (preview) {
    if (window.top === window.self) {
      $("message").textContent = "预览只在大会主席团页面中显示；会场大屏请打开不带预览的地址。";
      $("waiting").hidden = true;
      return;
    }
    const path = "/api/elections/" + encodeURIComponent(electionId) + "/live?view=projector&preview=" +
      encodeURIComponent(preview);
    const load = async () => {
      const response = await fetch(path, { headers: { Authorization: "Bearer " + s.token } }).catch(() => null);
      const body = response ? await response.json().catch(() => null) : null;
      if (!response || !response.ok || !body) {
        $("message").textContent = (body && body.message_zh) || "无法预览：连接中断";
        $("result").hidden = true;
        $("waiting").hidden = true;
        return;
      }
      $("message").textContent = "";
      last = body;
      render(last);
      document.body.dataset.height = String(body.height);
    };
    window.addEventListener("message", (event) => {
      if (event.origin === location.origin && event.data === "jipiao:refresh") load();
    });
    load();
  } else {
    const url = "/api/elections/" + electionId + "/live?view=projector&token=" + encodeURIComponent(s.token);
    const source = new EventSource(url);
    source.addEventListener("snapshot", (event) => {
      $("message").textContent = "";
      last = JSON.parse(event.data);
      render(last);
      document.body.dataset.height = event.lastEventId;
    });
    source.onerror = () => { $("message").textContent = "连接中断，正在重连…"; fit(); };
  }
  window.addEventListener("resize", () => { if (last) render(last); else fit(); });
  if (document.fonts) document.fonts.ready.then(() => { if (last) render(last); });  // metrics change
})();
