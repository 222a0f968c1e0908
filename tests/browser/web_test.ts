// The example web app (examples/web) in headless Chromium against the test stack: every path a
// user takes through chat, documents and usage, checked on the page and in the database.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { join } from "node:path";
import { ROOT } from "../../local/config.ts";
import { fakeReply, marker, queueScript, SONNET } from "../_support/chat.ts";
import { connect, until } from "../_support/stack.ts";
import { closeBrowser, SCREENSHOTS, withPage, words } from "./browser.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const sql = connect();

/** Starts a conversation from the empty state; returns its id (from the URL). */
async function startConversation(page: Page) {
  await page.getByTestId("new-chat").click();
  await page.getByTestId("start-chat").click();
  await page.waitForURL(/#\/c\//);
  await page.getByTestId("composer").waitFor();
  return page.url().split("#/c/")[1];
}

async function send(page: Page, text: string) {
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("send").click();
}

const lastReply = (page: Page) =>
  page.getByTestId("message-assistant").last().getByTestId("message-text");

async function storedReply(conversationId: string) {
  const [row] = await sql`select id, status, content from public.messages
    where conversation_id = ${conversationId} and role = 'assistant' order by created_at desc, id limit 1`;
  return row;
}

Deno.test({
  name: "browser: sign up, confirm by mail, sign in; send, tokens arrive as they stream",
  ...opts,
}, async () => {
  await withPage("send", async (page, user) => {
    // Signed in through supabase-js: the SDK sends the session's token, and the API knows the user.
    assert.equal(await page.locator(".who").textContent(), user.email);
    const id = await startConversation(page);
    const text = words(40, "tok");
    await send(page, `Hello ${fakeReply(text, 40)}`);
    // Part of the reply is on the page while it is still streaming.
    await until("a partial reply", async () => {
      const shown = await lastReply(page).textContent() ?? "";
      return shown.length > 0 && !shown.includes(text) ? shown : null;
    });
    await page.getByTestId("send").waitFor(); // Stop turns back into Send when the reply ends
    assert.equal((await lastReply(page).textContent())?.trim(), text);
    const stored = await storedReply(id);
    assert.deepEqual([stored.status, stored.content], ["complete", text]);
  }, { signUp: true });
});

Deno.test(
  { name: "browser: Stop stops the reply on the server; the partial text stays", ...opts },
  async () => {
    await withPage("stop", async (page) => {
      const id = await startConversation(page);
      const text = words(400);
      await send(page, `Long one ${fakeReply(text, 30)}`);
      await until(
        "some tokens",
        async () => ((await lastReply(page).textContent()) ?? "").length > 15,
      );
      await page.getByTestId("stop").click();
      const stored = await until("the reply to be aborted", async () => {
        const row = await storedReply(id);
        return row?.status === "aborted" ? row : null;
      });
      assert.ok(stored.content.length > 0 && stored.content.length < text.length);
      await page.locator(".message.assistant", { hasText: "Stopped" }).waitFor();
      assert.equal((await lastReply(page).textContent())?.trim(), stored.content.trim());
    });
  },
);

Deno.test(
  { name: "browser: a reload mid-reply resumes the stream to its end", ...opts },
  async () => {
    await withPage("resume", async (page) => {
      const id = await startConversation(page);
      const text = words(60, "r");
      await send(page, `Resume me ${fakeReply(text, 20)}`);
      await until(
        "some tokens",
        async () => ((await lastReply(page).textContent()) ?? "").length > 5,
      );
      await page.reload();
      const before = await storedReply(id);
      assert.equal(before.status, "streaming", "still generating when the page comes back");
      await page.getByTestId("stop").waitFor(); // the page follows the running reply
      await page.getByTestId("send").waitFor({ timeout: 15_000 });
      assert.equal((await lastReply(page).textContent())?.trim(), text);
      assert.equal((await storedReply(id)).status, "complete");
    });
  },
);

Deno.test(
  { name: "browser: regenerate, then edit a message and switch between branches", ...opts },
  async () => {
    await withPage("branches", async (page) => {
      const id = await startConversation(page);
      await send(page, `First question ${fakeReply("first answer")}`);
      await page.getByTestId("regenerate").waitFor();
      await page.getByTestId("regenerate").click();
      // The regenerated reply is a second branch under the same question.
      await page.getByTestId("message-assistant").getByTestId("branch-position").filter({
        hasText: "2 / 2",
      }).waitFor();
      const [{ n }] =
        await sql`select count(*)::int as n from public.messages where conversation_id = ${id} and role = 'assistant'`;
      assert.equal(n, 2);

      await page.getByTestId("edit").click();
      await page.getByTestId("edit-text").fill(`Edited question ${fakeReply("edited answer")}`);
      await page.getByTestId("edit-save").click();
      await page.getByTestId("message-user").getByTestId("branch-position").filter({
        hasText: "2 / 2",
      }).waitFor();
      assert.equal((await lastReply(page).textContent())?.trim(), "edited answer");

      await page.getByTestId("message-user").getByTestId("branch-prev").click();
      await page.getByTestId("message-user").getByTestId("branch-position").filter({
        hasText: "1 / 2",
      }).waitFor();
      assert.match((await page.getByTestId("message-user").textContent()) ?? "", /First question/);
      assert.equal((await lastReply(page).textContent())?.trim(), "first answer");
      const [conversation] =
        await sql`select active_leaf_id from public.conversations where id = ${id}`;
      const [leaf] =
        await sql`select content from public.messages where id = ${conversation.active_leaf_id}`;
      assert.equal(
        leaf.content,
        "first answer",
        "the switch is stored: a reload shows the same branch",
      );
    });
  },
);

Deno.test(
  { name: "browser: upload with live status, @mention it, see its citation", ...opts },
  async () => {
    await withPage("mention", async (page) => {
      await page.getByTestId("nav-documents").click();
      await page.getByTestId("upload").setInputFiles({
        name: "budget-notes.md",
        mimeType: "text/markdown",
        buffer: Buffer.from("# Budget\n\nThe Q3 budget is 40k, approved by Dana.\n"),
      });
      await page.getByTestId("upload-progress").waitFor();
      await page.getByTestId("upload-status").filter({ hasText: "ready" }).waitFor({
        timeout: 20_000,
      });
      await page.getByTestId("document").filter({ hasText: "budget-notes" }).getByTestId(
        "document-status",
      )
        .filter({ hasText: "ready" }).waitFor();

      await startConversation(page);
      await page.getByTestId("composer").pressSequentially("What is the budget? @budg");
      await page.getByTestId("mention-option").filter({ hasText: "budget-notes" }).click();
      await page.getByTestId("mention-chip").filter({ hasText: "budget-notes" }).waitFor();
      await page.getByTestId("composer").pressSequentially(fakeReply("It is 40k."));
      await page.getByTestId("send").click();
      const citation = page.getByTestId("message-assistant").last().getByTestId("citation");
      await citation.first().waitFor();
      assert.match((await citation.first().textContent()) ?? "", /budget-notes/);
    });
  },
);

Deno.test({
  name: "browser: sidebar groups by date, pins, searches; usage shows cost by day",
  ...opts,
}, async () => {
  await withPage("sidebar-usage", async (page) => {
    await startConversation(page);
    await send(page, `Plan a trip to Lisbon ${fakeReply("Here is a plan.")}`);
    await page.getByTestId("send").waitFor();
    await page.getByTestId("group-today").waitFor();
    await page.getByTestId("pin").first().click();
    await page.getByTestId("group-pinned").waitFor();
    await page.getByTestId("search").fill("zzz-no-such-conversation");
    await page.getByTestId("conversation").first().waitFor({ state: "detached" });
    await page.getByTestId("search").fill("");
    await page.getByTestId("conversation").first().waitFor();

    await page.getByTestId("nav-usage").click();
    await page.getByTestId("cost-chart").waitFor();
    assert.ok((await page.getByTestId("cost-bar").count()) >= 1, "today has a bar");
    assert.notEqual((await page.getByTestId("usage-cost").textContent())?.trim(), "$0.0000");
  });
});

Deno.test(
  { name: "browser: inbox: a summary and the tasks found in the user's messages", ...opts },
  async () => {
    await withPage("inbox", async (page, user) => {
      // Messages as the Slack connector writes them.
      const bodies = [
        "Can you review the launch plan and sign off by Friday?",
        "Invoice 4411 is overdue, please confirm payment.",
        "Lunch is on the 5th floor today.",
      ];
      for (const [i, body] of bodies.entries()) {
        await sql`insert into public.events (user_id, source, external_id, event_type, title, body, importance_score, occurred_at)
                values (${user.userId}, 'slack', ${`browser:${i}`}, 'message', ${`#general ${i}`}, ${body}, ${
          80 - i * 30
        },
                        now() - make_interval(mins => ${10 + i}))`;
      }
      await page.getByTestId("nav-inbox").click();
      await page.getByTestId("inbox-prompt").fill("summarize last 2 hours");
      await page.getByTestId("inbox-ask").click();
      await page.getByTestId("summary-overview").waitFor({ timeout: 20_000 });
      const [summary] =
        await sql`select content_json from public.summaries where user_id = ${user.userId}`;
      assert.ok(summary, "the summary is stored");

      await page.getByTestId("inbox-prompt").fill("what needs action?");
      await page.getByTestId("inbox-ask").click();
      await page.getByTestId("inbox-tasks").waitFor({ timeout: 20_000 });
      const tasks =
        await sql`select title from public.tasks where user_id = ${user.userId} and origin = 'inbox'`;
      assert.ok(tasks.length > 0);
      assert.equal(
        await page.getByTestId("inbox-task").count(),
        tasks.length,
        "each stored task is listed",
      );
    });
  },
);

Deno.test(
  { name: "browser: planner: plan a goal, approve it, today's tasks listed and completed", ...opts },
  async () => {
    await withPage("planner", async (page, user) => {
      // A time zone where it is mid-morning now, so the plan's first slots fall on today.
      const offset = Math.max(-12, Math.min(14, 10 - new Date().getUTCHours()));
      const zone = offset === 0 ? "Etc/UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
      await sql`update public.profiles set timezone = ${zone}, preferences = ${
        sql.json({
          working_hours: { start: "06:00", end: "22:00", days: [1, 2, 3, 4, 5, 6, 7] },
          quiet_hours: { start: "23:00", end: "05:00" },
        })
      } where id = ${user.userId}`;
      const tag = marker("webplan");
      const json = (value: unknown) => ({ text: JSON.stringify(value) });
      await queueScript("anthropic", json({
        intent: "new_goal",
        approves_plan: false,
        goal_id: null,
        reply: "",
      }), { contains: tag });
      await queueScript("anthropic", json({
        goal: { title: `Learn Spanish ${tag}`, description: "Conversational by summer", target_date: null },
        micro_goals: [{ position: 1, title: "Basics", description: null }],
        tasks: [
          { title: "Vocabulary 20 min", details: null, duration_minutes: 20, rrule: null, micro_goal: 1, preferred_time: "any" },
          { title: "Grammar lesson", details: null, duration_minutes: 30, rrule: null, micro_goal: 1, preferred_time: "any" },
        ],
        message: "Here is a plan to learn Spanish. Shall I save it?",
      }), { contains: tag });
      await queueScript("anthropic", json({ categories: ["learning"] }), { contains: tag });

      await page.getByTestId("nav-planner").click();
      await page.getByTestId("planner-input").fill(`I want to learn Spanish ${tag}`);
      await page.getByTestId("planner-send").click();
      await page.getByTestId("planner-plan").waitFor({ timeout: 20_000 });
      assert.equal(await page.getByTestId("plan-task").count(), 2);
      await page.getByTestId("planner-planner").filter({ hasText: "plan to learn Spanish" }).waitFor();
      const [{ n }] = await sql`select count(*)::int as n from public.goals where user_id = ${user.userId}`;
      assert.equal(n, 0, "nothing saved before approval");

      await page.getByTestId("plan-approve").click();
      await page.getByTestId("planner-plan").filter({ hasText: "approved" }).waitFor();
      const [goal] = await sql`select id, title from public.goals where user_id = ${user.userId}`;
      assert.equal(goal.title, `Learn Spanish ${tag}`);
      const rows = await sql`select id, title, status from public.tasks
        where goal_id = ${goal.id} order by scheduled_at`;
      assert.deepEqual(rows.map((r) => r.status), ["open", "open"]);

      // Today's tasks (the first slots are today), completed from the page.
      const first = page.getByTestId("today-task").filter({ hasText: rows[0].title });
      await first.waitFor();
      await first.getByTestId("task-complete").click();
      await page.locator('[data-testid="today-task"].done', { hasText: rows[0].title }).waitFor();
      const [done] = await sql`select status, completed_at from public.tasks where id = ${rows[0].id}`;
      assert.equal(done.status, "done");
      assert.ok(done.completed_at);
      await shoot(page, "planner");
    });
  },
);

// Renders the README's screenshots (always to .local/<stack>/screenshots/readme-*.png; with
// AIDE_README_SCREENSHOTS=1 also to docs/screenshots/, to commit). Fake replies are queued by
// model and text, so the page shows what a user would type.
Deno.test({
  name: "browser: README screenshots of chat with a citation, documents, usage",
  ...opts,
}, async () => {
  await withPage("readme", async (page, user) => {
    const question = "When does the Lisbon launch happen, and what is the budget?";
    await queueScript("openai", { text: "Lisbon launch date" }, {
      model: "gpt-5-mini",
      contains: question,
    });
    await queueScript("anthropic", {
      text: "The launch moves to May 12, and the budget is 40k (both from the launch plan).",
      tokens_per_sec: 80,
    }, { model: SONNET, contains: question });

    await page.getByTestId("nav-documents").click();
    await page.getByTestId("upload").setInputFiles({
      name: "Launch plan.md",
      mimeType: "text/markdown",
      buffer: Buffer.from(
        "# Launch plan\n\nThe Lisbon launch moves to May 12. The budget is 40k.\n",
      ),
    });
    await page.getByTestId("upload-status").filter({ hasText: "ready" }).waitFor({
      timeout: 20_000,
    });
    await shoot(page, "documents");

    await startConversation(page);
    await page.getByTestId("composer").pressSequentially(`${question} @Launch`);
    await page.getByTestId("mention-option").filter({ hasText: "Launch plan" }).first().click();
    await page.getByTestId("send").click();
    await page.getByTestId("message-assistant").getByTestId("citation").first().waitFor();
    await page.getByTestId("send").waitFor();
    await page.getByTestId("title").filter({ hasText: "Lisbon launch date" }).waitFor();
    await page.getByTestId("pin").first().click();
    await page.getByTestId("group-pinned").waitFor();
    await shoot(page, "chat");

    // Earlier days' usage, as the ledger would hold it after a week of chatting.
    const days = [1, 2, 3, 5, 6, 8, 9, 12];
    for (const [i, ago] of days.entries()) {
      await sql`insert into public.usage_ledger (call_id, user_id, product_step, provider, model, provider_model,
                  status, input_tokens, output_tokens, cost_micro_usd, created_at)
                values (${crypto.randomUUID()}, ${user.userId}, 'chat', 'anthropic', 'claude-sonnet-4.6', ${SONNET},
                  'ok', 1200, 400, ${
        (3 + (i * 7) % 11) * 1000
      }, now() - make_interval(days => ${ago}))`;
    }
    await page.getByTestId("nav-usage").click();
    await page.getByTestId("cost-bar").first().waitFor();
    assert.equal(
      await page.getByTestId("cost-bar").count(),
      days.length + 1,
      "a bar for each day with cost",
    );
    await shoot(page, "usage");
  });
});

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `readme-${name}.png`) });
  if (Deno.env.get("AIDE_README_SCREENSHOTS") === "1") {
    await page.screenshot({ path: join(ROOT, "docs/screenshots", `${name}.png`) });
  }
}

Deno.test({ name: "browser: close the browser", ...opts }, async () => {
  await closeBrowser();
  await sql.end();
});
