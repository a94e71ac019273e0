// Ported from get-convex/migrations 0.3.6 (commit 35e143e),
// example/convex/setup.test.ts. Apache-2.0, Copyright Convex, Inc.
// Changed: the component is registered from convex-opskit/test; the file is
// not a test file here (its placeholder test is dropped).
/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import opskit from "convex-opskit/test";
import schema from "./schema.js";

const modules = import.meta.glob("./**/*.*s");
// When users want to write tests that use your component, they need to
// explicitly register it with its schema and modules.
export function initConvexTest() {
  const t = convexTest(schema, modules);
  opskit.migrations.register(t);
  return t;
}
