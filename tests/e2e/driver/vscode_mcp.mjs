// The MCP server for agent mode: in a trusted workspace, MCP: List Servers shows the extension's
// server ("deepeval", with its provider's label); starting it from there runs
// `python -m deepeval_lsp mcp` and VS Code lists its tools (the server's output channel says how
// many it discovered). Usage: node vscode_mcp.mjs URL FILE_NAME ARTIFACT_DIR
// Prints one JSON object (the steps seen) and exits 0 when every step passed.
import { drive } from "./workbench.mjs";

const [url, fileName, artifacts] = process.argv.slice(2);

const scenario = async ({ page, step, shot, openFile, runCommand }) => {
  const rows = page.locator(".quick-input-list .monaco-list-row");
  // In the quick pick on screen: the row that has `text` chosen by filtering, then Enter (a
  // click may land on the row's hover).
  const choose = async (text) => {
    await rows.filter({ hasText: text }).first().waitFor({ timeout: 20000 });
    await page.keyboard.type(text);
    await rows.first().filter({ hasText: text }).waitFor({ timeout: 5000 });
    await page.keyboard.press("Enter");
  };

  await openFile(fileName);
  await runCommand("MCP: List Servers");
  await rows.filter({ hasText: "deepeval" }).first().waitFor({ timeout: 30000 });
  step("servers", { rows: await rows.allInnerTexts() });
  await shot("mcp-1-servers");

  await choose("deepeval");
  await rows.filter({ hasText: "Start Server" }).first().waitFor({ timeout: 20000 });
  step("actions", { rows: await rows.allInnerTexts() });
  await choose("Start Server");

  // Starting it shows its output channel, "MCP: deepeval", where VS Code logs the tools it found
  // (Monaco renders the spaces as U+00A0, which \s matches).
  const output = page.locator(".part.panel .monaco-editor .view-lines");
  await output.filter({ hasText: /Discovered\s\d+\stools/ }).first().waitFor({ timeout: 90000 });
  step("output", { text: (await output.first().innerText()).replace(/\u00a0/g, " ") });
  await shot("mcp-2-started");

  await runCommand("MCP: List Servers");
  await rows.filter({ hasText: "deepeval" }).first().waitFor({ timeout: 20000 });
  step("running", { rows: await rows.allInnerTexts() });
  await shot("mcp-3-running");
  await page.keyboard.press("Escape");
};

await drive(url, artifacts, "mcp-failure", scenario);
