// /admin (会务设置, the secretariat): the congress, its roster (previewed before it is imported),
// delegates, elections with every rules option, candidates in stroke order with the reason for
// each place, officials, the login-card sheet and the readiness checklist (issue 18 item 2).
// Everything goes through the JSON API; every refusal shows the server's message_zh.
"use strict";

// A POST whose answer is a file (the login-card PDF): console.js's jp.download only GETs.
// Should move to console.js as a shared helper (jp.download with a body).
async function adminPostFile(path, body, fileName) {
  const s = jp.session();
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { Authorization: "Bearer " + (s ? s.token : ""), "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new jp.ApiError("无法连接服务器，请检查网络后再试（操作可能未完成，请刷新页面核对）", 0, null);
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    if (response.status === 401) {
      localStorage.removeItem(jp.KEY_SESSION);
      location.assign("/?next=" + encodeURIComponent(location.pathname + location.search));
    }
    const message = data && data.message_zh ? data.message_zh : "打印失败（" + response.status + "）";
    throw new jp.ApiError(message, response.status, data);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

const ADMIN_ROLES = ["chief_scrutineer", "scrutineer", "chief_teller", "teller", "presidium", "auditor"];
const ADMIN_O2 = ["chief_scrutineer", "chief_teller", "scrutineer", "teller"];

function adminPage() {
  const blank = () => ({ text: "", kind: "" });
  return {
    may: false,
    loaded: false,
    congresses: [],
    congressId: null,
    congress: null,
    creatingCongress: false,
    newCongress: { name: "", delegates_total: null, starts_on: "", ends_on: "" },
    congressForm: {},
    rosterFile: null,
    preview: null,
    delegates: [],
    delegateQuery: "",
    delegateLimit: 100,
    elections: [],
    electionId: null,
    election: null,
    creatingElection: false,
    electionForm: null,
    rulesOpen: false,
    rounds: {},
    candidates: [],
    candidateWarnings: [],
    candidateQuery: "",
    suggestions: [],
    suggestNote: "",
    explained: {},
    officials: [],
    officialForm: { name: "", role: "", student_id: "" },
    changes: [],
    pendingChange: null,
    staffing: null,
    picked: [],
    readiness: null,
    options: (window.JP_ZH && JP_ZH.profile_options) || [],
    roles: ADMIN_ROLES,
    msg: {
      congress: blank(), roster: blank(), delegates: blank(), elections: blank(),
      candidates: blank(), officials: blank(), cards: blank(), readiness: blank(),
    },

    say(section, text, kind) {
      this.msg[section] = { text: text || "", kind: kind || "" };
    },

    async init() {
      const page = jp.page("/admin", ["admin"]);
      if (!page.session) return;
      this.may = page.allowed;
      const query = new URLSearchParams(location.search);
      await this.loadCongresses();
      let id = jp.congressId();
      if (!id && this.congresses.length === 1) id = this.congresses[0].id;
      if (id) await this.selectCongress(id, Number(query.get("election")) || null);
      this.loaded = true;
    },

    // ------------------------------------------------------------ the address

    remember() {
      const params = new URLSearchParams();
      if (this.congressId) params.set("congress", this.congressId);
      if (this.congressId && this.electionId) params.set("election", this.electionId);
      const search = params.toString();
      history.replaceState(null, "", location.pathname + (search ? "?" + search : "") + location.hash);
    },

    // ------------------------------------------------------------ congress

    async loadCongresses() {
      try {
        this.congresses = await jp.api("GET", "/api/congresses");
      } catch (e) {
        this.say("congress", e.message, "bad");
      }
    },

    async pickCongress(value) {
      this.say("congress", "");
      if (!value) {
        this.congressId = null;
        this.congress = null;
        this.remember();
        return;
      }
      await this.selectCongress(Number(value), null);
    },

    async selectCongress(id, electionId) {
      this.congressId = id;
      this.creatingCongress = false;
      this.preview = null;
      this.rosterFile = null;
      this.picked = [];
      this.pendingChange = null;
      this.election = null;
      this.electionId = null;
      for (const key of Object.keys(this.msg)) if (key !== "congress") this.say(key, "");
      if (!(await this.loadCongress())) return;
      await Promise.all([this.loadDelegates(), this.loadOfficials(), this.loadElections(electionId)]);
      this.remember();
    },

    async loadCongress() {
      try {
        this.congress = await jp.api("GET", "/api/congresses/" + this.congressId);
      } catch (e) {
        this.congress = null;
        this.say("congress", e.message, "bad");
        return false;
      }
      const c = this.congress;
      this.congressForm = {
        name: c.name, delegates_total: c.delegates_total, starts_on: c.starts_on || "", ends_on: c.ends_on || "",
      };
      return true;
    },

    startNewCongress() {
      this.creatingCongress = true;
      this.newCongress = { name: "", delegates_total: null, starts_on: "", ends_on: "" };
      this.say("congress", "");
    },

    async createCongress(event) {
      const f = this.newCongress;
      const body = {
        name: f.name, delegates_total: f.delegates_total,
        starts_on: f.starts_on || null, ends_on: f.ends_on || null,
      };
      await jp.act({ currentTarget: event.submitter }, async () => {
        try {
          const made = await jp.api("POST", "/api/congresses", body);
          await this.loadCongresses();
          await this.selectCongress(made.id, null);
          this.say("congress", "已创建大会“" + made.name + "”。下一步：导入代表名单。", "ok");
        } catch (e) {
          this.say("congress", e.message, "bad");
        }
      });
    },

    async saveCongress(event) {
      const f = this.congressForm;
      const body = {
        name: f.name, delegates_total: f.delegates_total,
        starts_on: f.starts_on || null, ends_on: f.ends_on || null,
      };
      await jp.act({ currentTarget: event.submitter }, async () => {
        try {
          await jp.api("PATCH", "/api/congresses/" + this.congressId, body);
          await Promise.all([this.loadCongress(), this.loadCongresses()]);
          this.say("congress", "已保存大会信息。", "ok");
          if (this.election) await this.loadReadiness();
        } catch (e) {
          this.say("congress", e.message, "bad");
        }
      });
    },

    // ------------------------------------------------------------ roster

    pickRosterFile(event) {
      this.rosterFile = event.target.files && event.target.files[0] ? event.target.files[0] : null;
      this.preview = null;
      this.say("roster", "");
    },

    rosterForm() {
      const form = new FormData();
      form.append("file", this.rosterFile, this.rosterFile.name);
      return form;
    },

    async previewRoster(event) {
      if (!this.rosterFile) return;
      this.preview = null;
      this.say("roster", "");
      await jp.act(event, async () => {
        try {
          this.preview = await jp.api("POST", "/api/congresses/" + this.congressId + "/roster/preview", this.rosterForm());
        } catch (e) {
          this.say("roster", e.message, "bad");
        }
      });
    },

    previewSummary() {
      const p = this.preview;
      const encoding = { gb18030: "GBK", "utf-8": "UTF-8", "utf-16": "UTF-16" }[p.encoding] || "未知编码";
      const format = p.file_format === "xlsx" ? "XLSX 文件" : "CSV（" + encoding + "）文件";
      const rows = "读取 " + format + "：可导入 " + p.rows.length + " 人";
      if (p.importable) {
        return rows + "，没有错误。导入后名单共 " + p.roster_count_after + " 人（应到 " + p.delegates_total + " 人）。尚未保存，请核对后点“确认导入”。";
      }
      return rows + "；有 " + p.errors.length + " 处错误，不能导入。请在表格中改正下列各行后重新选择文件。";
    },

    columnZh(error) {
      const words = (window.JP_ZH && JP_ZH.roster_column) || {};
      return error.row ? words[error.field] || "—" : "整个名单";
    },

    clearPreview() {
      this.preview = null;
      this.rosterFile = null;
      if (this.$refs.rosterFile) this.$refs.rosterFile.value = "";
    },

    async importRoster(event) {
      await jp.act(event, async () => {
        try {
          const done = await jp.api("POST", "/api/congresses/" + this.congressId + "/roster", this.rosterForm());
          this.clearPreview();
          this.say("roster", "已导入 " + done.imported + " 名代表，名单现有 " + done.roster_count + " 人。", "ok");
          await Promise.all([this.loadCongress(), this.loadDelegates()]);
          if (this.election) await this.loadReadiness();
        } catch (e) {
          this.say("roster", e.message, "bad");
        }
      });
    },

    // ------------------------------------------------------------ delegates

    async loadDelegates() {
      try {
        this.delegates = await jp.api("GET", "/api/congresses/" + this.congressId + "/delegates");
      } catch (e) {
        this.delegates = [];
        this.say("delegates", e.message, "bad");
      }
    },

    presentCount() {
      return this.delegates.filter((d) => d.present).length;
    },

    delegations() {
      const by = new Map();
      for (const d of this.delegates) {
        const name = d.delegation || "（未填代表团）";
        const row = by.get(name) || { name, total: 0, present: 0 };
        row.total += 1;
        if (d.present) row.present += 1;
        by.set(name, row);
      }
      return [...by.values()].sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));
    },

    filteredDelegates() {
      const q = this.delegateQuery.trim();
      if (!q) return this.delegates;
      return this.delegates.filter((d) => d.name.includes(q) || d.student_id.includes(q) || d.delegation.includes(q));
    },

    async removeDelegate(event, d) {
      const sure = await jp.confirm("将把 " + d.name + "（学号 " + d.student_id + "）从代表名单中删除，应到人数不变。确定删除？", "删除");
      if (!sure) return;
      await jp.act(event, async () => {
        try {
          await jp.api("DELETE", "/api/congresses/" + this.congressId + "/delegates/" + d.id);
          this.say("delegates", "已从名单中删除 " + d.name + "。", "ok");
          await Promise.all([this.loadCongress(), this.loadDelegates()]);
        } catch (e) {
          this.say("delegates", e.message, "bad");
        }
      });
    },

    // ------------------------------------------------------------ elections and rules

    async loadElections(preferred) {
      try {
        this.elections = await jp.api("GET", "/api/congresses/" + this.congressId + "/elections");
      } catch (e) {
        this.elections = [];
        this.say("elections", e.message, "bad");
        return;
      }
      await this.loadRounds();
      const wanted = preferred || this.electionId;
      const found = this.elections.find((e) => e.id === wanted) || this.elections[0];
      if (found) await this.selectElection(found.id);
      else {
        this.election = null;
        this.electionId = null;
        this.electionForm = null;
      }
    },

    async loadRounds() {
      const rounds = {};
      await Promise.all(this.elections.map(async (e) => {
        try {
          rounds[e.id] = (await jp.api("GET", "/api/elections/" + e.id + "/rounds")).rounds;
        } catch (err) {
          rounds[e.id] = [];
        }
      }));
      this.rounds = rounds;
    },

    // Voting has begun in the congress once any round of it is open (app/setup/duties.py).
    get votingBegun() {
      return Object.values(this.rounds).some((list) => list.some((r) => r.status !== "cancelled"));
    },

    frozen() {
      return Boolean(this.election && (this.rounds[this.election.id] || []).length);
    },

    async pickElection(value) {
      if (!value) return;
      this.creatingElection = false;
      await this.selectElection(Number(value));
    },

    async selectElection(id) {
      this.creatingElection = false;
      this.electionId = id;
      this.election = this.elections.find((e) => e.id === id) || null;
      this.electionForm = this.election ? this.formOf(this.election) : null;
      this.candidateQuery = "";
      this.suggestions = [];
      this.suggestNote = "";
      this.explained = {};
      this.remember();
      await Promise.all([this.loadCandidates(), this.loadReadiness()]);
    },

    seedProfile() {
      const profile = {};
      for (const o of this.options) profile[o.option] = o.default;
      return profile;
    },

    formOf(election) {
      return { title: election.title, seats: election.seats, profile: Object.assign(this.seedProfile(), election.profile) };
    },

    startNewElection() {
      this.creatingElection = true;
      this.rulesOpen = false;
      this.electionForm = { title: "", seats: null, profile: this.seedProfile() };
      this.say("elections", "");
    },

    cancelNewElection() {
      this.creatingElection = false;
      this.electionForm = this.election ? this.formOf(this.election) : null;
    },

    choicesOf(option) {
      const current = this.electionForm ? this.electionForm.profile[option.option] : undefined;
      const known = option.choices.some((c) => this.sameValue(c.value, current));
      // A value set through the API that the form does not list (a quorum of 3/4) stays shown.
      return known || current === undefined ? option.choices : [...option.choices, { value: current, label: String(current) }];
    },

    sameValue(a, b) {
      return a === b;
    },

    isDefault(option, value) {
      return option.default === value;
    },

    setOption(option, index) {
      const choice = this.choicesOf(option)[Number(index)];
      if (choice) this.electionForm.profile[option.option] = choice.value;
    },

    // Only what differs from the seed is sent: the stored profile says what this election changes.
    changedOptions() {
      const changed = {};
      for (const o of this.options) {
        const value = this.electionForm.profile[o.option];
        if (value !== undefined && value !== o.default) changed[o.option] = value;
      }
      return changed;
    },

    rulesSummary() {
      const n = this.electionForm ? Object.keys(this.changedOptions()).length : 0;
      return "选举规则（共 " + this.options.length + " 项）：" + (n ? n + " 项与默认不同" : "全部为默认");
    },

    async saveElection(event) {
      const f = this.electionForm;
      const body = { title: f.title, seats: f.seats, profile: this.changedOptions() };
      await jp.act({ currentTarget: event.submitter }, async () => {
        try {
          if (this.creatingElection) {
            this.rulesOpen = false;
            const made = await jp.api("POST", "/api/congresses/" + this.congressId + "/elections", body);
            await this.loadElections(made.id);
            this.say("elections", "已创建选举“" + made.title + "”（应选 " + made.seats + " 名）。下一步：添加候选人。", "ok");
          } else {
            await jp.api("PATCH", "/api/elections/" + this.electionId, body);
            await this.loadElections(this.electionId);
            this.say("elections", "已保存选举设置。", "ok");
          }
        } catch (e) {
          this.say("elections", e.message, "bad");
        }
      });
    },

    // ------------------------------------------------------------ candidates

    async loadCandidates() {
      if (!this.electionId) return;
      try {
        const list = await jp.api("GET", "/api/elections/" + this.electionId + "/candidates");
        this.candidates = list.candidates;
        this.candidateWarnings = list.warnings;
      } catch (e) {
        this.candidates = [];
        this.candidateWarnings = [];
        this.say("candidates", e.message, "bad");
      }
    },

    async suggest() {
      const q = this.candidateQuery.trim();
      this.suggestNote = "";
      if (!q) {
        this.suggestions = [];
        return;
      }
      let names;
      try {
        const found = await jp.api("GET", "/api/congresses/" + this.congressId + "/name-suggestions?limit=10&q=" + encodeURIComponent(q));
        if (found.q !== this.candidateQuery.trim()) return; // a later keystroke is on its way
        names = found.names;
      } catch (e) {
        this.suggestions = [];
        this.suggestNote = e.message;
        return;
      }
      const taken = new Set(this.candidates.map((c) => c.student_id || "姓名:" + c.name));
      const list = [];
      for (const name of names) {
        const people = this.delegates.filter((d) => d.name === name);
        for (const d of people.length ? people : [{ name, delegation: "", student_id: null, id: name }]) {
          const already = taken.has(d.student_id || "姓名:" + name) || this.candidates.some((c) => c.name === name && !c.student_id);
          list.push({ key: String(d.id), name, delegation: d.delegation, student_id: d.student_id, already });
        }
      }
      this.suggestions = list;
      if (!list.length) {
        this.suggestNote = "代表名单中没有“" + q + "”，请核对姓名或拼音首字母。";
        // A candidate who is not a delegate (the procedure allows it): the name exactly as typed.
        if (/^[\u3400-\u9fff\uf900-\ufaff·•・]{2,}$/.test(q)) {
          this.suggestions = [{ key: "typed", name: q, delegation: "不在代表名单中", student_id: null, already: false, offRoster: true }];
        }
      }
    },

    async addCandidate(event, s) {
      await jp.act(event, async () => {
        try {
          const list = await jp.api("POST", "/api/elections/" + this.electionId + "/candidates", { name: s.name, student_id: s.student_id });
          this.candidates = list.candidates;
          this.candidateWarnings = list.warnings;
          const placed = list.candidates.find((c) => c.name === s.name && (c.student_id || null) === (s.student_id || null));
          this.say("candidates", "已添加候选人 " + s.name + (placed ? "，按姓氏笔画排在第 " + placed.position + " 位。" : "。"), "ok");
          this.candidateQuery = "";
          this.suggestions = [];
          await this.refreshElection();
        } catch (e) {
          this.say("candidates", e.message, "bad");
        }
      });
    },

    async removeCandidate(event, c) {
      const sure = await jp.confirm("将把 " + c.name + " 从“" + this.election.title + "”的候选人名单中删除。确定删除？", "删除");
      if (!sure) return;
      await jp.act(event, async () => {
        try {
          await jp.api("DELETE", "/api/elections/" + this.electionId + "/candidates/" + c.id);
          this.say("candidates", "已删除候选人 " + c.name + "。", "ok");
          await this.loadCandidates();
          await this.refreshElection();
        } catch (e) {
          this.say("candidates", e.message, "bad");
        }
      });
    },

    // The candidate's delegation from the roster (by student id): namesakes told apart.
    delegationOf(candidate) {
      const d = candidate.student_id && this.delegates.find((x) => x.student_id === candidate.student_id);
      return d ? d.delegation : "";
    },

    toggleExplain(id) {
      this.explained = Object.assign({}, this.explained, { [id]: !this.explained[id] });
    },

    // The election's slate and readiness after its candidates changed.
    async refreshElection() {
      try {
        const fresh = await jp.api("GET", "/api/elections/" + this.electionId);
        this.elections = this.elections.map((e) => (e.id === fresh.id ? fresh : e));
        this.election = fresh;
      } catch (e) {
        this.say("elections", e.message, "bad");
      }
      await this.loadReadiness();
    },

    slateSentence() {
      const s = this.election && this.election.slate;
      if (!s) return "";
      if (!s.ok) return s.message_zh;
      if (s.candidates === s.seats) return "等额：候选人 " + s.candidates + " 名，等于应选名额（本选举允许等额选举）。";
      return "差额选举：候选人 " + s.candidates + " 名，多于应选 " + s.seats + " 名。";
    },

    // ------------------------------------------------------------ officials

    async loadOfficials() {
      const id = this.congressId;
      try {
        const [officials, staffing] = await Promise.all([
          jp.api("GET", "/api/congresses/" + id + "/officials"),
          jp.api("GET", "/api/congresses/" + id + "/staffing"),
        ]);
        this.officials = officials;
        this.staffing = staffing;
        this.picked = this.picked.filter((p) => officials.some((o) => o.id === p));
      } catch (e) {
        this.say("officials", e.message, "bad");
      }
      try {
        this.changes = await jp.api("GET", "/api/congresses/" + id + "/official-changes");
      } catch (e) {
        this.changes = []; // a role that may not read the requests: nothing to show
      }
    },

    staffingSentence() {
      const s = this.staffing;
      if (!s) return "";
      const parts = ADMIN_O2.map((r) => jp.zh("role", r) + " " + (s.actual[r] || 0) + "/" + s.required[r]);
      return (s.ok ? "✓ 选举工作人员配备齐全（O2）：" : "✗ 选举工作人员配备不全（O2，现有/应有）：") + parts.join("，");
    },

    // The refusal for "voting has begun": offer to file the same change for the presidium.
    needsPresidium(e, message, bodies) {
      if (e.code === "presidium_confirmation_required") {
        this.pendingChange = { message: e.message, bodies, done: message };
        return true;
      }
      return false;
    },

    async fileChange(event) {
      const change = this.pendingChange;
      if (!change) return;
      await jp.act(event, async () => {
        try {
          for (const body of change.bodies) {
            await jp.api("POST", "/api/congresses/" + this.congressId + "/official-changes", body);
          }
          this.pendingChange = null;
          this.say("officials", change.done, "ok");
          await this.loadOfficials();
        } catch (e) {
          this.say("officials", e.message, "bad");
        }
      });
    },

    async addOfficial(event) {
      const f = this.officialForm;
      const body = { name: f.name, role: f.role, student_id: f.student_id.trim() || null };
      this.pendingChange = null;
      this.say("officials", "");
      await jp.act({ currentTarget: event.submitter }, async () => {
        try {
          const made = await jp.api("POST", "/api/congresses/" + this.congressId + "/officials", body);
          this.say("officials", "已添加" + made.role_zh + " " + made.name + "。", "ok");
          this.officialForm = { name: "", role: f.role, student_id: "" };
          await this.loadOfficials();
          await this.loadReadiness();
        } catch (e) {
          const done = "已提交申请：添加" + jp.zh("role", f.role) + " " + f.name + "，待大会主席团成员确认后生效。";
          if (!this.needsPresidium(e, done, [Object.assign({ action: "add" }, body)])) this.say("officials", e.message, "bad");
        }
      });
    },

    async removeOfficial(event, o) {
      const sure = await jp.confirm("将删除" + o.role_zh + " " + o.name + "，其登录随即失效。确定删除？", "删除");
      if (!sure) return;
      this.pendingChange = null;
      await jp.act(event, async () => {
        try {
          await jp.api("DELETE", "/api/congresses/" + this.congressId + "/officials/" + o.id);
          this.say("officials", "已删除" + o.role_zh + " " + o.name + "。", "ok");
          await this.loadOfficials();
          await this.loadReadiness();
        } catch (e) {
          const done = "已提交申请：删除" + o.role_zh + " " + o.name + "，待大会主席团成员确认后生效。";
          if (!this.needsPresidium(e, done, [{ action: "remove", official_id: o.id }])) this.say("officials", e.message, "bad");
        }
      });
    },

    pendingChanges() {
      return this.changes.filter((c) => !c.confirmed);
    },

    changeSentence(c) {
      const when = new Date(c.requested_at);
      const at = isNaN(when) ? "" : "（申请于 " + (when.getMonth() + 1) + " 月 " + when.getDate() + " 日 " +
        String(when.getHours()).padStart(2, "0") + ":" + String(when.getMinutes()).padStart(2, "0") + "）";
      return jp.zh("official_change", c.action) + " · " + c.role_zh + " " + c.name + at;
    },

    // ------------------------------------------------------------ login cards

    togglePick(id) {
      this.picked = this.picked.includes(id) ? this.picked.filter((p) => p !== id) : [...this.picked, id];
    },

    pickAll() {
      this.picked = this.officials.map((o) => o.id);
    },

    async printCards(event) {
      const chosen = this.officials.filter((o) => this.picked.includes(o.id));
      if (!chosen.length) return;
      const sure = await jp.confirm("将为选中的 " + chosen.length + " 位工作人员签发新的一次性登录码并生成登录卡；他们此前未使用的登录码将立即作废。确定打印？", "签发并打印");
      if (!sure) return;
      this.say("cards", "");
      this.pendingChange = null;
      await jp.act(event, async () => {
        try {
          await adminPostFile("/api/congresses/" + this.congressId + "/login-cards", { official_ids: chosen.map((o) => o.id) }, "登录卡.PDF");
          this.say("cards", "已签发 " + chosen.length + " 个登录码，登录卡 PDF 已下载：请打印后沿虚线裁开，当面交给本人。", "ok");
          await this.loadOfficials();
        } catch (e) {
          this.say("cards", e.message, "bad");
          if (e.code === "presidium_confirmation_required") {
            const bodies = chosen.map((o) => ({ action: "login_code", official_id: o.id }));
            this.pendingChange = {
              message: e.message, bodies,
              done: "已提交 " + bodies.length + " 项签发登录码的申请；主席团成员确认后，登录码只显示给确认的主席团成员，由其交给本人。",
            };
          }
        }
      });
    },

    // ------------------------------------------------------------ readiness

    async loadReadiness() {
      if (!this.electionId) {
        this.readiness = null;
        return;
      }
      try {
        this.readiness = await jp.api("GET", "/api/elections/" + this.electionId + "/readiness");
        this.say("readiness", "");
      } catch (e) {
        this.readiness = null;
        this.say("readiness", e.message, "bad");
      }
    },

    quorumWords() {
      const quorum = this.election && this.election.profile.quorum;
      const option = this.options.find((o) => o.option === "quorum");
      const choice = option && option.choices.find((c) => c.value === quorum);
      return choice ? choice.label : quorum;
    },

    readinessItems() {
      const r = this.readiness;
      if (!r) return [];
      const s = r.slate;
      const slate = s.ok
        ? (s.candidates === s.seats
          ? "等额选举：候选人 " + s.candidates + " 名，等于应选名额，本选举允许等额选举（六.4）。"
          : "差额选举：候选人 " + s.candidates + " 名，多于应选 " + s.seats + " 名（六.4）。")
        : s.message_zh + "（六.4）。";
      const staffed = ADMIN_O2.map((role) => jp.zh("role", role) + " " + r.staffing.required[role] + " 人").join("、");
      const staffing = r.staffing.ok
        ? "工作人员配备齐全：" + staffed + "（O2）。"
        : "工作人员配备不全：" + r.staffing.problems.map((p) => p.message_zh).join("；") + "。";
      const q = r.quorum;
      const rule = this.election && this.election.profile.quorum_strict ? "超过" : "达到";
      const quorum = q.met
        ? "出席人数够法定人数：已签到 " + q.present + " 人，至少需要 " + q.required + " 人（应到 " + q.delegates_total + " 人的" + this.quorumWords() + "，Q1）。"
        : "出席人数还不够：已签到 " + q.present + " 人，须" + rule + "应到 " + q.delegates_total + " 人的" + this.quorumWords() + "，即至少 " + q.required + " 人（Q1）；请到签到台办理签到。";
      return [
        { key: "slate", ok: s.ok, text: slate },
        { key: "staffing", ok: r.staffing.ok, text: staffing },
        { key: "quorum", ok: q.met, text: quorum },
      ];
    },
  };
}
