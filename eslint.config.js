import convexPlugin from "@convex-dev/eslint-plugin";
import tseslint from "typescript-eslint";

const [convexRecommended] = convexPlugin.configs.recommended;

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
);
