// /presidium (大会主席团): the live tallies of /dashboard (dashboard.js's JipiaoLive renders
// them) and the presidium's decisions: release a certified result to the hall with a preview of
// the projector (C3), confirm or edit the follow-up round (M5–M8), reduce the seats (M10), cancel
// a follow-up round, rule a written-in person ineligible (P7), declare a round void, order a
// correction (六.8, C2), confirm changes of officials; the report PDF and the exports.
// Every snapshot of the stream (any change of the congress's chain) refreshes what the decisions
// are read from: the election's result, each decided round's decision, the requested changes.
"use strict";

const PROJECTOR_SIZES = { "1920x1080": [1920, 1080], "1024x768": [1024, 768] };
const EXPORTS = [
  ["json", "JSON"],
  ["csv", "CSV"],
  ["xlsx", "XLSX"],
  ["nist-err.json", "NIST 选举结果报告"],
];
const DECIDED = ["decided", "certified"];
const VOIDABLE = ["issued", "collected", "counting", "decided", "certified"];

function presidiumPage() {
  return {
    may: false,
    session: null,
    congressId: null,
    elections: [],
    electionId: null,
    snapshot: null,
    result: null,
    decisions: {},
    batches: {},
    changes: [],
    forms: {},
    loadError: "",
    conn: "连接中…",
    previewSize: "1920x1080",
    issuedCode: null,
    notice: "",
    exports: EXPORTS,
    DECIDED,
    VOIDABLE,
    projectorSizes: Object.keys(PROJECTOR_SIZES),
    _source: null,
    _refreshing: null,
    _again: false,

    async init() {
      const page = jp.page("/presidium", ["presidium"]);
      this.session = page.session;
      this.may = page.allowed;
      if (!this.session) return;
      this.congressId = jp.congressId() || (await this.onlyCongress());
      if (!this.congressId) {
        this.loadError = "未指定大会：请从大会秘书处的页面进入。";
        return;
      }
      try {
        this.elections = await jp.api("GET", "/api/congresses/" + this.congressId + "/elections");
      } catch (e) {
        this.loadError = e.message;
        return;
      }
      const wanted = Number(new URLSearchParams(location.search).get("election"));
      const chosen = this.elections.find((e) => e.id === wanted) || this.elections[0];
      if (chosen) this.choose(chosen.id);
    },

    // The secretariat's session names no congress: the only one there is, if there is one.
    async onlyCongress() {
      try {
        const congresses = await jp.api("GET", "/api/congresses");
        return congresses.length === 1 ? congresses[0].id : null;
      } catch (e) {
        return null;
      }
    },

    choose(id) {
      this.electionId = Number(id);
      this.snapshot = null;
      this.result = null;
      this.decisions = {};
      this.batches = {};
      this.forms = {};
      const url = new URL(location.href);
      url.searchParams.set("election", String(this.electionId));
      history.replaceState(null, "", url);
      if (this._source) this._source.close();
      this._source = JipiaoLive.stream(this.electionId, this.session.token, (snapshot) => {
        this.snapshot = snapshot;
        JipiaoLive.render(this.$refs.live, snapshot);
        this.refresh();
        for (const frame of document.querySelectorAll("iframe.projector-frame")) {
          frame.contentWindow.postMessage("jipiao:refresh", location.origin);
        }
      }, (state) => {
        this.conn = state === "live" ? "实时" : "连接中断，正在重连…";
      });
    },

    // One refresh at a time; a snapshot arriving meanwhile asks for one more afterwards.
    async refresh() {
      if (this._refreshing) {
        this._again = true;
        return this._refreshing;
      }
      this._refreshing = (async () => {
        do {
          this._again = false;
          await this.load();
        } while (this._again);
      })();
      try {
        await this._refreshing;
      } finally {
        this._refreshing = null;
      }
    },

    async load() {
      const id = this.electionId;
      try {
        const [result, changes] = await Promise.all([
          jp.api("GET", "/api/elections/" + id + "/result"),
          jp.api("GET", "/api/congresses/" + this.congressId + "/official-changes"),
        ]);
        // A round's decision (with its flags and history) changes only with the round's state:
        // read again when that changed, not at every paper of a count.
        const decided = this.rounds.filter((r) => DECIDED.includes(r.status));
        const decisions = {};
        await Promise.all(decided.map(async (r) => {
          const known = this.decisions[r.round_id];
          const seen = r.status + (r.released ? ":released" : "");
          decisions[r.round_id] = known && known._seen === seen
            ? known
            : Object.assign(await jp.api("GET", "/api/rounds/" + r.round_id + "/decision"), { _seen: seen });
        }));
        if (id !== this.electionId) return;
        this.result = result;
        this.changes = changes;
        this.decisions = decisions;
        this.loadError = "";
        for (const r of this.rounds) this.seedForm(r);
      } catch (e) {
        this.loadError = e.message;
      }
    },

    get rounds() {
      return this.snapshot ? this.snapshot.rounds : [];
    },
    get election() {
      return this.elections.find((e) => e.id === this.electionId) || null;
    },
    get nextNumber() {
      return this.rounds.reduce((m, r) => Math.max(m, r.number), 0) + 1;
    },
    later(r) {
      return this.rounds.some((x) => x.number > r.number && x.status !== "cancelled");
    },
    roundTitle(r) {
      const kind = r.kind === "regular" ? "" : "（" + jp.zh("round_kind", r.kind) + "）";
      return "第 " + r.number + " 轮" + kind;
    },
    names(list) {
      return list && list.length ? list.join("、") : "无";
    },

    form(roundId) {
      if (!this.forms[roundId]) {
        this.forms[roundId] = {
          why: { correction: "", void: "", ineligible: "", cancel: "", reduce: "" },
          batches: [], name: "", list: [], added: [], extra: "", error: "", done: false,
        };
      }
      return this.forms[roundId];
    },
    seedForm(r) {
      const f = this.form(r.round_id);
      const d = this.decisions[r.round_id];
      if (d && d.follow_up && !f.seededFor) {
        f.list = d.follow_up.proposal.slice();
        f.seededFor = d.decision_hash;
      }
    },
    // A decision taken: said at the top of the decisions (its card may be gone with it); a
    // refusal: the server's message_zh beside the button, in the card's own slot.
    say(f, ok, error) {
      f.error = error || "";
      f.done = Boolean(ok);
      if (ok) this.notice = ok;
    },

    // ---- what the presidium has to decide now

    get toRelease() {
      return this.rounds.filter((r) => r.status === "certified" && !r.released);
    },
    get followUps() {
      if (!this.result || this.result.seats_reduced_from !== null) return [];
      return this.rounds.filter((r) => {
        const d = this.decisions[r.round_id];
        return r.status === "certified" && d && d.follow_up && !this.later(r);
      });
    },
    get pendingChanges() {
      return this.changes.filter((c) => !c.confirmed);
    },
    // M10 is a choice once every round is over (certified, void or cancelled) and seats are open:
    // not during a count, nor while a follow-up round is open (cancel it first).
    get mayReduce() {
      const over = ["certified", "void", "cancelled"];
      return Boolean(this.result && !this.result.complete && this.result.seats_reduced_from === null &&
        this.rounds.some((r) => r.status === "certified") && this.rounds.every((r) => over.includes(r.status)));
    },
    // The persons the presidium may put on a supplementary list: the engine's proposal first, then
    // everyone else of the round not elected (write-ins included), by yes votes, then the names
    // the presidium added (the server judges them: M9, O1, P7).
    choices(r) {
      const d = this.decisions[r.round_id];
      if (!d || !d.follow_up) return [];
      const elected = new Set((this.result ? this.result.elected : []).map((e) => e.name));
      const f = this.form(r.round_id);
      const names = d.follow_up.proposal.slice();
      const tallies = (d.result.tallies || []).slice().sort((a, b) => b.yes - a.yes);
      for (const t of tallies) {
        if (!names.includes(t.name) && !elected.has(t.name) && !d.ineligible.includes(t.name)) names.push(t.name);
      }
      for (const n of f.added) if (!names.includes(n)) names.push(n);
      return names;
    },
    addName(r) {
      const f = this.form(r.round_id);
      const name = f.extra.trim();
      if (!name) return;
      if (!f.added.includes(name)) f.added.push(name);
      if (!f.list.includes(name)) f.list.push(name);
      f.extra = "";
    },

    // ---- the decisions

    // An irreversible decision: asked in one sentence, then sent once — the tapped button (taken
    // before the question: the event is over once it is answered) stays disabled until the
    // server has answered.
    async decide(event, sentence, ok, fn) {
      const button = event && event.currentTarget;
      if (!(await jp.confirm(sentence, ok))) return;
      await jp.act(button, fn);
    },

    async release(event, r) {
      const f = this.form("release-" + r.round_id);
      const sentence = "公布后，" + this.roundTitle(r) + "的得票和当选人将立即显示在会场大屏上，不能撤回。确定公布？";
      await this.decide(event, sentence, "公布", async () => {
        try {
          await jp.api("POST", "/api/rounds/" + r.round_id + "/release");
          this.say(f, this.roundTitle(r) + "的结果已向会场公布。");
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },

    async openFollowUp(event, r) {
      const d = this.decisions[r.round_id];
      const f = this.form(r.round_id);
      const up = d.follow_up;
      const said = this.form("follow-" + r.round_id);
      const tie = up.kind === "tie";
      const list = tie ? up.proposal : f.list;
      const what = tie ? "票数相等重新投票" : "另行选举";
      const sentence = "开启第 " + this.nextNumber + " 轮" + what + "后，候选人名单（" + this.names(list) +
        "）和应选名额（" + up.seats + " 名）将冻结，不能再修改。确定开启？";
      await this.decide(event, sentence, "开启", async () => {
        try {
          const body = tie ? {} : { candidates: list };
          const opened = await jp.api("POST", "/api/rounds/" + r.round_id + "/follow-up", body);
          this.say(said, "已开启第 " + opened.number + " 轮" + what + "：" + this.names(opened.candidates) +
            "（按姓氏笔画排列），应选 " + opened.seats + " 名。请通知大会秘书处印制选票。");
        } catch (e) {
          this.say(said, "", e.message);
        }
      });
    },

    async reduceSeats(event) {
      const f = this.form("election");
      const filled = this.result ? this.result.seats_filled : 0;
      const sentence = "减少名额后，本项选举的应选名额减为已当选的 " + filled + " 名，不再选举，不能撤回。确定减少名额？";
      await this.decide(event, sentence, "减少名额", async () => {
        try {
          const done = await jp.api("POST", "/api/elections/" + this.electionId + "/reduce-seats", { reason: f.why.reduce });
          this.say(f, "名额已由 " + done.seats_reduced_from + " 名减为 " + done.seats + " 名，本项选举结束。");
          f.why.reduce = "";
          this.refresh();
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },

    async cancelRound(event, r) {
      const f = this.form(r.round_id);
      const sentence = "撤销后，" + this.roundTitle(r) + "作废（尚未发出选票），之后可另定名单重新开启，或减少名额。确定撤销？";
      await this.decide(event, sentence, "撤销", async () => {
        try {
          await jp.api("POST", "/api/rounds/" + r.round_id + "/cancel", { reason: f.why.cancel });
          this.say(f, this.roundTitle(r) + "已撤销。");
          f.why.cancel = "";
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },

    async voidRound(event, r) {
      const f = this.form(r.round_id);
      const sentence = "宣布无效后，" + this.roundTitle(r) + "作废、不计结果，须按当前实到人数重新选举，不能撤回。确定宣布无效？";
      await this.decide(event, sentence, "宣布无效", async () => {
        try {
          const done = await jp.api("POST", "/api/rounds/" + r.round_id + "/void", { reason: f.why.void });
          const rerun = done.rerun
            ? "已开启第 " + done.rerun.number + " 轮重新选举。"
            : "重新选举尚未开启：" + (done.rerun_refused ? done.rerun_refused.message_zh : "");
          this.say(f, this.roundTitle(r) + "已宣布无效。" + rerun);
          f.why.void = "";
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },

    writeIns(r) {
      const d = this.decisions[r.round_id];
      if (!d || !d.result) return [];
      return d.result.tallies.filter((t) => t.write_in && !d.ineligible.includes(t.name)).map((t) => t.name);
    },
    async ruleIneligible(event, r) {
      const f = this.form(r.round_id);
      const sentence = "裁定后，" + f.name + " 不参加" + this.roundTitle(r) + "及以后各轮的排名（选票仍有效），本轮须重新决定、重新签字确认。确定裁定？";
      await this.decide(event, sentence, "裁定", async () => {
        try {
          await jp.api("POST", "/api/rounds/" + r.round_id + "/ineligible", { name: f.name, reason: f.why.ineligible });
          this.say(f, "已裁定 " + f.name + " 不具备被选举资格；请总监票人重新决定、签字。");
          f.why.ineligible = "";
          f.name = "";
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },

    async loadBatches(r) {
      try {
        const listed = await jp.api("GET", "/api/rounds/" + r.round_id + "/batches");
        this.batches[r.round_id] = listed.batches;
      } catch (e) {
        this.say(this.form(r.round_id), "", e.message);
      }
    },
    async orderCorrection(event, r) {
      const f = this.form(r.round_id);
      const numbers = (this.batches[r.round_id] || []).filter((b) => f.batches.includes(b.id)).map((b) => "第 " + b.number + " 批");
      const which = numbers.length ? numbers.join("、") : "全部批次";
      const sentence = "下令更正后，" + this.roundTitle(r) + "的结果作废，" + which + "须由两遍重新录入，然后重新决定、重新签字确认。确定下令更正？";
      await this.decide(event, sentence, "下令更正", async () => {
        try {
          const body = { reason: f.why.correction };
          if (f.batches.length) body.batches = f.batches.map(Number);
          await jp.api("POST", "/api/rounds/" + r.round_id + "/correction", body);
          this.say(f, "已下令更正" + this.roundTitle(r) + "：" + which + "重新录入。");
          f.why.correction = "";
          f.batches = [];
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },

    changeText(c) {
      return jp.zh("official_change", c.action) + " · " + c.name + "（" + c.role_zh + "）";
    },
    async confirmChange(event, c) {
      const f = this.form("change-" + c.id);
      const sentence = "确认后，「" + this.changeText(c) + "」立即生效并记入事件链，不能撤回。确定确认？";
      await this.decide(event, sentence, "确认", async () => {
        try {
          const done = await jp.api("POST", "/api/official-changes/" + c.id + "/confirm");
          this.say(f, "已确认：" + this.changeText(c) + "。");
          if (done.login_code) this.issuedCode = { name: c.name, role_zh: c.role_zh, ...done.login_code };
          this.refresh();
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },

    async download(event, path, file) {
      const f = this.form("downloads");
      await jp.act(event, async () => {
        try {
          await jp.download(path, file);
          this.say(f, "", "");
        } catch (e) {
          this.say(f, "", e.message);
        }
      });
    },
    // The names the server gives them (Content-Disposition).
    reportFile(r) {
      return "report-election" + this.electionId + "-round" + r.number + ".pdf";
    },
    exportFile(format) {
      return "election" + this.electionId + "-results." + format;
    },
    time(at) {
      return at ? at.replace("T", " ").replace("Z", "") : "";
    },

    // ---- the preview of the hall's screen, at the hall's size, scaled into the card

    previewSrc(r) {
      return "/projector?election=" + this.electionId + "&preview=" + r.round_id;
    },
    previewBox() {
      const [w, h] = PROJECTOR_SIZES[this.previewSize];
      return { width: w, height: h };
    },
    fitPreview(wrap) {
      const frame = wrap.querySelector("iframe");
      const { width, height } = this.previewBox();
      const scale = wrap.clientWidth / width;
      frame.style.width = width + "px";
      frame.style.height = height + "px";
      frame.style.transform = "scale(" + scale + ")";
      wrap.style.height = height * scale + "px";
    },
    watchPreview(wrap) {
      const redo = () => this.fitPreview(wrap);
      new ResizeObserver(redo).observe(wrap);
      this.$watch("previewSize", () => this.$nextTick(redo));
      redo();
    },
  };
}
