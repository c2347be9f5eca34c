// Start, stop and restart the language client that runs `python -m deepeval_lsp serve --stdio`.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { SECTION, SERVER_MODULE, SERVER_NAME, STATUS_NOTIFICATION } from "./constants";
import { findInterpreter } from "./python";
import { serverSettings } from "./settings";
import * as log from "./log";

export interface ServerStatus {
  uri: string;
  version: number | null;
  state: "ok" | "error" | "idle";
  text: string;
  final: boolean;
}

export async function startServer(
  channel: vscode.LogOutputChannel,
  onStatus: (status: ServerStatus) => void,
): Promise<LanguageClient | undefined> {
  const interpreter = await findInterpreter(vscode.window.activeTextEditor?.document.uri);
  log.info(`starting the server with ${interpreter.command} (${interpreter.source})`);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const serverOptions: ServerOptions = {
    command: interpreter.command,
    // The client adds --stdio for TransportKind.stdio.
    args: ["-m", SERVER_MODULE, "serve"],
    transport: TransportKind.stdio,
    options: { cwd: folder, env: { ...process.env, PYTHONUNBUFFERED: "1" } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
      // Python cells of Jupyter notebooks: synced as notebooks (the server declares
      // notebookDocumentSync), so the server checks a notebook's cells together.
      { notebook: "jupyter-notebook", language: "python" },
    ],
    outputChannel: channel,
    traceOutputChannel: channel,
    initializationOptions: { settings: serverSettings() },
    middleware: {
      workspace: {
        // Answer the server's workspace/configuration with the trust-adjusted settings.
        configuration: (params) =>
          params.items.map((item) =>
            item.section === SECTION
              ? serverSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
              : vscode.workspace.getConfiguration(item.section).get(""),
          ),
      },
    },
  };
  const client = new LanguageClient(SECTION, SERVER_NAME, serverOptions, clientOptions);
  client.onDidChangeState((event) => {
    if (event.newState === State.Stopped) {
      log.warn("the server stopped");
    }
  });
  // Registered before start so that the first document's status is not missed.
  client.onNotification(STATUS_NOTIFICATION, onStatus);
  try {
    await client.start();
  } catch (e) {
    const hint =
      interpreter.source === "default"
        ? " Set deepeval.pythonPath to a Python that has the deepeval-lsp package."
        : ` Install deepeval-lsp into ${interpreter.command}.`;
    vscode.window.showErrorMessage(`deepeval: the language server did not start: ${e}.${hint}`);
    log.error(`the server did not start: ${e}`);
    return undefined;
  }
  return client;
}

export async function stopServer(client: LanguageClient | undefined): Promise<void> {
  if (!client) {
    return;
  }
  try {
    await client.stop(2000);
  } catch (e) {
    log.warn(`stopping the server: ${e}`);
  }
}

/** Push the current settings to a running server (it also pulls them on its own). */
export function pushSettings(client: LanguageClient | undefined): void {
  if (client?.isRunning()) {
    client.sendNotification("workspace/didChangeConfiguration", {
      settings: { [SECTION]: serverSettings() },
    });
  }
}
