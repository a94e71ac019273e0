import { defineComponent } from "convex/server";

const component = defineComponent("rateLimiter");

export default component;
