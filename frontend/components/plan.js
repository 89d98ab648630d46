import { api, urls } from "../lib/api.js";
import { clear, h } from "../lib/dom.js";
import { announceImportsChanged } from "../lib/imports-channel.js";
import { counted } from "../lib/plural.js";
import { go, pages } from "../lib/router.js";
import { changeList } from "./changes.js";
import { checkAgainButton } from "./check-again.js";

// A checked run is a plan: its changes row by row, and (for an admin, once) "Apply this plan",
// which makes the import that applies exactly these changes and opens it.
export function planSection(app, item) {
  const r = item.result;
  const outcome = h("div", { class: "plan-outcome", role: "alert" });
  const intro = h("p", {}, `Nothing has been changed yet. Applied, this plan creates ${counted(r.created, "case")} `
    + `and updates ${counted(r.updated, "case")}`
    + (r.failed ? `; ${counted(r.failed, "row has", "rows have")} errors and would be skipped.` : "."));

  async function apply() {
    button.disabled = true;
    clear(outcome);
    try {
      const made = await api(urls.importApply(app.slug, item.id), { method: "POST" });
      announceImportsChanged(app.slug);
      go(pages.import(app.slug, made.id));
    } catch (error) {
      outcome.append(h("p", {}, error.message));
      // The detail names the case that changed (its tag and line) and what happened to it.
      if (error.code === "plan_stale") {
        outcome.append(checkAgainButton(app, item));
      } else if (error.code === "plan_applied") {
        const now = await api(urls.import(app.slug, item.id)).catch(() => null);
        if (now && now.applied_by) {
          outcome.append(h("p", {}, h("a", { href: pages.import(app.slug, now.applied_by) }, "Open the import that applied it")));
        }
      }
    } finally {
      button.disabled = false;
    }
  }
  const button = h("button", { type: "button", class: "primary", onClick: apply }, "Apply this plan");
  const canApply = app.role === "admin" && !item.applied_by;
  return h("section", { class: "plan", "aria-label": "Plan" },
    h("h3", {}, "Plan"), intro,
    canApply ? h("div", { class: "plan-actions" }, button) : null,
    outcome,
    changeList(app.slug, item.id, { title: "Planned changes" }));
}
