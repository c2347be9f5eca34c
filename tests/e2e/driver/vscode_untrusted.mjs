// In an untrusted workspace (restricted mode) the extension runs the static checks only: the
// static squiggle appears, no shape error comes, the model summary says dynamic checks are
// off, and MCP: List Servers has no deepeval server until the workspace is trusted.
// Usage: node vscode_untrusted.mjs URL FILE_NAME ARTIFACT_DIR
// Prints one JSON object (the steps seen) and exits 0 when every step passed.
import { drive } from "./workbench.mjs";

const [url, fileName, artifacts] = process.argv.slice(2);

const scenario = async ({ page, step, shot, openFile, runCommand }) => {
  await openFile(fileName);

  await page.waitForSelector(".monaco-editor .squiggly-error", { timeout: 120000 });
  step("squiggle");
  await page.keyboard.press("Control+Shift+M");
  await page.locator(".markers-panel .monaco-list-row", { hasText: "DL104" }).first()
    .waitFor({ timeout: 20000 });

  await runCommand("deepeval: Show Model Summary");
  const summary = page.locator(".monaco-editor .view-lines", { hasText: "No model summary" });
  await summary.first().waitFor({ timeout: 30000 });
  step("summary", { text: (await summary.first().innerText()).replace(/\u00a0/g, " ") });
  step("problems", { rows: await page.locator(".markers-panel .monaco-list-row").allInnerTexts() });
  await shot("untrusted");

  // The MCP server builds models: not offered to agent mode in restricted mode.
  const rows = page.locator(".quick-input-list .monaco-list-row");
  await runCommand("MCP: List Servers");
  await rows.first().waitFor({ timeout: 20000 });
  await page.waitForTimeout(2000); // providers answer asynchronously
  step("mcp servers", { rows: await rows.allInnerTexts() });
  await shot("untrusted-mcp");
  await page.keyboard.press("Escape");

  // Granting trust offers it, in the same window: its provider was there and answering.
  await runCommand("Workspaces: Manage Workspace Trust");
  await page.locator(".workspace-trust-editor .monaco-button", { hasText: /^Trust$/ })
    .first().click({ timeout: 20000 });
  await runCommand("MCP: List Servers");
  await rows.filter({ hasText: "deepeval" }).first().waitFor({ timeout: 30000 });
  step("mcp servers trusted", { rows: await rows.allInnerTexts() });
  await shot("trusted-mcp");
  await page.keyboard.press("Escape");
};

await drive(url, artifacts, "untrusted-failure", scenario);
