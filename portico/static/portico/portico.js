// Comfort only: every page works without this file.
// Opens the "Patient portal access" window as a modal dialog instead of reloading.
document.addEventListener("DOMContentLoaded", () => {
  for (const dialog of document.querySelectorAll("dialog[data-show-modal]")) {
    // Drop the server-rendered "open" without close(): a close event would strip ?portal=open.
    dialog.removeAttribute("open");
    dialog.showModal();
  }
  // A form that failed: its error summary gets the focus, so it is read out first.
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && dialog.showModal) {
        event.preventDefault();
        const menu = opener.closest("details");
        if (menu) menu.open = false;
        dialog.showModal();
        const url = new URL(window.location);
        url.searchParams.set("portal", "open");
        history.replaceState(null, "", url);
      }
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) {
        event.preventDefault();
        dialog.close();
      }
    }
  });
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("close", () => {
      const url = new URL(window.location);
      url.searchParams.delete("portal");
      history.replaceState(null, "", url);
    });
  }
});

// A form without an action posts to this page's URL, fragment included: after the skip link
// that is "#main", and the page that comes back would move the focus to <main>, away from its
// error summary. Post to the URL without it.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (window.location.hash && !form.getAttribute("action")) {
    form.action = window.location.pathname + window.location.search;
  }
});

// An error summary's link moves the focus to its field (the browser only scrolls to it).
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-error-summary] a[href^='#']");
  const field = link && document.getElementById(link.getAttribute("href").slice(1));
  if (field) {
    event.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  }
});

// The printable record's "Print or save as PDF" button.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    event.preventDefault();
    window.print();
  }
});
