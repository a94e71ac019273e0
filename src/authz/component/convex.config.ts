import { defineComponent } from "convex/server";

const component = defineComponent("authz");

export default component;
