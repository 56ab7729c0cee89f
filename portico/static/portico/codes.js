// Comfort only: code fields work as free text without this file.
// A code field (data-code-search) asks the server for matching codes as the user types and
// offers them in its <datalist>; choosing one fills an empty description field.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-code-search]")) {
    const list = document.getElementById(input.getAttribute("list"));
    const display = input.form && input.form.elements.namedItem("display");
    let timer = null;
    let latest = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const query = input.value.trim();
      if (!list || query.length < 2) return;
      timer = setTimeout(async () => {
        const asked = ++latest;
        const url = new URL(input.dataset.codeSearch, window.location);
        url.searchParams.set("q", query);
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok || asked !== latest) return;
        const { results } = await response.json();
        list.replaceChildren(
          ...results.map((code) => {
            const option = document.createElement("option");
            option.value = code.code;
            option.textContent = code.display;
            return option;
          }),
        );
      }, 200);
    });
    input.addEventListener("change", () => {
      if (!list || !display || display.value) return;
      const chosen = [...list.options].find((o) => o.value === input.value.trim());
      if (chosen) display.value = chosen.textContent;
    });
  }
});
