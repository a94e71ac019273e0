// convex/convex.config.ts
import { defineApp } from "convex/server";
import migrations from "convex-opskit/migrations/convex.config";

const app = defineApp();
app.use(migrations);

export default app;
