import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
// Chains new audit operations by hash, off the append path.
crons.interval("seal audit log", { seconds: 30 }, internal.auditJobs.seal);
export default crons;
