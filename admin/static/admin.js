// The back office works without JavaScript; this only asks before destructive actions and submits
// the orders filter when a status or a date is picked.
"use strict";
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.form && field.form.hasAttribute("data-autosubmit") && (field.tagName === "SELECT" || field.type === "date")) {
    field.form.requestSubmit();
  }
});
