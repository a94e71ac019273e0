import { defineApp } from "convex/server";
import authz from "convex-opskit/authz/convex.config";
import auditLog from "convex-opskit/auditLog/convex.config";
import migrations from "convex-opskit/migrations/convex.config";
import rateLimiter from "convex-opskit/rateLimiter/convex.config";

const app = defineApp();
app.use(authz);
app.use(auditLog);
app.use(migrations);
app.use(rateLimiter);

export default app;
