export { gradients } from "./reverse";
