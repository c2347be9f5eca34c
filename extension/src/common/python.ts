// Which Python runs the server: our own setting, else the Python extension's interpreter when
// that extension is installed (optional: we never depend on it), else python3 from PATH.

import * as vscode from "vscode";
import { PYTHON_EXTENSION_ID } from "./constants";
import { pythonPathSetting } from "./settings";
import * as log from "./log";

// The small part of the Python extension's API we use.
interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(
      env: { path: string } | string,
    ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

export interface Interpreter {
  command: string;
  source: "setting" | "python extension" | "default";
}

async function pythonExtensionApi(): Promise<PythonEnvironmentsApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonEnvironmentsApi>(PYTHON_EXTENSION_ID);
  if (!extension) {
    return undefined;
  }
  try {
    return extension.isActive ? extension.exports : await extension.activate();
  } catch (e) {
    log.warn(`the Python extension did not activate: ${e}`);
    return undefined;
  }
}

export async function findInterpreter(resource?: vscode.Uri): Promise<Interpreter> {
  const configured = pythonPathSetting();
  if (configured) {
    return { command: configured, source: "setting" };
  }
  const api = await pythonExtensionApi();
  const envs = api?.environments;
  if (envs) {
    try {
      const active = envs.getActiveEnvironmentPath(resource);
      const resolved = active ? await envs.resolveEnvironment(active) : undefined;
      const executable = resolved?.executable.uri?.fsPath;
      if (executable) {
        return { command: executable, source: "python extension" };
      }
    } catch (e) {
      log.warn(`could not ask the Python extension for its interpreter: ${e}`);
    }
  }
  return { command: "python3", source: "default" };
}

/** Calls `listener` when the Python extension's chosen interpreter changes (if it is there). */
export async function onInterpreterChange(
  listener: () => void,
): Promise<vscode.Disposable | undefined> {
  const api = await pythonExtensionApi();
  return api?.environments?.onDidChangeActiveEnvironmentPath(() => listener());
}
