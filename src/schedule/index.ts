export { planFunction, isFlat, type Plan, type PlanRoots } from "./plan";
