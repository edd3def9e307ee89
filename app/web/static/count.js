// /count (总计票人, and the secretariat): split a round's collected papers into batches, each with
// its two tellers (O3), and follow both passes of every batch live. ?round=ID opens a round;
// without it the congress's rounds whose papers are collected (or being counted) are listed.
"use strict";

function countPage() {
  const params = new URLSearchParams(location.search);
  return {
    may: false,
    loaded: false,
    error: "",
    congresses: [],
    congressId: null,
    congressChosen: false,
    rounds: [],
    round: null,
    electionTitle: "",
    tellers: [],
    batches: [],
    collected: 0,
    declared: 0,
    form: { declared: "", tellerA: "", tellerB: "" },
    formError: "",
    formDone: "",
    liveNote: "",
    source: null,
    timer: null,
    running: null,
    again: false,

    get remaining() { return Math.max(0, this.collected - this.declared); },
    get double() { return countDoubleEntry(this.round); },
    get openForBatches() { return this.round && ["collected", "counting"].includes(this.round.status); },
    get roundTitle() {
      return this.round ? this.electionTitle + " · 第 " + this.round.number + " 轮（" + jp.zh("round_kind", this.round.kind) + "）" : "";
    },
    get sumSentence() {
      if (this.remaining === 0) return "各批次合计 " + this.declared + " 张，与收回选票数相符，已全部分批。";
      return "已分批 " + this.declared + " 张，收回 " + this.collected + " 张，还剩 " + this.remaining + " 张尚未分批。";
    },
    get totalA() { return this.batches.reduce((n, b) => n + b.progress.pass_a, 0); },
    get totalB() { return this.batches.reduce((n, b) => n + (b.progress.pass_b || 0), 0); },
    get reconciledCount() { return this.batches.filter((b) => b.progress.status === "reconciled").length; },

    async init() {
      const page = jp.page("/count", ["chief_teller", "admin"]);
      if (!page.session) return;
      this.may = page.allowed;
      try {
        this.congressId = jp.congressId();
        this.congressChosen = params.has("congress");
        if (!this.congressId) {
          this.congresses = await jp.api("GET", "/api/congresses");
          if (this.congresses.length === 1) this.congressId = this.congresses[0].id;
          else { this.loaded = true; return; }
        }
        const roundId = Number(params.get("round")) || null;
        if (roundId) await this.openRound(roundId);
        else await this.listRounds();
      } catch (e) {
        this.error = e.message;
      }
      this.loaded = true;
    },

    roundLink(r) {
      return "/count?round=" + r.id + (this.congressChosen ? "&congress=" + this.congressId : "");
    },

    async listRounds() {
      const elections = await jp.api("GET", "/api/congresses/" + this.congressId + "/elections");
      const found = [];
      for (const election of elections) {
        const listed = await jp.api("GET", "/api/elections/" + election.id + "/rounds");
        for (const r of listed.rounds) {
          if (["collected", "counting"].includes(r.status)) found.push(Object.assign({ title: election.title }, r));
        }
      }
      this.rounds = found;
      if (found.length === 1) await this.openRound(found[0].id);
    },

    // Everything is read before the round is shown: its figures never flash as zeros.
    async openRound(roundId) {
      const round = await jp.api("GET", "/api/rounds/" + roundId);
      const election = await jp.api("GET", "/api/elections/" + round.election_id);
      const officials = await jp.api("GET", "/api/congresses/" + election.congress_id + "/officials");
      this.electionTitle = election.title;
      this.congressId = election.congress_id;
      this.tellers = officials.filter((o) => o.role === "teller");
      await this.refresh(roundId);
      this.suggest();
      this.listen();
    },

    // One refresh at a time (a busy count sends a snapshot per paper): a change arriving
    // meanwhile reads once more afterwards, and whoever asks waits for data read after asking.
    refresh(roundId) {
      if (this.running) { this.again = true; return this.running; }
      this.running = (async () => {
        try {
          do {
            this.again = false;
            await this.load(roundId || this.round.id);
          } while (this.again);
        } finally {
          this.running = null;
        }
      })();
      return this.running;
    },

    async load(id) {
      const [listed, round] = await Promise.all([
        jp.api("GET", "/api/rounds/" + id + "/batches"),
        jp.api("GET", "/api/rounds/" + id),
      ]);
      this.round = round;
      this.batches = listed.batches;
      this.collected = listed.collected || 0;
      this.declared = listed.declared;
      this.liveNote = "更新于 " + new Date().toLocaleTimeString("zh-CN");
    },

    // The next batch's defaults: what is left (at most one bundle's worth is the chief teller's
    // call, so all of it), and the next two tellers in turn so that the work is shared.
    suggest() {
      this.form.declared = this.remaining > 0 ? String(this.remaining) : "";
      const n = this.tellers.length;
      if (!n) return;
      const k = (this.batches.length * (this.double ? 2 : 1)) % n;
      this.form.tellerA = String(this.tellers[k].id);
      this.form.tellerB = this.double && n > 1 ? String(this.tellers[(k + 1) % n].id) : "";
    },

    // Live: every change to the congress's chain arrives as a snapshot on the election's stream;
    // the page then reads its batches again. If the stream is down it polls instead.
    listen() {
      const s = jp.session();
      if (!s || this.source || typeof EventSource === "undefined") return this.poll();
      const url = "/api/elections/" + this.round.election_id + "/live?token=" + encodeURIComponent(s.token);
      this.source = new EventSource(url);
      this.source.addEventListener("snapshot", () => this.refresh().catch((e) => { this.error = e.message; }));
      this.source.onerror = () => { this.liveNote = "实时连接中断，每 5 秒刷新"; this.poll(); };
      this.source.onopen = () => { clearInterval(this.timer); this.timer = null; };
    },

    poll() {
      if (this.timer) return;
      this.timer = setInterval(() => this.refresh().catch((e) => { this.error = e.message; }), 5000);
    },

    tellerName(id) {
      if (id === null || id === undefined) return "—";
      const t = this.tellers.find((o) => o.id === id);
      return t ? t.name : "编号 " + id;
    },

    percent(n, of) { return of ? Math.min(100, Math.round((100 * n) / of)) : 0; },

    statusClass(status) {
      return status === "reconciled" ? "ok" : status === "entering" ? "" : "bad";
    },

    reentryText(o) {
      const who = jp.zh("role", o.author_role) + (o.author_name ? " " + o.author_name : "");
      const when = new Date(o.ordered_at).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });
      return who + " " + when + " 责令重新录入（作废第 " + o.discarded_generation + " 次录入）：" + o.reason;
    },

    async create(event) {
      this.formError = "";
      this.formDone = "";
      const body = {
        declared_count: Number(this.form.declared),
        teller_a_id: Number(this.form.tellerA),
        teller_b_id: this.double ? Number(this.form.tellerB) : null,
      };
      await jp.act(event, async () => {
        try {
          const batch = await jp.api("POST", "/api/rounds/" + this.round.id + "/batches", body);
          await this.refresh();
          this.formDone = "已新建第 " + batch.number + " 批（" + batch.declared_count + " 张）：第一遍 " +
            this.tellerName(batch.teller_a_id) + (batch.teller_b_id ? "，第二遍 " + this.tellerName(batch.teller_b_id) : "") + "。";
          this.suggest();
        } catch (e) {
          this.formError = e.message;
        }
      });
    },
  };
}

// Double entry (RULES.md O3) unless the election's rules say otherwise (frozen in the round).
function countDoubleEntry(round) {
  const profile = round && round.definition && round.definition.profile;
  return !profile || profile.double_entry !== false;
}
