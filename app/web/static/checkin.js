// /checkin (签到台): the secretariat checks delegates in and out. The focus stays in one field:
// a USB barcode scanner types the 学号 and Enter (so does a person), which checks the delegate in
// (POST …/check-in); letters or Chinese characters search the roster by name or pinyin initials
// (GET …/delegates?q=, the server's matcher), each match with 签到 / 签退. The present count,
// each election's quorum line (Q1, computed by the server's rules engine) and every 代表团's
// 实到/应到 come from GET …/attendance, polled every 4 s so other desks' check-ins show too.
"use strict";

const CHECKIN_POLL_MS = 4000;
const CHECKIN_SEARCH_DELAY_MS = 250;
const CHECKIN_RECENT = 8;

// A 学号 holds a digit (a scanner types nothing else); a name or pinyin initials do not.
function looksLikeStudentId(text) {
  return /\d/.test(text);
}

function checkinPage() {
  return {
    may: false,
    congresses: [],
    congressId: null,
    congressName: "",
    loadError: "",
    text: "",
    answer: null,
    results: [],
    searched: false,
    lastQuery: "",
    attendance: null,
    updatedAt: "",
    recent: [],
    recentCount: 0,
    searchTimer: null,
    queue: Promise.resolve(),

    get resultsNote() {
      if (!this.results.length) return "没有找到“" + this.lastQuery + "”";
      return "共 " + this.results.length + " 人";
    },

    async init() {
      this.may = jp.page("/checkin", ["admin"]).allowed;
      try {
        const picked = await congressPick.load();
        this.congresses = picked.congresses;
        if (picked.id) this.useCongress(picked.id);
      } catch (e) {
        this.loadError = e.message;
      }
      // A scanner's keystrokes go to the field even when a button or the page had the focus.
      document.addEventListener("keydown", (event) => this.catchKeys(event), true);
      setInterval(() => this.refresh(), CHECKIN_POLL_MS);
    },

    chooseCongress(value) {
      if (!value) return;
      congressPick.choose(value);
      this.useCongress(Number(value));
    },

    useCongress(id) {
      this.congressId = id;
      this.congressName = congressPick.name(this.congresses, id);
      this.refresh();
      this.focusField();
    },

    focusField() {
      // After Alpine has shown the desk (x-show) and the browser has laid it out: a hidden
      // field cannot take the focus.
      this.$nextTick(() => requestAnimationFrame(() => {
        const field = this.$refs.field;
        if (field && !field.disabled && !document.querySelector("dialog[open]")) field.focus();
      }));
    },

    catchKeys(event) {
      const field = this.$refs.field;
      if (!field || field.disabled || document.querySelector("dialog[open]")) return;
      const target = event.target;
      if (target === field || (target && target.matches && target.matches("input, select, textarea"))) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      // A character (not Space, which presses a button): focused before the key's default
      // action, it lands in the field, and so does the scanner's Enter after it.
      if (event.key.length === 1 && event.key !== " ") field.focus();
    },

    base() {
      return "/api/congresses/" + this.congressId;
    },

    async refresh() {
      if (!this.congressId) return;
      try {
        this.showAttendance(await jp.api("GET", this.base() + "/attendance"));
        if (this.searched && this.lastQuery && this.may) await this.search(this.lastQuery, true);
      } catch (e) {
        this.loadError = e.message;
      }
    },

    showAttendance(attendance) {
      this.attendance = attendance;
      this.loadError = "";
      this.updatedAt = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    },

    quorumText(line) {
      const total = this.attendance.delegates_total;
      const rule = line.strict
        ? "须超过应到 " + total + " 人的 " + line.quorum
        : "应到 " + total + " 人的 " + line.quorum + " 以上";
      return "至少 " + line.required + " 人（" + rule + "）";
    },

    congressQuorumText() {
      const q = this.attendance.congress_quorum;
      return "大会开会须三分之二以上代表出席：至少 " + q.required + " 人，" + (q.met ? "已达到" : "未达到") + "。";
    },

    typed() {
      clearTimeout(this.searchTimer);
      const text = this.text.trim();
      if (!text) {
        this.searched = false;
        this.results = [];
        return;
      }
      // A 学号 is checked in on Enter; only names and initials are searched while typing (a
      // scanner's fast keystrokes send no search requests).
      if (looksLikeStudentId(text) || !this.may) return;
      this.searchTimer = setTimeout(() => this.search(text, false), CHECKIN_SEARCH_DELAY_MS);
    },

    async search(query, quiet) {
      try {
        const path = this.base() + "/delegates?q=" + encodeURIComponent(query);
        const found = await jp.api("GET", path);
        if (!quiet && this.text.trim() !== query) return; // typed on meanwhile
        this.results = found.slice(0, 30);
        this.lastQuery = query;
        this.searched = true;
      } catch (e) {
        if (!quiet) this.say("bad", "", "", e.message);
      }
    },

    async submit() {
      if (!this.may) return;
      const text = this.text.trim();
      if (!text) return this.focusField();
      clearTimeout(this.searchTimer);
      if (!looksLikeStudentId(text)) {
        await this.search(text, false);
        return this.focusField();
      }
      this.text = "";
      this.searched = false;
      // Scans are sent one after another in the order they came: a card scanned while the last
      // answer is on its way waits its turn instead of being dropped (each scan is its own
      // intent; scanning a card twice is answered 已经签到).
      this.queue = this.queue.then(() => this.checkInByStudentId(text));
      this.focusField();
      await this.queue;
    },

    async checkInByStudentId(studentId) {
      try {
        const answer = await jp.api("POST", this.base() + "/check-in", { student_id: studentId });
        this.checkedIn(answer, "ok", "已签到");
      } catch (e) {
        if (e.code === "already_checked_in") {
          const who = await this.findByStudentId(studentId);
          this.say("warn", who ? who.name : "", who ? who.delegation : "", e.message);
        } else {
          this.say("bad", "", "", e.message);
        }
      }
    },

    async findByStudentId(studentId) {
      try {
        const found = await jp.api("GET", this.base() + "/delegates?q=" + encodeURIComponent(studentId));
        return found.find((d) => d.student_id === studentId) || null;
      } catch (e) {
        return null;
      }
    },

    checkedIn(answer, tone, message) {
      this.showAttendance(answer.attendance);
      this.say(tone, answer.delegate.name, answer.delegate.delegation, message);
      const row = this.results.find((d) => d.id === answer.delegate.id);
      if (row) row.present = answer.delegate.present;
    },

    async checkIn(event, delegate) {
      await jp.act(event, async () => {
        try {
          const path = this.base() + "/delegates/" + delegate.id + "/check-in";
          this.checkedIn(await jp.api("POST", path), "ok", "已签到");
        } catch (e) {
          this.say(e.code === "already_checked_in" ? "warn" : "bad", delegate.name, delegate.delegation, e.message);
        }
      });
      this.focusField();
    },

    async checkOut(event, delegate) {
      const sure = await jp.confirm(
        "签退后 " + delegate.name + " 不再计入实到人数；之后发出的选票不会算上这位代表。确定签退？",
        "签退"
      );
      if (sure) {
        await jp.act(event, async () => {
          try {
            const path = this.base() + "/delegates/" + delegate.id + "/check-out";
            this.checkedIn(await jp.api("POST", path), "out", "已签退");
          } catch (e) {
            this.say("bad", delegate.name, delegate.delegation, e.message);
          }
        });
      }
      this.focusField();
    },

    say(tone, name, delegation, message) {
      this.answer = { tone, name, delegation, message };
      this.recentCount += 1;
      const time = new Date().toLocaleTimeString("zh-CN", { hour12: false });
      // The server's message may name the delegate already (王小明 已经签到，不重复计数).
      const parts = name && message.includes(name) ? [message, delegation] : [name, delegation, message];
      const text = parts.filter(Boolean).join(" · ");
      this.recent = [{ n: this.recentCount, time, text, tone }, ...this.recent].slice(0, CHECKIN_RECENT);
    },
  };
}
