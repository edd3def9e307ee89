// /login?code=… (what a login QR code opens): exchange the one-time code for a session token,
// keep it in this browser (localStorage, shared by the tablet and the console pages) and go to the
// official's first page (a teller's tablet, the secretariat's /admin, …: jp.home).
"use strict";
(function () {
  const status = document.getElementById("login-status");
  const code = new URLSearchParams(location.search).get("code");
  if (!code) {
    status.textContent = "链接中没有登录码，请在平板上输入登录码。";
    return;
  }
  // Drop the one-time code from the address bar and history at once.
  history.replaceState(null, "", "/login");
  fetch("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: code }),
  })
    .then(async (response) => {
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        status.textContent = body.message_zh || "登录失败（" + response.status + "）";
        status.classList.add("bad");
        return;
      }
      localStorage.setItem("jipiao.session", JSON.stringify(body));
      location.replace(jp.home(body.role));
    })
    .catch(() => {
      status.textContent = "无法连接服务器，请检查网络后重新扫码。";
      status.classList.add("bad");
    });
})();
