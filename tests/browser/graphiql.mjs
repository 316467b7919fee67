// GraphiQL in a real browser, driven by run.sh (which sets the KITH_* variables below).
// KITH_MODE=dev: a development server; the page carries its ADMIN token.
// KITH_MODE=jwt: JWT_SECRET is set; the page carries no token, and KITH_TOKEN is pasted.
// Prints one line per check, screenshot paths, and last `MODE: N passed, M failed`.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set (run tests/browser/run.sh)`);
  return value;
};
const base = env("KITH_BASE_URL");
const mode = env("KITH_MODE");
const token = process.env.KITH_TOKEN ?? "";
const shots = env("KITH_SHOTS");
// playwright-core is installed beside the build cache, not under tests/: load it from there.
const { chromium } = createRequire(join(env("KITH_BROWSER_MODULES"), "/"))("playwright-core");

const origin = new URL(base).origin;
let passed = 0;
let failed = 0;
const check = async (name, body) => {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${mode}: ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${mode}: ${name}: ${error?.message ?? error}`);
  }
};
const assert = (condition, message) => {
  if (!condition) throw new Error(message);
};

mkdirSync(shots, { recursive: true });
const context = await chromium.launchPersistentContext(env("KITH_PROFILE"), {
  executablePath: env("KITH_CHROMIUM"),
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1400, height: 900 },
});
const requests = [];
context.on("request", (request) => requests.push(request.url()));
const page = context.pages()[0] ?? (await context.newPage());
const errors = [];
page.on("pageerror", (error) => errors.push(String(error)));
// WebSockets are not `request` events: record each with its frames (for failure messages).
const sockets = [];
page.on("websocket", (socket) => {
  const seen = { url: socket.url(), frames: [], closed: false };
  sockets.push(seen);
  socket.on("framesent", (frame) => seen.frames.push(`> ${frame.payload}`));
  socket.on("framereceived", (frame) => seen.frames.push(`< ${frame.payload}`));
  socket.on("socketerror", (error) => seen.frames.push(`! ${error}`));
  socket.on("close", () => {
    seen.closed = true;
  });
});
const socketLog = () =>
  sockets.map((s) => `${s.url}${s.closed ? " (closed)" : ""}: ${s.frames.join(" | ").slice(0, 600)}`).join("; ").replace(/Bearer [\w.-]+/g, "Bearer <token>") || "no WebSocket";

const screenshot = async (step) => {
  const path = join(shots, `${mode}-${step}.png`);
  await page.screenshot({ path });
  console.log(`screenshot: ${path}`);
};
// The CodeMirror 5 instance behind one of GraphiQL's editors.
const editor = (selector) => ({
  get: () =>
    page.evaluate((s) => document.querySelector(`${s} .CodeMirror`).CodeMirror.getValue(), selector),
  set: (text) =>
    page.evaluate(
      ([s, t]) => document.querySelector(`${s} .CodeMirror`).CodeMirror.setValue(t),
      [selector, text],
    ),
});
const query = editor(".graphiql-query-editor");
const response = editor(".graphiql-response");
const headers = editor('.graphiql-editor-tool .graphiql-editor:not(.hidden)');

const run = async () => {
  const answered = page.waitForResponse((r) => r.url() === `${origin}/graphql` && r.request().method() === "POST" && !r.request().postData()?.includes("IntrospectionQuery"));
  await page.click(".graphiql-execute-button");
  await answered;
  await page.waitForFunction(
    () => document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue().trim().startsWith("{"),
    null,
    { timeout: 15000 },
  );
  return JSON.parse(await response.get());
};

try {
  await check("the page loads GraphiQL", async () => {
    await page.goto(`${base}/`, { waitUntil: "networkidle" });
    await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 20000 });
    await screenshot("loaded");
  });

  await check("the headers start as the server intends", async () => {
    const text = (await headers.get()).trim();
    if (mode === "dev") {
      assert(/"Authorization": "Bearer eyJ/.test(text), `the development token is set: ${text}`);
    } else {
      assert(!/authorization/i.test(text), `no Authorization header without a token: ${text}`);
      const hint = await query.get();
      assert(hint.includes("paste") && hint.includes("kith token"), `the query says where a token goes: ${hint.slice(0, 200)}`);
    }
  });

  await check("the Docs explorer lists the Query fields", async () => {
    await page.click('button[aria-label="Show Documentation Explorer"]');
    const root = page.locator(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name").first();
    await root.waitFor({ timeout: 20000 });
    const rootName = await root.textContent();
    assert(/^Query(Root)?$/.test(rootName), `the first root type is the query root: ${rootName}`);
    await root.click();
    await page.waitForSelector(".graphiql-doc-explorer-field-name", { timeout: 10000 });
    const fields = await page.locator(".graphiql-doc-explorer-field-name").allTextContents();
    for (const field of ["me", "customer", "customers", "account", "accounts", "contact", "contacts"]) {
      assert(fields.includes(field), `${field} in ${fields.join(", ")}`);
    }
    await screenshot("docs");
  });

  if (mode === "jwt") {
    await check("a pasted token is sent", async () => {
      await headers.set(JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));
    });
  }

  await check("running the editor's query shows data", async () => {
    const result = await run();
    assert(!result.errors, `no errors: ${JSON.stringify(result.errors)}`);
    assert(result.data?.me?.roles?.includes("ADMIN"), `me: ${JSON.stringify(result.data?.me)}`);
    const customers = result.data?.customers;
    assert(customers?.totalCount > 0 && customers.items.length > 0, `customers: ${JSON.stringify(customers)?.slice(0, 200)}`);
    await screenshot("result");
  });

  await check("a subscription runs in GraphiQL and shows an event", async () => {
    // The token the page sends (the development token, or the one pasted above), for the
    // requests made from Node: those are not the browser's, so they are not in `requests`.
    const authorization = JSON.parse(await headers.get()).Authorization;
    assert(/^Bearer ./.test(authorization ?? ""), `the headers carry a token: ${await headers.get()}`);
    const graphql = async (text, variables) => {
      const answer = await fetch(`${base}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization },
        body: JSON.stringify({ query: text, variables }),
      });
      const body = await answer.text();
      assert(answer.ok && !JSON.parse(body).errors, `${answer.status} ${body.slice(0, 300)}`);
      return JSON.parse(body).data;
    };
    const id = (await graphql("{ customers(page: { pageSize: 1 }) { items { id } } }")).customers.items[0]?.id;
    assert(id, "a customer to watch");

    const wsUrl = `${origin.replace(/^http/, "ws")}/graphql`;
    const before = sockets.length;
    await query.set(
      `subscription {\n  customerChanged(customerId: "${id}") {\n    change { action changes { field newValue } }\n    customer { name }\n  }\n}\n`,
    );
    // GraphiQL parses the editor 100 ms after a change (debounced), and picks HTTP or the
    // WebSocket from that parse: click only once it has seen the subscription.
    await page.waitForFunction(
      () =>
        document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.documentAST?.definitions?.[0]
          ?.operation === "subscription",
      null,
      { timeout: 10000 },
    );
    await response.set("");
    const opened = page.waitForEvent("websocket", { timeout: 10000 });
    await page.click(".graphiql-execute-button");
    const socket = await opened;
    const seen = sockets[before];
    assert(socket.url() === wsUrl && seen?.url === wsUrl, `a WebSocket to ${wsUrl}: ${socketLog()}`);
    // graphql-transport-ws: connection_init (with the headers as payload), connection_ack,
    // then subscribe. The protocol has no "subscribed" reply, so give the server a moment to
    // register the subscription before writing.
    const until = async (what, test) => {
      for (let waited = 0; !test(); waited += 50) {
        const pane = (await response.get()).trim();
        assert(waited < 10000 && !seen.closed && !pane.startsWith("{"), `${what}: ${socketLog()}; result pane: ${pane.slice(0, 300)}`);
        await page.waitForTimeout(50);
      }
    };
    const typeOf = (frame) => {
      try {
        return JSON.parse(frame.slice(2)).type;
      } catch {
        return undefined;
      }
    };
    const sent = (type) => seen.frames.some((f) => f.startsWith("> ") && typeOf(f) === type);
    const received = (type) => seen.frames.some((f) => f.startsWith("< ") && typeOf(f) === type);
    await until("connection_ack", () => received("connection_ack"));
    await until("subscribe sent", () => sent("subscribe"));
    await page.waitForTimeout(500);
    assert(!seen.closed, `the socket stays open: ${socketLog()}`);
    const label = await page.getAttribute(".graphiql-execute-button", "aria-label");
    assert(label?.startsWith("Stop"), `GraphiQL shows the subscription running: ${label}; ${(await response.get()).slice(0, 300)}`);

    const name = `Renamed in the browser ${Date.now()}`;
    const renamed = await graphql(
      "mutation Rename($id: ID!, $name: String) { updateCustomer(id: $id, input: { name: $name }) { customer { name } userErrors { field message code } } }",
      { id, name },
    );
    assert(renamed.updateCustomer.customer?.name === name, `renamed: ${JSON.stringify(renamed)}`);
    try {
      await page.waitForFunction(
        (n) => document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue().includes(n),
        name,
        { timeout: 10000 },
      );
    } catch {
      throw new Error(`no event in 10 s: ${socketLog()}; result pane: ${(await response.get()).slice(0, 300)}`);
    }
    const event = JSON.parse(await response.get());
    assert(!event.errors, `no errors: ${JSON.stringify(event.errors)}`);
    const changed = event.data?.customerChanged;
    assert(changed?.customer?.name === name, `the customer: ${JSON.stringify(changed)}`);
    assert(
      changed.change?.changes?.some((c) => c.field === "name" && c.newValue === name),
      `the change names the new name: ${JSON.stringify(changed.change)}`,
    );
    assert(received("next"), `the event came over the socket: ${socketLog()}`);
    const foreign = sockets.filter((s) => s.url !== wsUrl);
    assert(foreign.length === 0, `WebSockets elsewhere: ${foreign.map((s) => s.url).join(", ")}`);
    await screenshot("subscription");

    // Stop it: the button sends `complete` and the idle client closes the socket.
    await page.click(".graphiql-execute-button");
    await page.waitForFunction(
      () => document.querySelector(".graphiql-execute-button")?.getAttribute("aria-label")?.startsWith("Execute"),
      null,
      { timeout: 10000 },
    );
    console.log(`     event for ${id}: ${JSON.stringify(changed.change)}`);
  });

  await check("autocomplete offers customer", async () => {
    await query.set("{\n  \n}\n");
    await page.evaluate(() => {
      const cm = document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror;
      cm.focus();
      cm.setCursor({ line: 1, ch: 2 });
    });
    await page.keyboard.type("cust", { delay: 50 });
    await page.waitForSelector(".CodeMirror-hints .CodeMirror-hint", { timeout: 10000 });
    const hints = await page.locator(".CodeMirror-hints .CodeMirror-hint").allTextContents();
    assert(hints.some((hint) => hint.trim() === "customer"), `customer in ${hints.join(", ")}`);
    await screenshot("autocomplete");
  });

  await check("no request leaves the server's origin", async () => {
    assert(requests.length > 0, "requests were recorded");
    // data: and blob: URLs are made in the page and fetch nothing.
    const external = requests.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url));
    assert(external.length === 0, `external requests: ${external.join(", ")}`);
    console.log(`     ${requests.length} requests, all to ${origin}`);
  });

  await check("no script error", async () => {
    assert(errors.length === 0, errors.join("; "));
  });
} finally {
  await context.close();
}
console.log(`${mode}: ${passed} passed, ${failed} failed`);
