// The back office works without JavaScript; this only adds a confirmation before destructive
// actions and submits the orders filter when a select or date changes.
"use strict";
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  const form = event.target.form;
  if (form && form.hasAttribute("data-autosubmit") && event.target.tagName !== "INPUT" || (form && form.hasAttribute("data-autosubmit") && event.target.type === "date")) {
    form.requestSubmit();
  }
});
