// Wires the extension together: output channel, status bar, commands, and the language client.

import * as vscode from "vscode";
import { LanguageClient } from "vscode-languageclient/node";
import {
  CMD_CHECK_WORKSPACE,
  CMD_MODEL_SUMMARY,
  CMD_RESTART,
  SECTION,
  SERVER_CHECK_WORKSPACE,
  SERVER_MODEL_SUMMARY,
} from "./common/constants";
import * as log from "./common/log";
import { registerMcpServer } from "./common/mcp";
import { onInterpreterChange } from "./common/python";
import { pushSettings, ServerStatus, startServer, stopServer } from "./common/server";
import { needsRestart } from "./common/settings";

let client: LanguageClient | undefined;
let restarting: Promise<void> | undefined;
const statuses = new Map<string, ServerStatus>();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = log.createChannel("deepeval");
  context.subscriptions.push(channel);

  const statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  statusItem.command = CMD_MODEL_SUMMARY;
  context.subscriptions.push(statusItem);
  const showStatus = (): void => {
    const uri = vscode.window.activeTextEditor?.document.uri.toString();
    const status = uri ? statuses.get(uri) : undefined;
    if (!status) {
      statusItem.hide();
      return;
    }
    const icon = status.state === "error" ? "$(error)" : "$(check)";
    statusItem.text = `${icon} deepeval`;
    statusItem.tooltip = status.text;
    statusItem.show();
  };
  const onStatus = (status: ServerStatus): void => {
    statuses.set(status.uri, status);
    showStatus();
  };

  const restart = async (): Promise<void> => {
    if (restarting) {
      return restarting;
    }
    restarting = (async () => {
      await stopServer(client);
      client = await startServer(channel, onStatus);
    })().finally(() => {
      restarting = undefined;
    });
    return restarting;
  };

  // The checkers as MCP tools for VS Code's agent mode (trusted workspaces, deepeval.mcp.enabled).
  const mcp = registerMcpServer(String(context.extension.packageJSON.version ?? ""));
  if (mcp) {
    context.subscriptions.push(
      mcp.disposable,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (
          event.affectsConfiguration(`${SECTION}.mcp.enabled`) ||
          event.affectsConfiguration(`${SECTION}.pythonPath`) ||
          event.affectsConfiguration(`${SECTION}.timeoutMs`)
        ) {
          mcp.changed();
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => mcp.changed()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => mcp.changed()),
    );
  }

  context.subscriptions.push(
    vscode.commands.registerCommand(CMD_RESTART, restart),
    vscode.commands.registerCommand(CMD_MODEL_SUMMARY, () => showModelSummary()),
    vscode.commands.registerCommand(CMD_CHECK_WORKSPACE, () => checkWorkspace()),
    vscode.window.onDidChangeActiveTextEditor(showStatus),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart(event)) {
        restart();
      } else if (event.affectsConfiguration(SECTION)) {
        pushSettings(client);
      }
    }),
    // Trust turns dynamic checks on: the settings the server gets change.
    vscode.workspace.onDidGrantWorkspaceTrust(() => pushSettings(client)),
    { dispose: () => void stopServer(client) },
  );
  const interpreterWatch = await onInterpreterChange(() => {
    restart();
    mcp?.changed();
  });
  if (interpreterWatch) {
    context.subscriptions.push(interpreterWatch);
  }
  await restart();
}

export async function deactivate(): Promise<void> {
  await stopServer(client);
  client = undefined;
}

async function showModelSummary(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!client || !editor) {
    vscode.window.showInformationMessage("deepeval: open a Python file to see its model summary.");
    return;
  }
  const result = (await client.sendRequest("workspace/executeCommand", {
    command: SERVER_MODEL_SUMMARY,
    arguments: [editor.document.uri.toString()],
  })) as { text: string };
  const doc = await vscode.workspace.openTextDocument({ content: result.text, language: "plaintext" });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}

async function checkWorkspace(): Promise<void> {
  if (!client) {
    return;
  }
  const result = (await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "deepeval: checking the workspace" },
    () =>
      client!.sendRequest("workspace/executeCommand", {
        command: SERVER_CHECK_WORKSPACE,
        arguments: [],
      }),
  )) as { files: number; diagnostics: number };
  vscode.window.showInformationMessage(
    `deepeval: ${result.files} files checked, ${result.diagnostics} problems.`,
  );
}
