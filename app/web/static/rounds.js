// /rounds (轮次控制): the secretariat opens an election's round (what will be frozen is shown
// first, and the frozen definition after), prints its papers (GET …/papers.pdf with its options,
// through jp.download: the token never goes into an address), records the papers printed and
// issued (I1, Q1 checked again and 实到 frozen) and collected (I2: an overcount voids the round
// and opens its rerun, both shown in red). Follow-up rounds (tie, supplementary, rerun) are shown
// with their kind and state; opening a tie or supplementary round is the presidium's page's job.
// Attendance and the rounds are read again every 5 s (other desks check in, other pages act).
"use strict";

const ROUNDS_POLL_MS = 5000;

function roundsPage() {
  return {
    may: false,
    congresses: [],
    congressId: null,
    congressName: "",
    loadError: "",
    loaded: false,
    attendance: null,
    elections: [],
    rounds: {},
    preview: {},
    forms: {},
    notes: {},
    seen: {},

    async init() {
      this.may = jp.page("/rounds", ["admin"]).allowed;
      try {
        const picked = await congressPick.load();
        this.congresses = picked.congresses;
        if (picked.id) await this.useCongress(picked.id);
      } catch (e) {
        this.loadError = e.message;
      }
      setInterval(() => this.refresh(), ROUNDS_POLL_MS);
    },

    chooseCongress(value) {
      if (!value) return;
      congressPick.choose(value);
      this.useCongress(Number(value));
    },

    async useCongress(id) {
      this.congressId = id;
      this.congressName = congressPick.name(this.congresses, id);
      await this.refresh();
    },

    // Assigns only what changed, so that a poll does not redraw (and close) what a person has open.
    keep(key, value) {
      const text = JSON.stringify(value);
      if (this.seen[key] === text) return false;
      this.seen[key] = text;
      return true;
    },

    async refresh() {
      if (!this.congressId) return;
      try {
        const base = "/api/congresses/" + this.congressId;
        const [attendance, elections] = await Promise.all([
          jp.api("GET", base + "/attendance"),
          jp.api("GET", base + "/elections"),
        ]);
        if (this.keep("attendance", attendance)) this.attendance = attendance;
        if (this.keep("elections", elections)) this.elections = elections;
        await Promise.all(elections.map((e) => this.refreshElection(e)));
        this.loadError = "";
        this.loaded = true;
      } catch (e) {
        this.loadError = e.message;
      }
    },

    async refreshElection(election) {
      const listed = await jp.api("GET", "/api/elections/" + election.id + "/rounds");
      for (const r of listed.rounds) this.newForm(r.id);
      if (this.keep("rounds:" + election.id, listed.rounds)) this.rounds[election.id] = listed.rounds;
      if (!this.openable(election)) return;
      const [candidates, readiness] = await Promise.all([
        jp.api("GET", "/api/elections/" + election.id + "/candidates"),
        jp.api("GET", "/api/elections/" + election.id + "/readiness"),
      ]);
      const preview = { candidates: candidates.candidates, readiness };
      if (this.keep("preview:" + election.id, preview)) this.preview[election.id] = preview;
    },

    // The server's answer shown at once (the next read brings the rest).
    putRound(round) {
      const list = this.roundsOf(round.election_id).filter((r) => r.id !== round.id);
      list.push(round);
      list.sort((a, b) => a.number - b.number);
      this.rounds[round.election_id] = list;
    },

    // ---------------------------------------------------------------- reading

    attendanceText() {
      const a = this.attendance;
      return a ? "现在实到 " + a.present + " 人，应到 " + a.delegates_total + " 人（签到台办理签到）" : "";
    },

    roundsOf(electionId) {
      return this.rounds[electionId] || [];
    },

    newForm(roundId) {
      if (!this.forms[roundId]) {
        this.forms[roundId] = { copies: "", paper_size: "", per_page: "", printed: "", issued: "", collected: "" };
      }
    },

    form(r) {
      return this.forms[r.id] || {};
    },

    roundTitle(r) {
      return "第 " + r.number + " 轮 · " + jp.zh("round_kind", r.kind);
    },

    statusTone(r) {
      if (r.status === "void") return "bad";
      if (r.status === "open" || r.status === "issued") return "warn";
      if (r.status === "decided" || r.status === "certified") return "ok";
      return "";
    },

    sameElection(r) {
      return this.roundsOf(r.election_id);
    },

    followed(r) {
      return this.sameElection(r).find((x) => x.id === r.follows_round_id) || null;
    },

    rerunOf(r) {
      return this.sameElection(r).find((x) => x.follows_round_id === r.id && x.kind === "rerun") || null;
    },

    shortHash(hash) {
      return hash ? hash.slice(0, 12) + "…" : "";
    },

    // Every option of the frozen (or the election's) rules profile in words (JP_ZH.profile_options).
    ruleLines(profile) {
      const options = (window.JP_ZH && JP_ZH.profile_options) || [];
      return options.map((o) => {
        const value = profile[o.option];
        const choice = o.choices.find((c) => c.value === value);
        return o.label + "：" + (choice ? choice.label : String(value)) + "（" + o.rule + "）";
      });
    },

    quorumOf(electionId) {
      const lines = this.attendance ? this.attendance.elections : [];
      return lines.find((l) => l.election_id === electionId) || null;
    },

    quorumLine(e) {
      const q = this.quorumOf(e.id);
      if (!q) return "";
      const verdict = q.met ? "已达到" : "还差 " + (q.required - this.attendance.present) + " 人";
      return this.attendance.present + " 人（法定人数至少 " + q.required + " 人，" + verdict + "）";
    },

    electionNote(electionId) {
      return this.notes["e" + electionId] || { tone: "", text: "" };
    },

    openRefusal(electionId) {
      return this.notes["o" + electionId] || "";
    },

    roundNote(roundId, step) {
      return this.notes["r" + roundId + step] || { tone: "", text: "" };
    },

    note(key, tone, text) {
      this.notes[key] = { tone, text };
    },

    // ---------------------------------------------------------------- opening a round

    lastRound(e) {
      const rounds = this.roundsOf(e.id).filter((r) => r.status !== "cancelled");
      return rounds.length ? rounds[rounds.length - 1] : null;
    },

    // The first round, or the rerun of a void round whose rerun could not open then (Q1).
    openable(e) {
      if (!(e.id in this.rounds)) return false;
      const last = this.lastRound(e);
      return last === null || last.status === "void";
    },

    nextNumber(e) {
      return this.roundsOf(e.id).reduce((n, r) => Math.max(n, r.number), 0) + 1;
    },

    openLabel(e) {
      const last = this.lastRound(e);
      if (last === null) return "开启第 1 轮";
      return "开启第 " + this.nextNumber(e) + " 轮（重新选举）";
    },

    previewNames(e) {
      const last = this.lastRound(e);
      if (last) return last.candidates;
      const p = this.preview[e.id];
      return p ? p.candidates.map((c) => c.name) : [];
    },

    previewSeats(e) {
      const last = this.lastRound(e);
      return last ? last.seats : e.seats;
    },

    readinessChecks(e) {
      const p = this.preview[e.id];
      if (!p) return [];
      const r = p.readiness;
      const checks = [];
      if (!this.lastRound(e)) {
        checks.push(r.slate.ok
          ? { state: "ok", text: "差额选举：候选人 " + r.slate.candidates + " 名，应选 " + r.slate.seats + " 名（六.4）" }
          : { state: "bad", text: r.slate.message_zh });
        if (r.staffing.ok) checks.push({ state: "ok", text: "选举工作人员配备齐全（O2）" });
        for (const problem of r.staffing.problems) checks.push({ state: "bad", text: problem.message_zh });
      }
      const q = r.quorum;
      checks.push({
        state: q.met ? "ok" : "bad",
        text: (q.met ? "法定人数已达到" : "法定人数不足") + "（Q1）：实到 " + q.present + " 人，至少须 " + q.required + " 人",
      });
      return checks;
    },

    async openRound(event, e) {
      const first = this.lastRound(e) === null;
      const sentence = first
        ? "开启第 1 轮后，候选人名单、应选人数和规则将冻结，不能再修改。确定开启？"
        : "开启第 " + this.nextNumber(e) + " 轮重新选举后，将按同样的候选人和名额印制新的选票，本轮定义随即冻结。确定开启？";
      if (!(await jp.confirm(sentence, "开启"))) return;
      this.notes["o" + e.id] = "";
      await jp.act(event, async () => {
        try {
          const round = await jp.api("POST", "/api/elections/" + e.id + "/rounds");
          this.newForm(round.id);
          this.putRound(round);
          this.note("e" + e.id, "ok", "第 " + round.number + " 轮已开启，定义已冻结（哈希 " + this.shortHash(round.definition_hash) + "）。下一步：印制选票。");
          await this.refresh();
        } catch (err) {
          this.notes["o" + e.id] = err.message;
        }
      });
    },

    // ---------------------------------------------------------------- printing

    copiesDefault(r) {
      if (r.issued !== null) return r.present;
      return this.attendance ? this.attendance.present : 0;
    },

    copiesHint(r) {
      const n = this.copiesDefault(r);
      const why = r.issued !== null ? "本轮冻结的实到人数" : "现在的签到人数";
      return "不填份数则印制 " + n + " 份（" + why + "）。每张选票的二维码相同，含本轮定义哈希。";
    },

    async print(event, r) {
      const f = this.form(r);
      const query = new URLSearchParams();
      if (String(f.copies).trim() !== "") query.set("copies", String(f.copies).trim());
      if (f.paper_size) query.set("paper_size", f.paper_size);
      if (f.per_page) query.set("per_page", f.per_page);
      const path = "/api/rounds/" + r.id + "/papers.pdf" + (query.toString() ? "?" + query : "");
      const election = this.elections.find((x) => x.id === r.election_id);
      const file = (election ? election.title : "选票") + "-第" + r.number + "轮选票" + ".pdf";
      await jp.act(event, async () => {
        this.note("r" + r.id + "print", "", "正在生成第 " + r.number + " 轮选票，请稍候……");
        try {
          await jp.download(path, file);
          const copies = query.get("copies") || this.copiesDefault(r);
          this.note("r" + r.id + "print", "ok", "已下载第 " + r.number + " 轮选票 " + copies + " 份：" + file);
        } catch (err) {
          this.note("r" + r.id + "print", "bad", err.message);
        }
      });
    },

    // ---------------------------------------------------------------- issuance (I1) and collection (I2)

    count(value) {
      const text = String(value).trim();
      return /^\d+$/.test(text) ? Number(text) : null;
    },

    issueChecks(r) {
      const q = this.quorumOf(r.election_id);
      const present = this.attendance ? this.attendance.present : 0;
      const checks = [];
      if (q) {
        checks.push({
          state: q.met ? "ok" : "bad",
          text: "Q1：现在实到 " + present + " 人，法定人数至少 " + q.required + " 人" + (q.met ? "" : "，不能发出选票"),
        });
      }
      const printed = this.count(this.form(r).printed);
      const issued = this.count(this.form(r).issued);
      if (issued !== null) checks.push(this.notMore("I1：发出", issued, "实到人数", present, "人", "不能登记"));
      if (issued !== null && printed !== null) {
        checks.push(this.notMore("I1：发出", issued, "印制的选票", printed, "张", "不能登记"));
        if (issued <= printed) checks.push({ state: "", text: "剩余 " + (printed - issued) + " 张选票当众销毁" });
      }
      return checks;
    },

    async issue(event, r) {
      const printed = this.count(this.form(r).printed);
      const issued = this.count(this.form(r).issued);
      const key = "r" + r.id + "issue";
      if (printed === null || issued === null) {
        this.note(key, "bad", "请填写印制选票数和发出选票数（整数）。");
        return;
      }
      const present = this.attendance ? this.attendance.present : 0;
      const sentence = "登记后，第 " + r.number + " 轮的实到人数冻结为现在的 " + present + " 人，剩余 " +
        Math.max(printed - issued, 0) + " 张选票记为当众销毁，不能更改。确定登记？";
      if (!(await jp.confirm(sentence, "登记"))) return;
      await jp.act(event, async () => {
        try {
          const round = await jp.api("POST", "/api/rounds/" + r.id + "/issuance", { printed, issued });
          this.putRound(round);
          this.note(key, "ok", "已登记：印制 " + round.printed + " 张，发出 " + round.issued + " 张，当众销毁 " +
            round.destroyed + " 张；本轮实到冻结为 " + round.present + " 人。");
          await this.refresh();
        } catch (err) {
          this.note(key, "bad", err.message);
        }
      });
    },

    overcountBase(r) {
      return (r.definition.profile || {}).overcount_base === "issued" ? "issued" : "present";
    },

    i2Text(r) {
      if (r.issued === null) return "";
      if (this.overcountBase(r) === "issued") {
        return "I2：收回的选票多于发出的选票（" + r.issued + " 张）时，本轮选举无效，应重新选举。";
      }
      return "I2：收回的选票多于实到人数（本轮 " + r.present + " 人）或多于发出的选票（" + r.issued +
        " 张）时，本轮选举无效，应重新选举。";
    },

    // The overcount as the page can see it before sending (the server decides: I2).
    overLimits(r, collected) {
      const over = [];
      if (this.overcountBase(r) === "present" && collected > r.present) over.push("实到人数 " + r.present + " 人");
      if (collected > r.issued) over.push("发出的选票 " + r.issued + " 张");
      return over;
    },

    // One check as a person reads it: "发出 8 张，不多于实到人数 8 人" or "发出 9 张，多于实到人数 8 人".
    notMore(what, value, limitName, limit, unit, refused) {
      const ok = value <= limit;
      const text = what + " " + value + " 张，" + (ok ? "不多于" : "多于") + limitName + " " + limit + " " + unit;
      return { state: ok ? "ok" : "bad", text: ok || !refused ? text : text + "，" + refused };
    },

    collectChecks(r) {
      const collected = this.count(this.form(r).collected);
      if (collected === null || r.issued === null) return [];
      const checks = [];
      if (this.overcountBase(r) === "present") {
        checks.push(this.notMore("I2：收回", collected, "实到人数", r.present, "人", ""));
      }
      checks.push(this.notMore("I2：收回", collected, "发出的选票", r.issued, "张", ""));
      if (this.overLimits(r, collected).length) {
        checks.push({ state: "bad", text: "登记后本轮选举将无效，须重新选举" });
      }
      return checks;
    },

    async collect(event, r) {
      const collected = this.count(this.form(r).collected);
      const key = "r" + r.id + "collect";
      if (collected === null) {
        this.note(key, "bad", "请填写收回选票数（整数）。");
        return;
      }
      const over = this.overLimits(r, collected);
      const sentence = over.length
        ? "收回 " + collected + " 张多于" + over.join("、") + "：登记后第 " + r.number + " 轮选举无效，须重新选举（I2），不能更改。确定登记？"
        : "登记第 " + r.number + " 轮收回选票 " + collected + " 张后不能更改，之后按此数建立计票批次。确定登记？";
      if (!(await jp.confirm(sentence, "登记"))) return;
      await jp.act(event, async () => {
        try {
          const result = await jp.api("POST", "/api/rounds/" + r.id + "/collection", { collected });
          this.putRound(result.round);
          if (result.rerun) this.putRound(result.rerun);
          if (!result.void) {
            this.note(key, "ok", "已登记收回 " + collected + " 张。下一步：总计票人在“批次”页建立计票批次。");
          } else if (result.rerun) {
            this.note(key, "bad", "本轮选举无效：" + result.round.void_reason.message_zh + "。已开启第 " +
              result.rerun.number + " 轮重新选举，请印制新的选票。");
          } else {
            this.note(key, "bad", "本轮选举无效：" + result.round.void_reason.message_zh + "。重新选举未能开启：" +
              result.rerun_refused.message_zh);
          }
          await this.refresh();
        } catch (err) {
          this.note(key, "bad", err.message);
        }
      });
    },
  };
}
