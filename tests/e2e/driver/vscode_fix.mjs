// Drives real VS Code (code-server) in headless Chromium through the quick-fix scenario:
// open a PyTorch file with a wrong nn.Linear in_features, wait for the squiggle, read the
// Problems panel, press Ctrl+. for the quick fix, apply it, wait for the squiggle to go.
// Usage: node vscode_fix.mjs URL FILE_NAME ARTIFACT_DIR
// Prints one JSON object (the steps seen) and exits 0 when every step passed.
import { drive } from "./workbench.mjs";

const [url, fileName, artifacts] = process.argv.slice(2);

await drive(url, artifacts, "failure", async ({ page, step, shot, openFile, quickFix }) => {
  await openFile(fileName);

  // The server starts, the dynamic check builds the model: the error squiggle appears.
  await page.waitForSelector(".monaco-editor .squiggly-error", { timeout: 120000 });
  step("squiggle", { count: await page.locator(".monaco-editor .squiggly-error").count() });
  await shot("1-squiggle");

  // The Problems panel lists it with its code.
  await page.keyboard.press("Control+Shift+M");
  const row = page.locator(".markers-panel .monaco-list-row", { hasText: "DL301" }).first();
  await row.waitFor({ timeout: 20000 });
  step("problems", { rows: await page.locator(".markers-panel .monaco-list-row").allInnerTexts() });
  await shot("2-problems");

  // Ctrl+. on the problem: the verified fix of in_features, taken.
  await quickFix(page.locator(".monaco-editor .view-lines").first(), "in_features", "3-quick-fix");

  // The edit is applied, the server re-checks, the squiggle goes away.
  await page.waitForFunction(
    () => document.querySelectorAll(".monaco-editor .squiggly-error").length === 0,
    null, { timeout: 60000 },
  );
  const text = await page.locator(".monaco-editor .view-lines").first().innerText();
  step("fixed", { text: text.replace(/\u00a0/g, " ") });
  await shot("4-fixed");
});
