// /audit (审计人员): the state of the congress's event chain in words, the installation's key
// fingerprints, the election record downloaded in this session with the exact offline command
// that verifies it (jipiao audit verify, pinned to the report's head hash with --expect-head, and
// verify-diff against an earlier copy), and who signed with what (the duties view) as tables.
// The downloads of this browser are remembered (localStorage) so that a later copy can be
// compared with an earlier one by file name.
"use strict";

const AUDIT_DOWNLOADS = "jipiao.audit.downloads";
const HEX64 = /^[0-9a-f]{64}$/;

function auditPage() {
  return {
    may: false,
    congressId: null,
    elections: [],
    electionId: null,
    officials: [],
    chain: null,
    chainError: "",
    keys: null,
    duties: null,
    loadError: "",
    downloadError: "",
    downloads: [],
    reportHead: "",
    earlier: "",
    copied: "",

    async init() {
      const page = jp.page("/audit", ["auditor"]);
      this.may = page.allowed;
      if (!page.session) return;
      this.congressId = jp.congressId() || (await this.onlyCongress());
      if (!this.congressId) {
        this.loadError = "未指定大会：请从大会秘书处的页面进入。";
        return;
      }
      try {
        const base = "/api/congresses/" + this.congressId;
        const [elections, officials, keys, duties] = await Promise.all([
          jp.api("GET", base + "/elections"),
          jp.api("GET", base + "/officials"),
          jp.api("GET", "/api/audit/keys"),
          jp.api("GET", "/api/audit/congresses/" + this.congressId + "/duties"),
        ]);
        this.elections = elections;
        this.officials = officials;
        this.keys = keys;
        this.duties = duties;
      } catch (e) {
        this.loadError = e.message;
        return;
      }
      const wanted = Number(new URLSearchParams(location.search).get("election"));
      const chosen = this.elections.find((e) => e.id === wanted) || this.elections[0];
      this.electionId = chosen ? chosen.id : null;
      this.downloads = this.remembered();
      this.pickEarlier();
      await this.verifyChain(null);
    },

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
      this.pickEarlier();
    },

    // ---- the chain

    async verifyChain(event) {
      await jp.act(event, async () => {
        try {
          this.chain = await jp.api("GET", "/api/congresses/" + this.congressId + "/events/verify");
          this.chainError = "";
        } catch (e) {
          this.chainError = e.message;
        }
      });
    },
    get chainWords() {
      const c = this.chain;
      if (!c) return "";
      if (c.ok) {
        return "链完整：共 " + c.length + " 个事件，哈希链没有断裂；数据库中 " + c.rows_checked +
          " 行数据与事件日志逐行逐列一致。";
      }
      const where = c.problems.length
        ? "哈希链在第 " + c.problems[0].height + " 号事件处断开"
        : "哈希链完整，但数据库有 " + c.mismatches.length + " 处与事件日志不一致";
      return "链不完整：" + where + "。下面列出每一处。";
    },

    // ---- the record and the command

    remembered() {
      try {
        const all = JSON.parse(localStorage.getItem(AUDIT_DOWNLOADS) || "[]");
        return Array.isArray(all) ? all : [];
      } catch (e) {
        return [];
      }
    },
    get mine() {
      return this.downloads.filter((d) => d.congress === this.congressId && d.election === this.electionId);
    },
    get latest() {
      const mine = this.mine;
      return mine.length ? mine[mine.length - 1] : null;
    },
    get older() {
      return this.mine.slice(0, -1).reverse();
    },
    pickEarlier() {
      const older = this.older;
      this.earlier = older.length ? older[0].file : "";
    },
    // A name of its own for every download (the time, to the second), so that two copies of
    // the record sit side by side in the downloads folder and the command names the right one.
    fileName() {
      const t = new Date();
      const two = (n) => String(n).padStart(2, "0");
      const stamp = t.getFullYear() + two(t.getMonth() + 1) + two(t.getDate()) + "-" +
        two(t.getHours()) + two(t.getMinutes()) + two(t.getSeconds());
      return "record-election" + this.electionId + "-" + stamp + ".zip";
    },
    async downloadRecord(event) {
      await jp.act(event, async () => {
        const file = this.fileName();
        try {
          await jp.download("/api/elections/" + this.electionId + "/record", file);
        } catch (e) {
          this.downloadError = e.message;
          return;
        }
        this.downloadError = "";
        const at = new Date().toLocaleString("zh-CN", { hour12: false });
        const all = this.remembered();
        all.push({ congress: this.congressId, election: this.electionId, file, at });
        localStorage.setItem(AUDIT_DOWNLOADS, JSON.stringify(all.slice(-50)));
        this.downloads = all;
        this.pickEarlier();
        this.copied = "";
      });
    },
    get headTyped() {
      return this.reportHead.replace(/\s+/g, "").toLowerCase();
    },
    get headProblem() {
      const head = this.headTyped;
      return head && !HEX64.test(head) ? "链头哈希应为 64 位十六进制数字（报告单上分 4 行印出，每行 16 位），请核对。" : "";
    },
    get verifyCommand() {
      if (!this.latest) return "";
      let command = "jipiao audit verify " + this.latest.file;
      if (this.keys) command += " --public-key " + this.keys.public_key;
      if (this.headTyped && HEX64.test(this.headTyped)) command += " --expect-head " + this.headTyped;
      return command;
    },
    get diffCommand() {
      if (!this.latest || !this.earlier) return "";
      return "jipiao audit verify-diff " + this.earlier + " " + this.latest.file;
    },
    async copy(event, text, what) {
      const field = event.currentTarget.closest(".command-box").querySelector("textarea");
      await jp.act(event, async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch (e) {
          // Without a secure context (plain http on the hall's network) the clipboard API is
          // missing: copy the selected text of the command field instead.
          field.focus();
          field.select();
          document.execCommand("copy");
        }
        this.copied = what;
      });
    },

    // ---- the duties view

    officialName(id) {
      const found = this.officials.find((o) => o.id === id);
      return found ? found.name : "编号 " + id + "（已删除）";
    },
    electionTitle(id) {
      const found = this.elections.find((e) => e.id === id);
      return found ? found.title : "";
    },
    roleZh(role) {
      return jp.zh("role", role);
    },
    confirmedBy(confirmation) {
      return confirmation ? confirmation.name + "（会话 " + confirmation.session_id + "）" : "—";
    },
    codeText(code) {
      if (!code) return "—";
      return this.time(code.issued_at) + "，" + this.roleZh(code.issued_by) + "签发";
    },
    time(at) {
      return at ? at.replace("T", " ").replace("Z", "") : "";
    },
  };
}
