// What every VS Code scenario shares: headless Chromium on code-server's workbench, a record of
// the steps seen (printed as one JSON object), screenshots, opening a file, running a command.
import { chromium } from "playwright-core";

// Runs `scenario({ page, step, shot, openFile, runCommand, quickFix })` against the workbench at
// `url`; prints the steps and exits 0 when the scenario returned, 1 (with a screenshot named
// `failureShot`) when it threw.
export async function drive(url, artifacts, failureShot, scenario) {
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

  // Quick Open (Ctrl+P), the file's name, Enter: the editor shows it.
  const openFile = async (fileName) => {
    await page.keyboard.press("Control+P");
    await page.waitForSelector(".quick-input-widget input", { timeout: 20000 });
    await page.keyboard.type(fileName);
    await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${fileName}"]`, {
      timeout: 20000,
    });
    await page.keyboard.press("Enter");
    await page.waitForSelector(".monaco-editor .view-lines", { timeout: 20000 });
    step("opened");
  };
  // The command palette (F1), the command's title, Enter.
  const runCommand = async (title) => {
    await page.keyboard.press("F1");
    await page.waitForSelector(".quick-input-widget input", { timeout: 20000 });
    await page.keyboard.type(title);
    await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first()
      .waitFor({ timeout: 20000 });
    await page.keyboard.press("Enter");
  };

  // In the editor whose lines are `lines`: the cursor on its problem (F8, the peek closed),
  // Ctrl+. for the quick fixes, the one whose title has `title` taken; `name` is the screenshot
  // of the menu.
  const quickFix = async (lines, title, name) => {
    await lines.click();
    await page.keyboard.press("F8");
    await page.waitForTimeout(300);
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+.");
    const fix = page.locator(".action-widget .monaco-list-row", { hasText: title }).first();
    await fix.waitFor({ timeout: 20000 });
    const items = await page.locator(".action-widget .monaco-list-row").allInnerTexts();
    step("quick fixes", { items });
    await shot(name);
    // The menu opens with its first item focused; walk down to the fix and take it.
    const index = items.findIndex((item) => item.includes(title));
    for (let i = 0; i < index; i++) {
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Enter");
  };

  try {
    await page.goto(url);
    await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
    step("workbench");
    await scenario({ page, step, shot, openFile, runCommand, quickFix });
    result.ok = true;
  } catch (e) {
    result.error = String(e && e.stack ? e.stack : e);
    await shot(failureShot).catch(() => {});
  } finally {
    await browser.close();
    process.stdout.write(JSON.stringify(result) + "\n");
    process.exit(result.ok ? 0 : 1);
  }
}
