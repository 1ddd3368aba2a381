// `gradc/vite`: the gradc plugin for Vite (build and dev server).
import type { Plugin as VitePlugin } from "vite";
import { gradcPlugin, type GradcPluginOptions } from "./unplugin";

export type { GradcPluginOptions } from "./unplugin";
export const gradc = gradcPlugin.vite as (options?: GradcPluginOptions) => VitePlugin;
export default gradc;
