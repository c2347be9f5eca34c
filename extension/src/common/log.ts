// One output channel for the extension and its server (the language client writes to it too).

import * as vscode from "vscode";

let channel: vscode.LogOutputChannel | undefined;

export function createChannel(name: string): vscode.LogOutputChannel {
  channel = vscode.window.createOutputChannel(name, { log: true });
  return channel;
}

export function info(message: string): void {
  channel?.info(message);
}

export function warn(message: string): void {
  channel?.warn(message);
}

export function error(message: string): void {
  channel?.error(message);
}
