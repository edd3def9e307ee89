// The hall projector (/projector?election=ID): large type; per candidate it shows only what the
// presidium has released (C3). It asks the stream for view=projector, so unreleased numbers
// never reach this browser. Opened from the dashboard (same browser: same session).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const electionId = new URLSearchParams(location.search).get("election");
  let s = null;
  try { s = JSON.parse(localStorage.getItem("jipiao.session") || "null"); } catch (e) { s = null; }
  if (!s || !s.token || !electionId) {
    $("message").textContent = "请从主席团看板打开大屏（需要登录并选择选举）。";
    $("waiting").hidden = true;
    return;
  }
  const OUTCOME_ZH = {
    seats_filled: "名额已满", tie_round: "末位票数相等，将重新投票", supplementary_round: "当选人数不足，将另行选举",
    seats_vacant: "票数相等者不当选，名额空缺", quorum_not_met: "不足法定人数", void: "选举无效，将重新选举",
  };
  const KIND_ZH = { regular: "", tie: "（票数相等重新投票）", supplementary: "（另行选举）", rerun: "（重新选举）" };

  function render(snapshot) {
    $("title").textContent = snapshot.title;
    const rounds = snapshot.rounds;
    if (!rounds.length) return;
    const r = rounds[rounds.length - 1];
    $("round").textContent = "第 " + r.number + " 轮" + (KIND_ZH[r.kind] || "");
    const p = r.progress;
    $("progress").hidden = Boolean(r.released);  // once released, the result fills the screen
    $("entered").textContent = p.reconciled;
    $("collected").textContent = p.collected === null ? "—" : p.collected;
    const total = p.collected || 0;
    $("entered-bar").style.width = (total ? Math.min(100, (100 * p.reconciled) / total) : 0) + "%";
    // M9: the persons elected in every released round stay on screen while a follow-up round
    // is counted; the table shows the last released round.
    const releasedRounds = rounds.filter((x) => x.released);
    $("waiting").hidden = Boolean(r.released);
    $("result").hidden = releasedRounds.length === 0;
    if (!releasedRounds.length) return;
    const last = releasedRounds[releasedRounds.length - 1];
    const released = last.released;
    $("outcome").textContent = (releasedRounds.length > 1 || last !== r ? "第 " + last.number + " 轮：" : "") +
      (OUTCOME_ZH[released.outcome] || released.outcome);
    const names = [];
    for (const x of releasedRounds) for (const name of x.released.elected) names.push(name);
    const elected = $("elected");
    elected.replaceChildren();
    for (const name of names) {
      const li = document.createElement("li");
      li.textContent = name;
      elected.appendChild(li);
    }
    if (!names.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = "尚无人当选";
      elected.appendChild(li);
    }
    const body = $("tallies").tBodies[0];
    body.replaceChildren();
    for (const t of released.tallies) {
      const tr = document.createElement("tr");
      if (released.elected.includes(t.name)) tr.className = "is-elected";
      for (const v of [t.name, t.yes, t.write_in ? "" : t.no, t.write_in ? "" : t.abstain]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  const url = "/api/elections/" + electionId + "/live?view=projector&token=" + encodeURIComponent(s.token);
  const source = new EventSource(url);
  source.addEventListener("snapshot", (event) => {
    $("message").textContent = "";
    render(JSON.parse(event.data));
  });
  source.onerror = () => { $("message").textContent = "连接中断，正在重连…"; };
})();
