// Names shared by the extension's modules: the server's module, commands and notifications.

export const EXTENSION_ID = "deepeval.deepeval-lsp";
export const SECTION = "deepeval";
export const SERVER_NAME = "deepeval";
export const SERVER_MODULE = "deepeval_lsp";
export const PYTHON_EXTENSION_ID = "ms-python.python";
// The MCP server definition provider (contributes.mcpServerDefinitionProviders).
export const MCP_PROVIDER_ID = "deepeval.mcp";

export const STATUS_NOTIFICATION = "deepeval/status";

// Commands the server executes (workspace/executeCommand).
export const SERVER_MODEL_SUMMARY = "deepeval.server.modelSummary";
export const SERVER_CHECK_WORKSPACE = "deepeval.server.checkWorkspace";

// Commands the extension contributes.
export const CMD_RESTART = "deepeval.restartServer";
export const CMD_MODEL_SUMMARY = "deepeval.showModelSummary";
export const CMD_CHECK_WORKSPACE = "deepeval.checkWorkspace";
