// Drives real VS Code (code-server) in headless Chromium through the quick-fix scenario in its
// own notebook editor (the built-in ipynb support, no Jupyter extension, no kernel): open a
// notebook whose model cell has a wrong nn.Linear in_features, wait for the squiggle, note the
// cell it is in, press Ctrl+. there for the quick fix, apply it, wait for the squiggle to go.
// Usage: node vscode_notebook.mjs URL FILE_NAME ARTIFACT_DIR
// Prints one JSON object (the steps seen) and exits 0 when every step passed.
import { drive } from "./workbench.mjs";

const [url, fileName, artifacts] = process.argv.slice(2);

// The notebook's cells are the rows of its list; each row knows its cell's index.
const CELL = ".notebook-editor .monaco-list-row[data-index]";
const SQUIGGLE = ".monaco-editor .squiggly-error";

await drive(url, artifacts, "notebook-failure", async ({ page, step, shot, openFile, quickFix }) => {
  await openFile(fileName);
  await page.waitForSelector(`${CELL} .monaco-editor .view-lines`, { timeout: 30000 });

  // The server checks the cells as one program; the error squiggle appears in the model's cell.
  await page.waitForSelector(`${CELL} ${SQUIGGLE}`, { timeout: 120000 });
  const cells = await page.locator(CELL, { has: page.locator(SQUIGGLE) })
    .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-index"))));
  step("squiggle", { cells });
  await shot("notebook-1-squiggle");

  // Ctrl+. on the problem, in that cell's editor: the fix of in_features, taken.
  const cell = page.locator(CELL, { has: page.locator(SQUIGGLE) }).first();
  await quickFix(cell.locator(".monaco-editor .view-lines").first(), "in_features",
    "notebook-2-quick-fix");

  // The cell is edited, the server re-checks the notebook, the squiggle goes away.
  await page.waitForFunction(
    (sel) => document.querySelectorAll(sel).length === 0,
    `${CELL} ${SQUIGGLE}`, { timeout: 60000 },
  );
  const texts = await page.locator(CELL).evaluateAll((rows) => rows.map((r) => ({
    cell: Number(r.getAttribute("data-index")),
    text: (r.querySelector(".monaco-editor .view-lines")?.innerText ?? "").replace(/\u00a0/g, " "),
  })));
  step("fixed", { cells: texts });
  await shot("notebook-3-fixed");
});
