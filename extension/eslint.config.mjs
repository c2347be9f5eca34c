// Lint rules for the extension's TypeScript (flat config).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["out/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.ts"],
    rules: {
      eqeqeq: "error",
      curly: "error",
      "no-console": "error",
      "@typescript-eslint/no-floating-promises": "off",
    },
  },
);
