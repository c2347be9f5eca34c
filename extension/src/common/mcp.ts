// The MCP server definition for VS Code's agent mode: `python -m deepeval_lsp mcp`, with the
// workspace folders as its roots. Offered only in trusted workspaces (its tools build the model,
// which is user code) and while `deepeval.mcp.enabled` is on.

import * as vscode from "vscode";
import { MCP_PROVIDER_ID, SECTION, SERVER_MODULE } from "./constants";
import { findInterpreter } from "./python";
import * as log from "./log";

// The part of VS Code's MCP API (1.101+) used here, declared locally: the @types/vscode this
// extension builds against predates it, and older VS Code lacks it (then nothing is offered).
interface McpStdioServerDefinition {
  label: string;
  command: string;
  args: string[];
  cwd?: vscode.Uri;
  env: Record<string, string | number | null>;
  version?: string;
}
type McpStdioServerDefinitionClass = new (
  label: string,
  command: string,
  args?: string[],
  env?: Record<string, string | number | null>,
  version?: string,
) => McpStdioServerDefinition;
interface McpServerDefinitionProvider {
  readonly onDidChangeMcpServerDefinitions?: vscode.Event<void>;
  provideMcpServerDefinitions(
    token: vscode.CancellationToken,
  ): vscode.ProviderResult<McpStdioServerDefinition[]>;
}
interface McpApi {
  lm?: {
    registerMcpServerDefinitionProvider?(
      id: string,
      provider: McpServerDefinitionProvider,
    ): vscode.Disposable;
  };
  McpStdioServerDefinition?: McpStdioServerDefinitionClass;
}

export const MCP_LABEL = "deepeval";

/** Whether the MCP server is offered now: the setting on, and the workspace trusted. */
export function mcpEnabled(): boolean {
  return (
    vscode.workspace.isTrusted &&
    vscode.workspace.getConfiguration(SECTION).get<boolean>("mcp.enabled", true)
  );
}

/** The command line of the MCP server: the server's Python, the workspace folders as roots. */
export function mcpArgs(folders: readonly string[], timeoutMs: number): string[] {
  const args = ["-m", SERVER_MODULE, "mcp"];
  for (const folder of folders) {
    args.push("--root", folder);
  }
  args.push("--timeout", String(timeoutMs / 1000));
  return args;
}

/**
 * Registers the provider of the MCP server definition; undefined where VS Code has no MCP API.
 * `changed` fires the provider's change event (settings, trust, folders or interpreter changed).
 */
export function registerMcpServer(
  version: string,
): { disposable: vscode.Disposable; changed: () => void } | undefined {
  const api = vscode as unknown as McpApi;
  const register = api.lm?.registerMcpServerDefinitionProvider;
  const Definition = api.McpStdioServerDefinition;
  if (!register || !Definition) {
    log.info("this VS Code has no MCP server API: the deepeval MCP server is not offered");
    return undefined;
  }
  const emitter = new vscode.EventEmitter<void>();
  const provider: McpServerDefinitionProvider = {
    onDidChangeMcpServerDefinitions: emitter.event,
    provideMcpServerDefinitions: async () => {
      if (!mcpEnabled()) {
        return [];
      }
      const interpreter = await findInterpreter(vscode.window.activeTextEditor?.document.uri);
      const folders = (vscode.workspace.workspaceFolders ?? [])
        .filter((f) => f.uri.scheme === "file")
        .map((f) => f.uri.fsPath);
      const timeoutMs = vscode.workspace.getConfiguration(SECTION).get<number>("timeoutMs", 10000);
      const server = new Definition(
        MCP_LABEL,
        interpreter.command,
        mcpArgs(folders, timeoutMs),
        { PYTHONUNBUFFERED: "1" },
        version,
      );
      if (folders.length > 0) {
        server.cwd = vscode.Uri.file(folders[0]);
      }
      return [server];
    },
  };
  let registration: vscode.Disposable;
  try {
    registration = register.call(api.lm, MCP_PROVIDER_ID, provider);
  } catch (e) {
    // an editor whose MCP API is gated (a proposed API, a policy): the checks themselves go on
    log.info(`the deepeval MCP server is not offered: ${e instanceof Error ? e.message : e}`);
    emitter.dispose();
    return undefined;
  }
  return {
    disposable: vscode.Disposable.from(registration, emitter),
    changed: () => emitter.fire(),
  };
}
