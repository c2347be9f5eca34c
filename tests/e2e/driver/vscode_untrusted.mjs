// In an untrusted workspace (restricted mode) the extension runs the static checks only: the
// static squiggle appears, no shape error comes, and the model summary says dynamic checks are
// off. Usage: node vscode_untrusted.mjs URL FILE_NAME ARTIFACT_DIR
// Prints one JSON object (the steps seen) and exits 0 when every step passed.
import { chromium } from "playwright-core";

const [url, fileName, artifacts] = process.argv.slice(2);
const result = { steps: [], ok: false };
const t0 = Date.now();
const step = (name, data = {}) => result.steps.push({ name, ms: Date.now() - t0, ...data });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const shot = (name) => page.screenshot({ path: `${artifacts}/${name}.png` });
const runCommand = async (title) => {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget input", { timeout: 20000 });
  await page.keyboard.type(title);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first()
    .waitFor({ timeout: 20000 });
  await page.keyboard.press("Enter");
};
try {
  await page.goto(url);
  await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
  step("workbench");
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { timeout: 20000 });
  await page.keyboard.type(fileName);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${fileName}"]`, {
    timeout: 20000,
  });
  await page.keyboard.press("Enter");
  await page.waitForSelector(".monaco-editor .view-lines", { timeout: 20000 });
  step("opened");

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
  result.ok = true;
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
  await shot("untrusted-failure").catch(() => {});
} finally {
  await browser.close();
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(result.ok ? 0 : 1);
}
