// Comfort only: the server ends idle sessions whether or not this runs.
// A minute before the idle limit, show the "Stay signed in" warning; at the end, go to sign-in.
(() => {
  const box = document.getElementById("session-warning");
  if (!box) return;
  const idle = Number(box.dataset.idleSeconds) || 0;
  const statusUrl = box.dataset.statusUrl;
  const signInUrl = box.dataset.signInUrl;
  const countdown = box.querySelector("[data-countdown]");
  const form = box.querySelector("form");
  let deadline = Date.now() + idle * 1000;
  let timer = null;

  function signedOut() {
    // Reloading lets the server end the session and explain why on the sign-in page.
    window.location.assign(window.location.href || signInUrl);
  }

  function schedule() {
    clearTimeout(timer);
    const left = deadline - Date.now();
    if (left > 60000) {
      box.hidden = true;
      timer = setTimeout(check, left - 60000);
    } else if (left > 0) {
      box.hidden = false;
      const seconds = Math.ceil(left / 1000);
      // The words come translated from the page (base.html): "{n} seconds", "1 second".
      countdown.textContent =
        seconds > 1
          ? (box.dataset.countdownOther || "{n} seconds").replace("{n}", seconds)
          : box.dataset.countdownOne || "1 second";
      timer = setTimeout(schedule, 1000);
    } else {
      signedOut();
    }
  }

  // Another tab may have been active: ask the server before warning.
  async function check() {
    try {
      const answer = await fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const data = await answer.json();
      if (!data.signed_in) return signedOut();
      deadline = Date.now() + data.seconds_left * 1000;
    } catch (error) {
      // Offline: keep the local estimate.
    }
    schedule();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const data = await answer.json();
      if (!data.signed_in) return signedOut();
      deadline = Date.now() + data.seconds_left * 1000;
      schedule();
    } catch (error) {
      form.submit();
    }
  });

  schedule();
})();
