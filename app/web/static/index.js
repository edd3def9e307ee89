// "/": the console's login (a one-time code typed or scanned), then the caller's pages by role.
// ?next=/admin (set when another page found no session) is where a login goes afterwards.
"use strict";
document.addEventListener("alpine:init", () => {
  const s = jp.session();
  Alpine.store("me", { label: s ? s.name + " · " + jp.zh("role", s.role) : "" });
});

function indexPage() {
  return {
    session: jp.session(),
    code: "",
    error: "",
    camera: false,
    get pages() {
      return this.session ? jp.PAGES[this.session.role] || [] : [];
    },
    init() {},
    next(role) {
      const next = new URLSearchParams(location.search).get("next");
      // Only a path on this site: a login never sends anyone elsewhere.
      const own = next && next.startsWith("/") && !next.startsWith("//") ? next : null;
      const pages = (jp.PAGES[role] || []).map((p) => p[0]);
      return own && pages.includes(own.split("?")[0]) ? own : jp.home(role);
    },
    async logIn(event) {
      this.error = "";
      const code = this.code.trim();
      if (!code) return;
      await jp.act(event, async () => {
        try {
          const body = await jp.api("POST", "/api/auth/login", { code }, { noRedirect: true });
          localStorage.setItem(jp.KEY_SESSION, JSON.stringify(body));
          if (window.JipiaoScanner) JipiaoScanner.stop();
          location.assign(this.next(body.role));
        } catch (e) {
          this.error = e.message;
        }
      });
    },
    async toggleCamera() {
      if (this.camera) {
        JipiaoScanner.stop();
        this.camera = false;
        return;
      }
      if (!JipiaoScanner.available()) {
        this.error = "此浏览器在这里不能使用摄像头（需要加密连接）；请输入登录码，或用相机应用扫描二维码。";
        return;
      }
      this.camera = true;
      try {
        await JipiaoScanner.start(this.$refs.video, (text) => {
          const found = /[?&]code=([^&#]+)/.exec(text);
          this.code = decodeURIComponent(found ? found[1] : text);
          this.logIn(null);
        });
      } catch (e) {
        this.camera = false;
        this.error = "无法打开摄像头：请允许使用摄像头，或输入登录码。";
      }
    },
    logOut() {
      jp.logout();
    },
  };
}
