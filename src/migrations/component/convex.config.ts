import { defineComponent } from "convex/server";

const component = defineComponent("migrations");

export default component;
