// `gradc/rollup`: the gradc plugin for Rollup.
import type { Plugin as RollupPlugin } from "rollup";
import { gradcPlugin, type GradcPluginOptions } from "./unplugin";

export type { GradcPluginOptions } from "./unplugin";
export const gradc = gradcPlugin.rollup as (options?: GradcPluginOptions) => RollupPlugin;
export default gradc;
