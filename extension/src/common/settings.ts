// The settings the server receives: the `deepeval` section, with dynamic checks forced off in
// untrusted workspaces (the model is user code: it must not be built there).

import * as vscode from "vscode";
import { SECTION } from "./constants";

export interface ServerSettings {
  dynamicChecks: boolean;
  debounceMs: number;
  timeoutMs: number;
  inputShape: string | number[] | null;
  framework: "auto" | "torch" | "keras";
}

export function serverSettings(scope?: vscode.ConfigurationScope): ServerSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    dynamicChecks: vscode.workspace.isTrusted && config.get<boolean>("dynamicChecks", true),
    debounceMs: config.get<number>("debounceMs", 300),
    timeoutMs: config.get<number>("timeoutMs", 10000),
    inputShape: config.get<string | number[] | null>("inputShape", null),
    framework: config.get<"auto" | "torch" | "keras">("framework", "auto"),
  };
}

export function pythonPathSetting(): string {
  return vscode.workspace.getConfiguration(SECTION).get<string>("pythonPath", "").trim();
}

/** Whether a configuration change needs a new server process (not only new settings). */
export function needsRestart(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.pythonPath`);
}
