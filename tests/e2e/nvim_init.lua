-- Neovim 0.7 as an LSP client of deepeval-lsp: open a file, record what the server publishes,
-- ask for code actions on the first diagnostic, apply the preferred one, record the outcome.
-- Filled in by test_neovim.py: CMD (list), ROOT, FILE, OUT.
local out = assert(io.open(OUT, "w"))
local function record(kind, data)
  out:write(vim.fn.json_encode({ kind = kind, data = data }) .. "\n")
  out:flush()
end
local function finish(code)
  record("done", { code = code })
  out:close()
  vim.cmd("qall!")
end

local published = {}
local settings = { deepeval = { dynamicChecks = false, debounceMs = 50 } }
local client_id = vim.lsp.start_client({
  cmd = CMD,
  name = "deepeval",
  root_dir = ROOT,
  init_options = { settings = settings.deepeval },
  settings = settings,
  handlers = {
    ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
      record("publish", result)
      table.insert(published, result)
      vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
    end,
    ["deepeval/status"] = function(_, result)
      record("status", result)
    end,
  },
})
if not client_id then
  record("error", "the server did not start")
  return finish(1)
end

vim.cmd("edit " .. FILE)
vim.lsp.buf_attach_client(0, client_id)

local function wait_publish(pred)
  return vim.wait(30000, function()
    local last = published[#published]
    return last ~= nil and pred(last)
  end, 20)
end

if not wait_publish(function(p) return #p.diagnostics > 0 end) then
  record("error", "no diagnostics published")
  return finish(1)
end
local diag = published[#published].diagnostics[1]
local params = {
  textDocument = { uri = vim.uri_from_bufnr(0) },
  range = diag.range,
  context = { diagnostics = { diag } },
}
local responses = vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 20000) or {}
local actions = {}
for _, response in pairs(responses) do
  for _, action in ipairs(response.result or {}) do
    table.insert(actions, action)
  end
end
record("actions", actions)
local chosen
for _, action in ipairs(actions) do
  if action.kind == "quickfix" and action.isPreferred then
    chosen = action
  end
end
if not chosen then
  record("error", "no preferred quick fix")
  return finish(1)
end
local before = #published
-- Applying the edit changes the buffer; Neovim sends the server an incremental didChange.
vim.lsp.util.apply_workspace_edit(chosen.edit, "utf-16")
if not wait_publish(function(p) return #published > before and #p.diagnostics == 0 end) then
  record("error", "the diagnostic did not go away after the fix")
  return finish(1)
end
record("buffer", vim.api.nvim_buf_get_lines(0, 0, -1, false))
vim.lsp.stop_client(client_id)
finish(0)
