// /scrutiny (监票人、总监票人): the disputed papers of each batch drawn like the paper and ruled
// (RULES.md P6, O3), the count status (C1, I4), the decision with the engine's trace (C1) and the
// signatures (C2). ?round=ID opens a round; without it the rounds being counted or waiting for
// signatures are listed (one alone is opened).
//
// A resolution (POST /api/batches/ID/resolution) gives the final records of all the batch's
// disputed papers at once, with one reason: the page builds them from the record picked (第一遍 /
// 第二遍), the marks corrected on the drawn paper, and the rulings of every unclear mark, and
// writes the reason from each paper's own reason.
"use strict";

// How each mark is drawn, in the words of app/rules/words.py (/web/vocabulary.js).
const SCRUTINY_GLYPH = (window.JP_ZH && JP_ZH.mark_glyph) || {};
// A corrected mark cycles through what a paper can finally say (an unclear mark is ruled, P6).
const SCRUTINY_CYCLE = ["yes", "no", "abstain", "blank", "illegible"];
const SCRUTINY_LATIN = /[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]/;

function scrutinyPage() {
  const params = new URLSearchParams(location.search);
  return {
    may: false,
    me: null,
    loaded: false,
    error: "",
    rounds: [],
    round: null,
    electionTitle: "",
    congress: null,
    officials: [],
    status: null,
    queue: [],
    queueDone: "",
    decision: null,
    decideError: "",
    signError: "",
    reportError: "",
    liveNote: "",
    source: null,
    timer: null,
    running: null,
    again: false,
    // What an unclear mark can be ruled (P6); a blank box is never unclear.
    rulingOptions: ["yes", "no", "abstain", "illegible"].map((mark) => (
      { mark, label: SCRUTINY_GLYPH[mark] + " " + jp.zh("mark", mark), cls: mark }
    )),
    // A whole paper declared void (P1, P4, P9), in the report's words.
    voidLabel(rule) { return rule + " " + jp.zh("invalid_rule", rule); },

    get roundTitle() {
      return this.round ? this.electionTitle + " · 第 " + this.round.number + " 轮（" + jp.zh("round_kind", this.round.kind) + "）" : "";
    },
    get paperTitle() {
      return this.round ? this.electionTitle + " 选票 · 第 " + this.round.number + " 轮" : "";
    },
    // 另选他人 boxes: one per seat, none on a tie-round paper (M7).
    get writeInBoxes() {
      const definition = this.round && this.round.definition;
      return definition && definition.kind === "tie" ? 0 : this.round ? this.round.seats : 0;
    },

    async init() {
      const page = jp.page("/scrutiny", ["chief_scrutineer", "scrutineer"]);
      if (!page.session) return;
      this.may = page.allowed;
      this.me = page.session;
      try {
        const roundId = Number(params.get("round")) || null;
        if (roundId) await this.openRound(roundId);
        else await this.listRounds();
      } catch (e) {
        this.error = e.message;
      }
      this.loaded = true;
    },

    async listRounds() {
      const congressId = jp.congressId();
      if (!congressId) return;
      const elections = await jp.api("GET", "/api/congresses/" + congressId + "/elections");
      const found = [];
      for (const election of elections) {
        const listed = await jp.api("GET", "/api/elections/" + election.id + "/rounds");
        for (const r of listed.rounds) {
          if (["collected", "counting", "decided", "certified"].includes(r.status)) {
            found.push(Object.assign({ title: election.title }, r));
          }
        }
      }
      this.rounds = found;
      const waiting = found.filter((r) => r.status !== "certified");
      if (waiting.length === 1) await this.openRound(waiting[0].id);
    },

    // Everything is read before the round is shown: nothing flashes as missing.
    async openRound(roundId) {
      const round = await jp.api("GET", "/api/rounds/" + roundId);
      const election = await jp.api("GET", "/api/elections/" + round.election_id);
      this.electionTitle = election.title;
      const [congress, officials] = await Promise.all([
        jp.api("GET", "/api/congresses/" + election.congress_id),
        jp.api("GET", "/api/congresses/" + election.congress_id + "/officials"),
      ]);
      this.congress = congress;
      this.officials = officials;
      await this.refresh(roundId);
      this.listen();
    },

    // One refresh at a time: a change arriving meanwhile reads once more afterwards, and
    // whoever asks waits for data read after asking.
    refresh(roundId) {
      if (this.running) { this.again = true; return this.running; }
      this.running = (async () => {
        try {
          do {
            this.again = false;
            await this.load(roundId || this.round.id);
          } while (this.again);
        } catch (e) {
          this.error = e.message;
        } finally {
          this.running = null;
        }
      })();
      return this.running;
    },

    async load(id) {
      // Only the scrutineers read the queue; the presidium and auditors may read the decision.
      const [round, status, queue, decision] = await Promise.all([
        jp.api("GET", "/api/rounds/" + id),
        jp.api("GET", "/api/rounds/" + id + "/count-status"),
        this.may ? jp.api("GET", "/api/rounds/" + id + "/adjudication") : null,
        this.readDecision(id),
      ]);
      // Shown together: the status and the queue never disagree on the screen.
      this.round = round;
      this.status = status;
      if (queue) this.mergeQueue(queue);
      this.decision = decision;
      this.error = "";
      this.liveNote = "更新于 " + new Date().toLocaleTimeString("zh-CN");
    },

    async readDecision(id) {
      try {
        const decision = await jp.api("GET", "/api/rounds/" + id + "/decision");
        return decision.decision_hash ? decision : null;
      } catch (e) {
        if (e.status === 403) return null; // a role that may not read it: nothing to show
        throw e;
      }
    },

    listen() {
      const s = jp.session();
      if (!s || this.source || typeof EventSource === "undefined") return this.poll();
      const url = "/api/elections/" + this.round.election_id + "/live?token=" + encodeURIComponent(s.token);
      this.source = new EventSource(url);
      this.source.addEventListener("snapshot", () => this.refresh());
      this.source.onerror = () => { this.liveNote = "实时连接中断，每 5 秒刷新"; this.poll(); };
      this.source.onopen = () => { clearInterval(this.timer); this.timer = null; };
    },

    poll() {
      if (this.timer) return;
      this.timer = setInterval(() => this.refresh(), 5000);
    },

    // ------------------------------------------------------------ the queue

    // The server's records (marks by name) as the page draws them: marks in ballot order.
    record(shown) {
      return {
        marks: this.round.candidates.map((name) => shown.marks[name] || "blank"),
        write_ins: shown.write_ins.slice(),
        void: shown.void,
      };
    },

    // A refresh keeps what the scrutineer already chose and typed: a paper keeps its key as long
    // as the batch, its generation and the records stay the same.
    mergeQueue(data) {
      const before = new Map();
      for (const batch of this.queue) {
        before.set(batch.key, batch);
        for (const item of batch.items) before.set(item.key, item);
      }
      this.queue = data.batches.map((b) => {
        const a = b.only_in_pass_a.map((r) => this.record(r));
        const bb = b.only_in_pass_b.map((r) => this.record(r));
        const key = "b" + b.batch_id + "-" + b.status;
        const items = [];
        scrutinyPairs(a, bb).forEach((pair, n) => {
          const itemKey = key + "-d" + n + "-" + JSON.stringify(pair);
          items.push(before.get(itemKey) || this.pairItem(itemKey, n + 1, pair));
        });
        b.unclear.forEach((r, n) => {
          const rec = this.record(r);
          const itemKey = key + "-u" + n + "-" + JSON.stringify(rec);
          items.push(before.get(itemKey) || this.unclearItem(itemKey, n + 1, rec));
        });
        const old = before.get(key);
        return {
          key,
          id: b.batch_id,
          number: b.batch_number,
          status: b.status,
          needed: b.records_needed,
          items,
          error: old ? old.error : "",
          reentryReason: old ? old.reentryReason : "",
        };
      });
    },

    pairItem(key, n, pair) {
      const sides = [];
      if (pair.a) sides.push({ key: "a", label: "第一遍（A）录入", rec: pair.a, other: pair.b });
      if (pair.b) sides.push({ key: "b", label: "第二遍（B）录入", rec: pair.b, other: pair.a });
      return { key, n, kind: "pair", sides, choice: null, edit: this.editable(pair.a || pair.b), latin: false, rulings: {}, reason: "" };
    },

    unclearItem(key, n, rec) {
      return { key, n, kind: "unclear", sides: [{ key: "u", label: "两遍录入一致", rec, other: null }], choice: "u", edit: this.editable(rec), latin: false, rulings: {}, reason: "" };
    },

    editable(rec) {
      const boxes = [];
      for (let j = 0; j < this.writeInBoxes; j++) {
        const w = j < rec.write_ins.length ? rec.write_ins[j] : "";
        boxes.push({ text: w || "", illegible: w === null });
      }
      return { marks: rec.marks.slice(), write_ins: boxes, void: rec.void || "" };
    },

    itemLabel(batch, item) {
      const what = item.kind === "pair" ? "两遍不一致的选票" : "有无法辨认符号的选票";
      const count = batch.items.filter((i) => i.kind === item.kind).length;
      return "第 " + batch.number + " 批 · " + what + (count > 1 ? " 第 " + item.n + " 张" : "");
    },

    get queueSummary() {
      let pairs = 0;
      let unclear = 0;
      for (const batch of this.queue) {
        for (const item of batch.items) {
          if (item.kind === "pair") pairs += 1;
          else unclear += 1;
        }
      }
      return "两遍录入不一致的选票 " + pairs + " 张，有无法辨认符号的选票 " + unclear + " 张，共 " + this.queue.length + " 批。";
    },

    choose(item, side) {
      if (!this.may) return;
      item.choice = side;
      item.rulings = {};
    },

    startEdit(item) {
      if (!this.may) return;
      if (item.choice !== "edit") {
        const from = item.sides.find((s) => s.key === item.choice) || item.sides[0];
        item.edit = this.editable(from.rec);
      }
      item.choice = "edit";
      item.rulings = {};
    },

    editMark(item, i) {
      return item.edit ? item.edit.marks[i] : "blank";
    },

    cycle(item, i) {
      const now = item.edit.marks[i];
      const at = SCRUTINY_CYCLE.indexOf(now);
      item.edit.marks[i] = SCRUTINY_CYCLE[(at + 1) % SCRUTINY_CYCLE.length];
    },

    editHasLatin(item) {
      return !!item.edit && item.edit.write_ins.some((w) => !w.illegible && SCRUTINY_LATIN.test(w.text));
    },

    // The record the scrutineer's choice stands for, before the unclear marks are ruled.
    base(item) {
      if (item.choice === "edit") {
        const e = item.edit;
        const write_ins = e.write_ins
          .filter((w) => w.illegible || w.text.trim())
          .map((w) => (w.illegible ? null : w.text.trim()));
        return { marks: e.marks.slice(), write_ins, void: e.void || null, latin: item.latin };
      }
      const side = item.sides.find((s) => s.key === item.choice);
      if (!side) return null;
      // A name in Latin letters in a pass's record was confirmed by its teller at entry.
      const latin = side.rec.write_ins.some((w) => w !== null && SCRUTINY_LATIN.test(w));
      return { marks: side.rec.marks.slice(), write_ins: side.rec.write_ins.slice(), void: side.rec.void, latin };
    },

    unclearOf(item) {
      const base = this.base(item);
      if (!base) return [];
      return base.marks.map((m, i) => (m === "unclear" ? i : -1)).filter((i) => i >= 0);
    },

    final(item) {
      const base = this.base(item);
      if (!base) return null;
      const marks = base.marks.map((m, i) => (m === "unclear" ? item.rulings[i] || null : m));
      if (marks.includes(null)) return null;
      return Object.assign(base, { marks });
    },

    itemDone(item) {
      return !!this.final(item) && !!item.reason.trim();
    },

    itemState(item) {
      if (!this.base(item)) return "待选择：以第一遍为准、以第二遍为准，或按原票改正符号。";
      if (!this.final(item)) return "待裁定：每个无法辨认的符号（?）都要裁定。";
      if (!item.reason.trim()) return "待填写裁定理由。";
      return "已裁定：" + this.describe(item) + "。";
    },

    describe(item) {
      const parts = [];
      if (item.kind === "pair") {
        parts.push(item.choice === "a" ? "以第一遍为准" : item.choice === "b" ? "以第二遍为准" : "按原票改正符号");
      }
      for (const i of this.unclearOf(item)) {
        parts.push(this.round.candidates[i] + " 的符号裁定为" + jp.zh("mark", item.rulings[i]));
      }
      return parts.join("，");
    },

    // The reason recorded with the batch's resolution: each paper's decision and its own reason.
    reasonOf(batch) {
      return batch.items
        .map((item) => this.itemLabel(batch, item) + "：" + this.describe(item) + "。理由：" + item.reason.trim())
        .join("；");
    },

    async resolve(event, batch) {
      batch.error = "";
      this.queueDone = "";
      const open = batch.items.filter((i) => !this.itemDone(i));
      if (open.length) {
        batch.error = "还有 " + open.length + " 张未裁定完：" + open.map((i) => this.itemLabel(batch, i) + "（" + this.itemState(i) + "）").join("；");
        return;
      }
      const records = batch.items.map((item) => {
        const f = this.final(item);
        const marks = {};
        this.round.candidates.forEach((name, i) => { marks[name] = f.marks[i]; });
        const record = { marks, write_ins: f.write_ins, void: f.void };
        if (f.latin) record.write_ins_latin_confirmed = true;
        return record;
      });
      await jp.act(event, async () => {
        try {
          await jp.api("POST", "/api/batches/" + batch.id + "/resolution", { records, reason: this.reasonOf(batch) });
          this.queueDone = "第 " + batch.number + " 批已裁定，核对完成。";
          await this.refresh();
        } catch (e) {
          batch.error = e.message;
        }
      });
    },

    async reentry(event, batch) {
      batch.error = "";
      this.queueDone = "";
      if (!batch.reentryReason.trim()) {
        batch.error = "请写明责令重新录入的理由。";
        return;
      }
      const ok = await jp.confirm("第 " + batch.number + " 批两遍的录入将全部作废，由计票人重新录入两遍。确定责令重新录入？", "责令重新录入");
      if (!ok) return;
      await jp.act(event, async () => {
        try {
          await jp.api("POST", "/api/batches/" + batch.id + "/reentry", { reason: batch.reentryReason.trim() });
          this.queueDone = "已责令第 " + batch.number + " 批重新录入；计票人平板上的这一批将从头开始。";
          await this.refresh();
        } catch (e) {
          batch.error = e.message;
        }
      });
    },

    // ------------------------------------------------------------ drawing

    glyph(mark) { return SCRUTINY_GLYPH[mark] || ""; },
    markClass(mark) { return mark === "illegible" ? "illegible" : mark; },

    boxes(rec) {
      const out = rec.write_ins.slice();
      while (out.length < this.writeInBoxes) out.push("");
      return out;
    },

    writeInDiffers(w, other) {
      if (w === "") return false;
      const mine = JSON.stringify(w);
      return !other.write_ins.some((o) => JSON.stringify(o) === mine);
    },

    // ------------------------------------------------------------ count status and decision

    get statusLines() {
      const s = this.status;
      if (!s) return [];
      const lines = [];
      const collected = s.collected === null ? 0 : s.collected;
      lines.push({
        ok: s.all_declared,
        text: s.all_declared
          ? "收回选票 " + collected + " 张，已全部分入 " + s.batches + " 个批次（I4）"
          : "收回选票 " + collected + " 张，已分批 " + s.declared + " 张，还有 " + (collected - s.declared) + " 张未分批（I4，总计票人在“批次”页分批）",
      });
      const entering = s.batches_open - s.discrepancies_open - s.adjudications_open;
      lines.push({
        ok: entering === 0,
        text: entering === 0 ? "没有正在录入的批次" : "还有 " + entering + " 个批次正在录入",
      });
      lines.push({
        ok: s.discrepancies_open === 0,
        text: s.discrepancies_open === 0 ? "没有两遍录入不一致的批次" : s.discrepancies_open + " 个批次两遍录入不一致，待监票人裁定（见下方）",
      });
      lines.push({
        ok: s.adjudications_open === 0,
        text: s.adjudications_open === 0 ? "没有无法辨认的符号待裁定" : s.adjudications_open + " 个批次有无法辨认的符号，待监票人裁定（P6，见下方）",
      });
      lines.push({
        ok: s.collected !== null && s.papers_reconciled === s.collected,
        text: "已核对选票 " + s.papers_reconciled + " 张 / 收回 " + collected + " 张（C1）",
      });
      return lines;
    },

    get readySentence() {
      if (!this.status) return "";
      return this.status.ready
        ? "全部选票已录入并核对完毕（C1、I4），可以作出决定。"
        : "尚不能作出决定：上面标“…”的各项完成后才可以。";
    },

    async decide(event) {
      this.decideError = "";
      // Not ready: the server's refusal says what is missing; nothing to confirm.
      if (this.status && this.status.ready) {
        const ok = await jp.confirm("作出决定后，本轮结果即按规则计算并记入事件记录，不能再修改（更正须由大会主席团下令）。确定作出决定？", "作出决定");
        if (!ok) return;
      }
      await jp.act(event, async () => {
        try {
          const decision = await jp.api("POST", "/api/rounds/" + this.round.id + "/decide");
          this.decision = decision;
          await this.refresh();
        } catch (e) {
          this.decideError = e.message;
        }
      });
    },

    get reportFigures() {
      const r = this.round;
      const p = this.decision.result.papers;
      const figures = [
        { label: "应选名额", value: r.seats },
        { label: "应到人数", value: this.congress ? this.congress.delegates_total : "—" },
        { label: "实到人数", value: r.present },
        { label: "发出选票", value: r.issued === null ? "—" : r.issued },
        { label: "收回选票", value: r.collected === null ? "—" : r.collected },
        { label: "有效票", value: p.valid },
        { label: "无效票", value: p.invalid },
      ];
      for (const [rule, n] of Object.entries(p.invalid_by_rule)) {
        figures.push({ label: "其中 " + rule + " " + jp.zh("invalid_rule", rule), value: n });
      }
      return figures;
    },

    get thresholdSentence() {
      const m = this.decision.result.majority;
      const half = m.base % 2 === 0 ? String(m.base / 2) : (m.base - 1) / 2 + "½";
      return this.decision.summary.threshold_label_zh + " " + this.decision.summary.threshold + " 票：以" +
        jp.zh("base_kind", m.base_kind) + " " + m.base + " 为基数，赞成票须超过 " + m.base + " × ½ = " + half + " 票";
    },

    get rankedTallies() {
      return this.decision.result.tallies.slice().sort((x, y) => y.yes - x.yes);
    },

    personResult(p) {
      const result = this.decision.result;
      if (result.elected.includes(p.name)) return "当选";
      const next = result.next_round;
      if (next && next.kind === "tie" && next.candidates.includes(p.name)) return "票数相等，须重新投票";
      const threshold = this.decision.summary.threshold;
      if (threshold !== null && p.yes < threshold) return "未过半数（差 " + (threshold - p.yes) + " 票）";
      return "未当选";
    },

    personClass(p) {
      return this.decision.result.elected.includes(p.name) ? "elected" : "";
    },

    // ------------------------------------------------------------ signatures (C2)

    get hashGroups() {
      const h = this.decision ? this.decision.decision_hash || "" : "";
      return h.replace(/(.{4})/g, "$1 ").trim();
    },

    officialName(id) {
      const o = this.officials.find((x) => x.id === id);
      return o ? o.name : "编号 " + id;
    },

    get signedByMe() {
      return !!this.decision && this.decision.signatures.some((s) => s.official_id === this.me.official_id);
    },

    get signNeeded() {
      const d = this.decision;
      if (!d) return "";
      if (d.certified) return "已由总监票人和监票人签字确认（C2），本轮结果已冻结；下一步由大会主席团向会场公布（C3）。";
      const roles = d.signatures.map((s) => s.role);
      const needed = [];
      if (!roles.includes("chief_scrutineer")) needed.push("总监票人签字");
      if (!roles.includes("scrutineer")) needed.push("至少一名监票人签字");
      return "还需要：" + needed.join("、") + "（C2）。";
    },

    async openReport(event) {
      this.reportError = "";
      await jp.act(event, async () => {
        try {
          await jp.download("/api/rounds/" + this.round.id + "/report.pdf");
        } catch (e) {
          this.reportError = e.message;
        }
      });
    },

    async sign(event) {
      this.signError = "";
      const short = this.decision.decision_hash.slice(0, 8) + "…" + this.decision.decision_hash.slice(-8);
      const ok = await jp.confirm("签字即确认本轮决定（哈希 " + short + "）与原始选票相符；签字记入事件记录，不能撤回。确定签字？", "签字确认");
      if (!ok) return;
      await jp.act(event, async () => {
        try {
          this.decision = await jp.api("POST", "/api/rounds/" + this.round.id + "/sign");
          await this.refresh();
        } catch (e) {
          this.signError = e.message;
        }
      });
    },
  };
}

// The passes' differing records put side by side: each record of pass A with the record of pass
// B that differs from it least (the tellers usually disagree on one mark of one paper).
function scrutinyPairs(a, b) {
  const distance = (x, y) => {
    let d = 0;
    x.marks.forEach((m, i) => { if (m !== y.marks[i]) d += 1; });
    if (JSON.stringify(x.write_ins) !== JSON.stringify(y.write_ins)) d += 1;
    if (x.void !== y.void) d += 1;
    return d;
  };
  const left = b.slice();
  const pairs = a.map((x) => {
    if (!left.length) return { a: x, b: null };
    let best = 0;
    left.forEach((y, k) => { if (distance(x, y) < distance(x, left[best])) best = k; });
    return { a: x, b: left.splice(best, 1)[0] };
  });
  for (const y of left) pairs.push({ a: null, b: y });
  return pairs;
}
