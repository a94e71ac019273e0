import convexPlugin from "@convex-dev/eslint-plugin";
import tseslint from "typescript-eslint";

const [convexRecommended] = convexPlugin.configs.recommended;
const testImportMessage =
  "Import the public API from `convex-opskit/<entry>`, internals from test/internal.ts (add a re-export there).";

export default tseslint.config(
  { ignores: ["**/_generated/**", "dist/**", "node_modules/**", "**/*.d.ts"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          caughtErrorsIgnorePattern: "^_",
        },
      ],
    },
  },
  // Convex's recommended rules for the app and for every component's functions.
  {
    ...convexRecommended,
    files: ["convex/**/*.ts", "src/*/component/**/*.ts"],
  },
  // The example app: public functions only through the authz builders.
  {
    files: ["convex/**/*.ts"],
    ignores: ["convex/authz.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            {
              name: "./_generated/server",
              importNames: ["query", "mutation", "action", "httpAction"],
              message:
                "Build public functions with userQuery/userMutation/userAction from ./authz (or adminMutation from ./audit) so every call is authenticated and authorized.",
            },
          ],
        },
      ],
    },
  },
  // Tests import as users do: the public API by package name
  // (`convex-opskit/<entry>`), internals only through test/internal.ts. Not
  // imports, so not caught: `import.meta.glob` of component modules (e.g.
  // test/hostile/harness.ts) and `typeof import(...)` types.
  {
    files: ["test/**/*.ts", "test/**/*.tsx"],
    ignores: ["test/internal.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/src/**"],
              message: testImportMessage,
            },
          ],
        },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportExpression > Literal[value=/(^|\\/)src\\//]",
          message: testImportMessage,
        },
      ],
    },
  },
);
