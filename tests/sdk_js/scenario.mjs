// Drives a Mailgun-compatible server with mailgun.js, the official JavaScript SDK, across domains,
// suppressions, templates, mailing lists, messages, events and tags.
//
//   node scenario.mjs <base url> <api key>
//
// Prints one JSON object on stdout: the SDK version and, per step, what the SDK resolved to
// ({"ok": true, "value": ...}) or threw ({"ok": false, "status": ..., "message": ..., "details": ...}).
// Steps run in order and a failed step does not stop the ones after it.

import { readFileSync } from "node:fs";
import FormData from "form-data";
import Mailgun from "mailgun.js";

const [url, key] = process.argv.slice(2);
const DOMAIN = "mg.example.com";
const NEW_DOMAIN = "js.example.com";
const LIST = "js-team@mg.example.com";

const mg = new Mailgun(FormData).client({ username: "api", key, url });
const steps = {};

async function step(name, run) {
  try {
    steps[name] = { ok: true, value: await run() };
  } catch (error) {
    steps[name] = { ok: false, status: error.status ?? null, message: String(error.message), details: error.details ?? null };
  }
}

// Domains
await step("domains.list", () => mg.domains.list({ limit: 10 }));
await step("domains.get", () => mg.domains.get(DOMAIN));
await step("domains.create", () => mg.domains.create({ name: NEW_DOMAIN }));
await step("domains.update", () => mg.domains.update(NEW_DOMAIN, { spam_action: "tag" }));
await step("domains.domainTracking.updateTracking", () => mg.domains.domainTracking.updateTracking(DOMAIN, "open", { active: true }));
await step("domains.domainTracking.getTracking", () => mg.domains.domainTracking.getTracking(DOMAIN));
await step("domains.destroy", () => mg.domains.destroy(NEW_DOMAIN));
await step("domains.get.missing", () => mg.domains.get(NEW_DOMAIN));

// Suppressions
await step("suppressions.create.bounces", () =>
  mg.suppressions.create(DOMAIN, "bounces", [{ address: "ben@example.com", code: 550, error: "mailbox does not exist" }]),
);
await step("suppressions.create.unsubscribes", () =>
  mg.suppressions.create(DOMAIN, "unsubscribes", { address: "cat@example.com", tag: "promo" }),
);
await step("suppressions.create.complaints", () =>
  mg.suppressions.create(DOMAIN, "complaints", { address: "dan@example.com" }),
);
await step("suppressions.create.whitelists", () =>
  mg.suppressions.create(DOMAIN, "whitelists", { address: "amy@example.com" }),
);
await step("suppressions.list.bounces", () => mg.suppressions.list(DOMAIN, "bounces", { limit: 10 }));
await step("suppressions.get.bounces", () => mg.suppressions.get(DOMAIN, "bounces", "ben@example.com"));
await step("suppressions.get.unsubscribes", () => mg.suppressions.get(DOMAIN, "unsubscribes", "cat@example.com"));
await step("suppressions.list.complaints", () => mg.suppressions.list(DOMAIN, "complaints"));
await step("suppressions.list.whitelists", () => mg.suppressions.list(DOMAIN, "whitelists"));
await step("suppressions.destroy.complaints", () => mg.suppressions.destroy(DOMAIN, "complaints", "dan@example.com"));
await step("suppressions.get.missing", () => mg.suppressions.get(DOMAIN, "complaints", "dan@example.com"));

// Templates
const templates = mg.domains.domainTemplates;
await step("templates.create", () =>
  templates.create(DOMAIN, {
    name: "js-welcome",
    description: "Welcome mail",
    template: "<p>Hi {{name}}</p>",
    tag: "v1",
    comment: "first",
  }),
);
await step("templates.get", () => templates.get(DOMAIN, "js-welcome", { active: "yes" }));
await step("templates.list", () => templates.list(DOMAIN, { limit: 10 }));
await step("templates.createVersion", () =>
  templates.createVersion(DOMAIN, "js-welcome", { template: "<p>Hello {{name}}</p>", tag: "v2", active: "yes" }),
);
await step("templates.listVersions", () => templates.listVersions(DOMAIN, "js-welcome"));
await step("templates.getVersion", () => templates.getVersion(DOMAIN, "js-welcome", "v2"));

// Mailing lists
await step("lists.create", () => mg.lists.create({ address: LIST, name: "JS team", description: "From mailgun.js" }));
await step("lists.members.createMember", () =>
  mg.lists.members.createMember(LIST, { address: "amy@example.com", name: "Amy", vars: JSON.stringify({ first: "Amy" }) }),
);
await step("lists.members.createMembers", () =>
  mg.lists.members.createMembers(LIST, {
    members: [{ address: "ben@example.com", name: "Ben" }, { address: "eve@example.com", name: "Eve" }],
    upsert: "yes",
  }),
);
await step("lists.members.updateMember", () =>
  mg.lists.members.updateMember(LIST, "eve@example.com", { subscribed: "no" }),
);
await step("lists.members.getMember", () => mg.lists.members.getMember(LIST, "eve@example.com"));
await step("lists.members.listMembers", () => mg.lists.members.listMembers(LIST));
await step("lists.get", () => mg.lists.get(LIST));
await step("lists.list", () => mg.lists.list());

// A templated send to the list, tagged: amy is delivered, ben bounced, eve unsubscribed from the list.
await step("messages.create", () =>
  mg.messages.create(DOMAIN, {
    from: "Ann <ann@mg.example.com>",
    to: LIST,
    subject: "Welcome aboard",
    template: "js-welcome",
    "t:variables": JSON.stringify({ name: "friend" }),
    "o:tag": ["js-launch"],
  }),
);

// Events
await step("events.delivered", () => mg.events.get(DOMAIN, { event: "delivered", ascending: "yes" }));
await step("events.failed", () => mg.events.get(DOMAIN, { event: "failed" }));

// Tags: the Tags API of /v1/analytics/tags, then the legacy per-domain one (deprecated by Mailgun).
await step("tags.list", () => mg.tags.list({ tag: "js-launch", include_metrics: true }));
await step("tags.limits", () => mg.tags.limits());
await step("tags.update", () => mg.tags.update("js-launch", "Launch mail"));
const tags = mg.domains.domainTags;
await step("domainTags.list", () => tags.list(DOMAIN));
await step("domainTags.update", () => tags.update(DOMAIN, "js-launch", "Launch mail, legacy"));
await step("domainTags.get", () => tags.get(DOMAIN, "js-launch"));
await step("domainTags.statistic", () => tags.statistic(DOMAIN, "js-launch", { event: "accepted", duration: "1d" }));
await step("domainTags.providers", () => tags.providers(DOMAIN, "js-launch"));
await step("domainTags.countries", () => tags.countries(DOMAIN, "js-launch"));
await step("domainTags.devices", () => tags.devices(DOMAIN, "js-launch"));
await step("domainTags.destroy", () => tags.destroy(DOMAIN, "js-launch"));
await step("domainTags.get.missing", () => tags.get(DOMAIN, "js-launch"));

// Clean-up through the SDK's delete calls.
await step("lists.members.destroyMember", () => mg.lists.members.destroyMember(LIST, "amy@example.com"));
await step("lists.destroy", () => mg.lists.destroy(LIST));
await step("templates.destroyVersion", () => templates.destroyVersion(DOMAIN, "js-welcome", "v1"));
await step("templates.destroy", () => templates.destroy(DOMAIN, "js-welcome"));

const sdk = JSON.parse(readFileSync(new URL("./node_modules/mailgun.js/package.json", import.meta.url))).version;
process.stdout.write(JSON.stringify({ sdk, steps }));
