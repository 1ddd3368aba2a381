export { planFunction, type Plan, type PlanRoots } from "./plan";
